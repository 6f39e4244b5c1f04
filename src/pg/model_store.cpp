#include "pg/model_store.hpp"
#include "pg/args.hpp"
#include "pg/bulk_insert.hpp"
#include "pg/serving.hpp"
#include "pg/spi_session.hpp"

#include <cstring>

#include "core/key_id.hpp"

namespace rec::pg {

namespace {

// The text of a hashed id as a text datum, or 0 for integer ids (no dictionary).
Datum
key_datum(const KeyDictionary *keys, int64 id)
{
    if (keys == nullptr)
        return (Datum) 0;
    int32 length;
    const char *text = key_text(*keys, id, &length);
    if (text == nullptr)
        elog(ERROR, "id %lld has no recorded text", (long long) id);
    return PointerGetDatum(cstring_to_text_with_len(text, length));
}

Oid
model_table(const char *name)
{
    const Oid relid = get_relname_relid(name, get_namespace_oid("rec", false));
    if (!OidIsValid(relid))
        elog(ERROR, "pg_recommend's table rec.%s is missing. Please report a bug.", name);
    return relid;
}

// The version's row in rec.model_versions; returns its model_id.
int64
insert_version_row(const SpiSession &spi, const ModelToStore &m, int32 version)
{
    Oid types[] = {TEXTOID,   INT4OID,   TEXTOID, TEXTOID,   TEXTOID,   INT4OID, INT4OID, INT8OID, FLOAT8OID,
                   FLOAT4OID, FLOAT4OID, TEXTOID, FLOAT8OID, FLOAT8OID, OIDOID,  INT4OID, TEXTOID, FLOAT8OID,
                   TEXTOID,   TEXTOID,   TEXTOID, TEXTOID,   OIDOID,    OIDOID,  INT8OID, INT8OID};
    Datum values[] = {CStringGetTextDatum(m.name),
                      Int32GetDatum(version),
                      CStringGetTextDatum(m.algorithm),
                      CStringGetTextDatum(m.hyperparameters),
                      CStringGetTextDatum(m.source),
                      Int32GetDatum(int32(m.distributed ? m.distributed->users : m.data->user_ids.size())),
                      Int32GetDatum(int32(m.distributed ? m.distributed->items : m.data->item_ids.size())),
                      Int64GetDatum(int64(m.distributed ? m.distributed->nnz : m.data->nnz())),
                      Float8GetDatum(m.model->global_mean),
                      Float4GetDatum(m.rating_min),
                      Float4GetDatum(m.rating_max),
                      CStringGetTextDatum(m.model->train_metric),
                      Float8GetDatum(m.model->train_value),
                      Float8GetDatum(m.train_seconds),
                      ObjectIdGetDatum(spi.saved_user),
                      Int32GetDatum(m.model->iterations),
                      m.validation_metric ? CStringGetTextDatum(m.validation_metric) : (Datum) 0,
                      Float8GetDatum(m.validation_value),
                      m.learning_curve ? CStringGetTextDatum(m.learning_curve) : (Datum) 0,
                      CStringGetTextDatum(m.user_column),
                      CStringGetTextDatum(m.item_column),
                      m.rating_column ? CStringGetTextDatum(m.rating_column) : (Datum) 0,
                      ObjectIdGetDatum(m.user_type),
                      ObjectIdGetDatum(m.item_type),
                      Int64GetDatum(m.user_keys ? m.user_keys->total_bytes : 0),
                      Int64GetDatum(m.item_keys ? m.item_keys->total_bytes : 0)};
    const bool validated = m.validation_metric != nullptr;
    const char nulls[] = {' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          ' ',
                          validated ? ' ' : 'n',
                          validated ? ' ' : 'n',
                          validated ? ' ' : 'n',
                          ' ',
                          ' ',
                          m.rating_column ? ' ' : 'n',
                          ' ',
                          ' ',
                          ' ',
                          ' '};
    run_sql(spi,
            "INSERT INTO rec.model_versions (name, version, algorithm, hyperparameters, source, n_users, n_items, "
            "n_ratings, global_mean, rating_min, rating_max, train_metric, train_value, train_seconds, owner, "
            "iterations_run, validation_metric, validation_value, learning_curve, user_column, item_column, "
            "rating_column, user_type, item_type, user_key_bytes, item_key_bytes) "
            "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::regrole, $16, $17, "
            "$18, $19::jsonb, $20, $21, $22, $23::regtype, $24::regtype, $25, $26) RETURNING model_id",
            26, types, values, SPI_OK_INSERT_RETURNING, nulls);
    return DatumGetInt64(result_value(0, 1));
}

// rec.user_factors (model_id, user_id, bias, factors, seen_items, seen_values, revision, user_key).
void
insert_user_rows(int64 model_id, const ModelToStore &m)
{
    const int k = m.model->factors;
    const rec::core::SparseRows &by_user = m.data->by_user;
    int64 *seen = (int64 *) MemoryContextAllocHuge(CurrentMemoryContext,
                                                   sizeof(int64) * Max(m.data->item_ids.size(), (size_t) 1));
    BulkInsert *bulk = begin_user_rows();
    for (size_t u = 0; u < m.data->user_ids.size(); ++u)
    {
        const size_t begin = by_user.offsets[u], count = by_user.row_size(u);
        for (size_t j = 0; j < count; ++j)
            seen[j] = m.data->item_ids[size_t(by_user.columns[begin + j])];
        add_user_row(bulk, model_id, m.data->user_ids[u], m.model->user_bias[u],
                     m.model->user_factors.data() + u * size_t(k), k, seen, by_user.values.data() + begin, count,
                     m.user_keys);
    }
    end_bulk_insert(bulk);
    pfree(seen);
}

// rec.item_factors (model_id, item_id, bias, factors, n_ratings, revision, item_key).
void
insert_item_rows(int64 model_id, const ModelToStore &m)
{
    const int k = m.model->factors;
    const DistributedShape *d = m.distributed;
    const size_t items = d ? d->items : m.data->item_ids.size();
    BulkInsert *bulk = begin_bulk_insert(model_table("item_factors"));
    for (size_t i = 0; i < items; ++i)
    {
        const int64 item_id = d ? d->item_ids[i] : m.data->item_ids[i];
        TupleTableSlot *slot = next_bulk_slot(bulk);
        MemoryContext outer = MemoryContextSwitchTo(bulk_row_context(bulk));
        Datum *v = slot->tts_values;
        v[0] = Int64GetDatum(model_id);
        v[1] = Int64GetDatum(item_id);
        v[2] = Float4GetDatum(m.model->item_bias[i]);
        v[3] = float_array(m.model->item_factors.data() + i * size_t(k), size_t(k));
        v[4] = Int32GetDatum(d ? d->item_counts[i] : int32(m.data->by_item.row_size(i)));
        v[5] = Int32GetDatum(0);
        v[6] = key_datum(m.item_keys, item_id);
        MemoryContextSwitchTo(outer);
        memset(slot->tts_isnull, 0, sizeof(bool) * 7);
        slot->tts_isnull[6] = m.item_keys == nullptr;
        add_bulk_row(bulk);
    }
    end_bulk_insert(bulk);
}

// rec.item_weights (model_id, item_id, neighbours, weights): row i of an item-item model's weights,
// neighbours as item indexes (positions in item_id order), NULL for a dense row (every item in order).
void
insert_weight_rows(int64 model_id, const ModelToStore &m)
{
    const rec::core::ItemWeightsView w = m.weights->view();
    BulkInsert *bulk = begin_bulk_insert(model_table("item_weights"));
    for (size_t i = 0; i < w.items; ++i)
    {
        TupleTableSlot *slot = next_bulk_slot(bulk);
        MemoryContext outer = MemoryContextSwitchTo(bulk_row_context(bulk));
        Datum *v = slot->tts_values;
        v[0] = Int64GetDatum(model_id);
        v[1] = Int64GetDatum(m.data->item_ids[i]);
        if (w.dense())
        {
            v[2] = (Datum) 0;
            v[3] = float_array(w.weights + i * w.items, w.items);
        }
        else
        {
            const size_t begin = size_t(w.offsets[i]), count = size_t(w.offsets[i + 1] - w.offsets[i]);
            v[2] = integer_array(w.neighbours + begin, count);
            v[3] = float_array(w.weights + begin, count);
        }
        MemoryContextSwitchTo(outer);
        memset(slot->tts_isnull, 0, sizeof(bool) * 4);
        slot->tts_isnull[2] = w.dense();
        add_bulk_row(bulk);
        if ((i & 255) == 0)
            CHECK_FOR_INTERRUPTS();
    }
    end_bulk_insert(bulk);
}

}  // namespace

BulkInsert *
begin_user_rows()
{
    return begin_bulk_insert(model_table("user_factors"));
}

void
add_user_row(BulkInsert *bulk, int64 model_id, int64 user_id, float bias, const float *factors, int k,
             const int64 *seen, const float *seen_values, size_t count, const KeyDictionary *keys)
{
    TupleTableSlot *slot = next_bulk_slot(bulk);
    MemoryContext outer = MemoryContextSwitchTo(bulk_row_context(bulk));
    Datum *v = slot->tts_values;
    v[0] = Int64GetDatum(model_id);
    v[1] = Int64GetDatum(user_id);
    v[2] = Float4GetDatum(bias);
    v[3] = float_array(factors, size_t(k));
    v[4] = bigint_array(seen, count);
    v[5] = float_array(seen_values, count);
    v[6] = Int32GetDatum(0);
    v[7] = key_datum(keys, user_id);
    MemoryContextSwitchTo(outer);
    memset(slot->tts_isnull, 0, sizeof(bool) * 8);
    slot->tts_isnull[7] = keys == nullptr;
    add_bulk_row(bulk);
}

StoredVersion
store_model(const ModelToStore &m)
{
    StoredVersion out;
    const SpiSession spi = begin_spi(SpiRole::Owner);
    {
        Oid types[] = {TEXTOID};
        Datum values[] = {CStringGetTextDatum(m.name)};
        // A concurrent training of the same name fails on the unique key instead of sharing a version.
        run_sql(spi, "SELECT coalesce(max(version), 0) + 1 FROM rec.model_versions WHERE name = $1", 1, types, values,
                SPI_OK_SELECT);
        out.version = DatumGetInt32(result_value(0, 1));
    }
    out.model_id = insert_version_row(spi, m, out.version);
    // The factor rows as the extension owner too (the switch above): bulk inserts bypass SQL, so no
    // trigger, rule or policy of the tables applies to them either.
    if (m.distributed == nullptr)
        insert_user_rows(out.model_id, m);
    insert_item_rows(out.model_id, m);
    if (m.weights)
        insert_weight_rows(out.model_id, m);
    end_spi(spi);
    // The user rows of a distributed model come from the workers, read with the caller's rights.
    if (m.distributed)
        m.distributed->write_user_rows(out.model_id, m.distributed->arg);
    serving_changed();
    return out;
}

namespace {

// A plan kept for the backend's lifetime, prepared when first needed (a new session prepares only the
// one it uses: planning under the tables' row-level security is most of a first call's cost).
SPIPlanPtr
kept_plan(SPIPlanPtr *plan, const char *query, int nargs, Oid *types)
{
    if (*plan == nullptr)
    {
        SPIPlanPtr prepared = prepare_sql(query, nargs, types);
        SPI_keepplan(prepared);
        *plan = prepared;
    }
    return *plan;
}

}  // namespace

// The main deployment of a name (its newest with traffic 1 not rolled back) and, newer than it, the
// newest one with traffic < 1 (the challenger), with their versions and revisions, and the name.
#define DEPLOYMENT_QUERY(NAME, TRAFFIC)                                                                                \
    "WITH d AS (SELECT d.deployment_id, d.model_id, " TRAFFIC ", v.revision, v.version, d.name "                       \
    "FROM rec.deployments d JOIN rec.model_versions v USING (model_id) WHERE d.name = " NAME                           \
    " AND NOT d.rolled_back), m AS (SELECT * FROM d WHERE traffic >= 1 ORDER BY deployment_id DESC LIMIT 1) "          \
    "SELECT m.model_id, m.revision, m.version, c.model_id, c.revision, c.version, c.traffic, m.name FROM m "           \
    "LEFT JOIN LATERAL (SELECT * FROM d WHERE d.deployment_id > m.deployment_id "                                      \
    "ORDER BY d.deployment_id DESC LIMIT 1) c ON true"

#define NEWEST_NAME                                                                                                    \
    "(SELECT d.name FROM rec.deployments d JOIN rec.model_versions v USING (model_id) WHERE NOT d.rolled_back "        \
    "ORDER BY d.deployment_id DESC LIMIT 1)"

bool
deployments_have_traffic()
{
    const Oid table = get_relname_relid("deployments", get_namespace_oid("rec", false));
    return OidIsValid(table) && get_attnum(table, "traffic") != InvalidAttrNumber;
}

namespace {

// The row of DEPLOYMENT_QUERY in SPI's result, as a Deployment.
Deployment
deployment_from_result()
{
    Deployment d;
    d.main.model_id = DatumGetInt64(result_value(0, 1));
    d.main.revision = DatumGetInt32(result_value(0, 2));
    d.main.version = DatumGetInt32(result_value(0, 3));
    bool no_challenger;
    const Datum challenger = result_value(0, 4, &no_challenger);
    d.challenger = {0, 0, 0};
    d.traffic = 0;
    if (!no_challenger)
    {
        d.challenger.model_id = DatumGetInt64(challenger);
        d.challenger.revision = DatumGetInt32(result_value(0, 5));
        d.challenger.version = DatumGetInt32(result_value(0, 6));
        d.traffic = DatumGetFloat8(result_value(0, 7));
    }
    const text *served_name = DatumGetTextPP(result_value(0, 8));
    const int length = VARSIZE_ANY_EXHDR(served_name);
    d.name_hash = uint64(rec::core::key_id(VARDATA_ANY(served_name), size_t(length)));
    d.name[0] = '\0';
    if (length < kMaxServedName)
    {
        memcpy(d.name, VARDATA_ANY(served_name), size_t(length));
        d.name[length] = '\0';
    }
    return d;
}

}  // namespace

Deployment
find_deployment(const char *name)
{
    // [by name, newest] x [0.3.0's tables, older ones not updated yet: no A/B tests]
    static SPIPlanPtr plans[2][2] = {{nullptr, nullptr}, {nullptr, nullptr}}, any_version = nullptr;
    const int tables = deployments_have_traffic() ? 0 : 1;
    Oid types[] = {TEXTOID};
    const SpiSession spi = begin_spi(SpiRole::Caller, true);
    Datum values[] = {name ? CStringGetTextDatum(name) : (Datum) 0};
    if (name)
        execute_sql(spi,
                    kept_plan(&plans[0][tables],
                              tables == 0 ? DEPLOYMENT_QUERY("$1", "d.traffic")
                                          : DEPLOYMENT_QUERY("$1", "1::float8 AS traffic"),
                              1, types),
                    values, SPI_OK_SELECT);
    else
        execute_sql(spi,
                    kept_plan(&plans[1][tables],
                              tables == 0 ? DEPLOYMENT_QUERY(NEWEST_NAME, "d.traffic")
                                          : DEPLOYMENT_QUERY(NEWEST_NAME, "1::float8 AS traffic"),
                              0, nullptr),
                    values, SPI_OK_SELECT);
    if (SPI_processed == 0)
    {
        if (name == nullptr)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("no model has been trained yet"),
                            errhint("Train one with CALL rec.train(model => ..., source => ...).")));
        execute_sql(spi, kept_plan(&any_version, "SELECT 1 FROM rec.model_versions WHERE name = $1 LIMIT 1", 1, types),
                    values, SPI_OK_SELECT);
        if (SPI_processed == 0)
        {
            // None the caller may read: none at all, or none granted to the caller.
            end_spi(spi);
            const SpiSession owner = begin_spi(SpiRole::Owner);
            run_sql(owner, "SELECT 1 FROM rec.model_versions WHERE name = $1 LIMIT 1", 1, types, values, SPI_OK_SELECT);
            if (SPI_processed > 0)
                ereport(ERROR,
                        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for model \"%s\"", name),
                         errhint("Its owner can grant it: SELECT rec.grant('%s', role).", name)));
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", name),
                            errhint("SELECT name FROM rec.models lists the trained models.")));
        }
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("model \"%s\" has no deployed version", name),
                 errhint("Deploy one with SELECT rec.deploy('%s', version); rec.models lists the versions.", name)));
    }
    const Deployment d = deployment_from_result();
    end_spi(spi);
    return d;
}

Deployment
every_version_deployment(const char *name)
{
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {TEXTOID};
    Datum values[] = {CStringGetTextDatum(name)};
    run_sql(spi,
            deployments_have_traffic() ? DEPLOYMENT_QUERY("$1", "d.traffic")
                                       : DEPLOYMENT_QUERY("$1", "1::float8 AS traffic"),
            1, types, values, SPI_OK_SELECT);
    Deployment d{};
    if (SPI_processed > 0)
        d = deployment_from_result();
    end_spi(spi);
    return d;
}

TrainingSource
training_source(int64 model_id)
{
    MemoryContext caller_context = CurrentMemoryContext;
    const SpiSession spi = begin_spi(SpiRole::Owner, true);
    Oid types[] = {INT8OID};
    Datum args[] = {Int64GetDatum(model_id)};
    run_sql(spi, "SELECT source, user_column, item_column, rating_column FROM rec.model_versions WHERE model_id = $1",
            1, types, args, SPI_OK_SELECT);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("model version %lld no longer exists", (long long) model_id)));
    TrainingSource out;
    const char **fields[] = {&out.relation, &out.user_column, &out.item_column, &out.rating_column};
    for (int f = 0; f < 4; ++f)
    {
        bool isnull;
        const Datum value = result_value(0, f + 1, &isnull);
        *fields[f] = isnull ? nullptr : MemoryContextStrdup(caller_context, TextDatumGetCString(value));
    }
    end_spi(spi);
    return out;
}

void
update_rows(int64 model_id, const RowUpdate &u)
{
    const SpiSession spi = begin_spi(SpiRole::Owner);
    // The new revision first: the rows written below carry it, so a cached copy of the previous
    // revision can be patched with just them (patch_model_image).
    Oid version_types[] = {INT8OID, INT8OID, INT4OID, INT8OID};
    Datum version_args[] = {Int64GetDatum(model_id), Int64GetDatum(u.seen_delta), Int32GetDatum(u.added),
                            Int64GetDatum(u.key_bytes_delta)};
    run_sql(spi,
            u.items ? "UPDATE rec.model_versions SET revision = revision + 1, n_items = n_items + $3, "
                      "item_key_bytes = item_key_bytes + $4 WHERE model_id = $1 RETURNING revision"
                    : "UPDATE rec.model_versions SET revision = revision + 1, n_users = n_users + $3, "
                      "n_ratings = n_ratings + $2, user_key_bytes = user_key_bytes + $4 "
                      "WHERE model_id = $1 RETURNING revision",
            4, version_types, version_args, SPI_OK_UPDATE_RETURNING);
    const int32 revision = DatumGetInt32(result_value(0, 1));
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend row", ALLOCSET_SMALL_SIZES);
    SPIPlanPtr update, insert;
    if (u.items)
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT4OID, INT4OID, TEXTOID};
        update = prepare_sql("UPDATE rec.item_factors SET bias = $3, factors = $4, n_ratings = $5, revision = $6 "
                             "WHERE model_id = $1 AND item_id = $2",
                             6, types);
        insert = prepare_sql("INSERT INTO rec.item_factors (model_id, item_id, bias, factors, n_ratings, revision, "
                             "item_key) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                             7, types);
    }
    else
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT8ARRAYOID, FLOAT4ARRAYOID, INT4OID, TEXTOID};
        update = prepare_sql("UPDATE rec.user_factors SET bias = $3, factors = $4, seen_items = $5, "
                             "seen_values = $6, revision = $7 WHERE model_id = $1 AND user_id = $2",
                             7, types);
        insert = prepare_sql("INSERT INTO rec.user_factors (model_id, user_id, bias, factors, seen_items, "
                             "seen_values, revision, user_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                             8, types);
    }
    for (size_t r = 0; r < u.count; ++r)
    {
        MemoryContext outer = MemoryContextSwitchTo(row_context);
        Datum values[8] = {Int64GetDatum(model_id), Int64GetDatum(u.ids[r]), Float4GetDatum(u.bias[r]),
                           float_array(u.factors + r * size_t(u.k), size_t(u.k))};
        const Datum key = u.keys ? CStringGetTextDatum(u.keys[r]) : (Datum) 0;
        const int key_arg = u.items ? 6 : 7;
        if (u.items)
        {
            values[4] = Int32GetDatum(u.n_ratings[r]);
            values[5] = Int32GetDatum(revision);
        }
        else
        {
            const size_t begin = size_t(u.seen_offsets[r]), count = size_t(u.seen_offsets[r + 1]) - begin;
            values[4] = bigint_array(u.seen_ids + begin, count);
            values[5] = float_array(u.seen_values + begin, count);
            values[6] = Int32GetDatum(revision);
        }
        values[key_arg] = key;
        char nulls[8];
        memset(nulls, ' ', sizeof(nulls));
        nulls[key_arg] = u.keys ? ' ' : 'n';
        execute_sql(spi, update, values, SPI_OK_UPDATE, nulls);
        if (SPI_processed == 0)
            execute_sql(spi, insert, values, SPI_OK_INSERT, nulls);
        MemoryContextSwitchTo(outer);
        MemoryContextReset(row_context);
    }
    end_spi(spi);
    serving_changed();
}

}  // namespace rec::pg
