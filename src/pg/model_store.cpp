#include "pg/model_store.hpp"
#include "pg/safe_sql.hpp"

#include <algorithm>
#include <cstring>

#include "core/fold_in.hpp"

namespace rec::pg {

namespace {

// Brackets SPI work on the model tables: connected, with a pinned search_path and, for writes, as the
// extension owner. PostgreSQL-style: on error, the transaction's abort undoes all three.
struct SpiSession
{
    int search_path_level;
    Oid saved_user;
    int saved_security;
    bool as_owner;
};

SpiSession
begin_spi(bool as_owner)
{
    SpiSession s;
    s.as_owner = as_owner;
    GetUserIdAndSecContext(&s.saved_user, &s.saved_security);
    s.search_path_level = pin_search_path();
    if (as_owner)
        SetUserIdAndSecContext(extension_owner(),
                               s.saved_security | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    return s;
}

void
end_spi(const SpiSession &s)
{
    SPI_finish();
    if (s.as_owner)
        SetUserIdAndSecContext(s.saved_user, s.saved_security);
    restore_search_path(s.search_path_level);
}

void
execute(SPIPlanPtr plan, Datum *values, int expected)
{
    const int rc = SPI_execute_plan(plan, values, nullptr, false, 0);
    if (rc != expected)
        elog(ERROR, "pg_recommend model storage statement failed: %s", SPI_result_code_string(rc));
}

SPIPlanPtr
prepare(const char *query, int nargs, Oid *types)
{
    SPIPlanPtr plan = SPI_prepare(query, nargs, types);
    if (plan == nullptr)
        elog(ERROR, "could not prepare \"%s\": %s", query, SPI_result_code_string(SPI_result));
    return plan;
}

Datum
float_array(const float *values, int count)
{
    Datum *elems = (Datum *) palloc(sizeof(Datum) * Max(count, 1));
    for (int i = 0; i < count; ++i)
        elems[i] = Float4GetDatum(values[i]);
    return PointerGetDatum(construct_array(elems, count, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}

Datum
bigint_array(const int64 *values, size_t count)
{
    Datum *elems = (Datum *) palloc(sizeof(Datum) * Max(count, (size_t) 1));
    for (size_t i = 0; i < count; ++i)
        elems[i] = Int64GetDatum(values[i]);
    return PointerGetDatum(construct_array(elems, int(count), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
}

// The float4[] of a stored row, checked to hold exactly k values.
const float *
factor_values(Datum datum, int k, int64 model_id)
{
    ArrayType *array = DatumGetArrayTypeP(datum);
    if (ARR_NDIM(array) != 1 || ARR_HASNULL(array) || ARR_ELEMTYPE(array) != FLOAT4OID || ARR_DIMS(array)[0] != k)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("stored factors of model %lld do not have %d values", (long long) model_id, k),
                        errhint("Train the model again.")));
    return (const float *) ARR_DATA_PTR(array);
}

// YᵀY for folding users into an implicit model, computed once per load. The vector is gone before
// PostgreSQL is called again.
void
fill_gram(LoadedModel *m)
{
    const std::vector<float> gram = rec::core::gram_of(m->item_factors, size_t(m->n_items), m->k);
    memcpy(m->gram, gram.data(), sizeof(float) * gram.size());
}

}  // namespace

StoredVersion
store_model(const ModelToStore &m)
{
    const Oid caller = GetUserId();
    SpiSession spi = begin_spi(true);
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend row", ALLOCSET_SMALL_SIZES);
    StoredVersion out;
    {
        Oid types[] = {TEXTOID};
        Datum values[] = {CStringGetTextDatum(m.name)};
        // A concurrent training of the same name fails on the unique key instead of sharing a version.
        execute(prepare("SELECT coalesce(max(version), 0) + 1 FROM rec.model_versions WHERE name = $1", 1, types),
                values, SPI_OK_SELECT);
        bool isnull;
        out.version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
    {
        Oid types[] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, INT8OID, FLOAT8OID,
                       FLOAT4OID, FLOAT4OID, TEXTOID, FLOAT8OID, FLOAT8OID, OIDOID};
        Datum values[] = {CStringGetTextDatum(m.name),
                          Int32GetDatum(out.version),
                          CStringGetTextDatum(m.algorithm),
                          CStringGetTextDatum(m.hyperparameters),
                          CStringGetTextDatum(m.source),
                          Int32GetDatum(int32(m.data->user_ids.size())),
                          Int32GetDatum(int32(m.data->item_ids.size())),
                          Int64GetDatum(int64(m.data->nnz())),
                          Float8GetDatum(m.model->global_mean),
                          Float4GetDatum(m.rating_min),
                          Float4GetDatum(m.rating_max),
                          CStringGetTextDatum(m.model->train_metric),
                          Float8GetDatum(m.model->train_value),
                          Float8GetDatum(m.train_seconds),
                          ObjectIdGetDatum(caller)};
        execute(prepare("INSERT INTO rec.model_versions (name, version, algorithm, hyperparameters, source, "
                        "n_users, n_items, n_ratings, global_mean, rating_min, rating_max, train_metric, "
                        "train_value, train_seconds, owner) "
                        "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::regrole) "
                        "RETURNING model_id",
                        15, types),
                values, SPI_OK_INSERT_RETURNING);
        bool isnull;
        out.model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
    const int k = m.model->factors;
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT8ARRAYOID};
        SPIPlanPtr plan = prepare("INSERT INTO rec.user_factors (model_id, user_id, bias, factors, seen_items) "
                                  "VALUES ($1, $2, $3, $4, $5)",
                                  5, types);
        const auto &by_user = m.data->by_user;
        int64 *seen = (int64 *) palloc(sizeof(int64) * Max(m.data->item_ids.size(), (size_t) 1));
        for (size_t u = 0; u < m.data->user_ids.size(); ++u)
        {
            CHECK_FOR_INTERRUPTS();
            MemoryContext outer = MemoryContextSwitchTo(row_context);
            const size_t begin = by_user.offsets[u], count = by_user.row_size(u);
            for (size_t j = 0; j < count; ++j)
                seen[j] = m.data->item_ids[size_t(by_user.columns[begin + j])];
            Datum values[] = {Int64GetDatum(out.model_id), Int64GetDatum(m.data->user_ids[u]),
                              Float4GetDatum(m.model->user_bias[u]),
                              float_array(m.model->user_factors.data() + u * size_t(k), k),
                              bigint_array(seen, count)};
            execute(plan, values, SPI_OK_INSERT);
            MemoryContextSwitchTo(outer);
            MemoryContextReset(row_context);
        }
    }
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT4OID};
        SPIPlanPtr plan = prepare("INSERT INTO rec.item_factors (model_id, item_id, bias, factors, n_ratings) "
                                  "VALUES ($1, $2, $3, $4, $5)",
                                  5, types);
        for (size_t i = 0; i < m.data->item_ids.size(); ++i)
        {
            CHECK_FOR_INTERRUPTS();
            MemoryContext outer = MemoryContextSwitchTo(row_context);
            Datum values[] = {Int64GetDatum(out.model_id), Int64GetDatum(m.data->item_ids[i]),
                              Float4GetDatum(m.model->item_bias[i]),
                              float_array(m.model->item_factors.data() + i * size_t(k), k),
                              Int32GetDatum(int32(m.data->by_item.row_size(i)))};
            execute(plan, values, SPI_OK_INSERT);
            MemoryContextSwitchTo(outer);
            MemoryContextReset(row_context);
        }
    }
    end_spi(spi);
    return out;
}

int64
find_model(const char *name)
{
    // Called on every recommend(): the plans are prepared once per backend.
    static SPIPlanPtr by_name = nullptr, newest = nullptr;
    SpiSession spi = begin_spi(false);
    if (by_name == nullptr)
    {
        // Both or neither: an error between the two must not leave one of them unset.
        Oid types[] = {TEXTOID};
        SPIPlanPtr name_plan = prepare("SELECT model_id FROM rec.model_versions WHERE name = $1 "
                                       "ORDER BY version DESC LIMIT 1",
                                       1, types);
        SPIPlanPtr newest_plan = prepare("SELECT model_id FROM rec.model_versions "
                                         "ORDER BY trained_at DESC, model_id DESC LIMIT 1",
                                         0, nullptr);
        SPI_keepplan(name_plan);
        SPI_keepplan(newest_plan);
        newest = newest_plan;
        by_name = name_plan;
    }
    Datum values[] = {name ? CStringGetTextDatum(name) : (Datum) 0};
    execute(name ? by_name : newest, values, SPI_OK_SELECT);
    if (SPI_processed == 0)
    {
        if (name)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", name),
                            errhint("SELECT name FROM rec.models lists the trained models.")));
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("no model has been trained yet"),
                        errhint("Train one with CALL rec.train(model => ..., source => ...).")));
    }
    bool isnull;
    const int64 model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    end_spi(spi);
    return model_id;
}

LoadedModel *
load_model(int64 model_id, MemoryContext parent)
{
    MemoryContext context = AllocSetContextCreate(parent, "pg_recommend model", ALLOCSET_DEFAULT_SIZES);
    LoadedModel *m = (LoadedModel *) MemoryContextAllocZero(context, sizeof(LoadedModel));
    m->model_id = model_id;
    m->context = context;
    SpiSession spi = begin_spi(false);
    Datum args[] = {Int64GetDatum(model_id)};
    Oid types[] = {INT8OID};
    execute(prepare("SELECT n_users, n_items, (hyperparameters->>'factors')::int, global_mean, rating_min, "
                    "rating_max, algorithm, (hyperparameters->>'regularization')::float8, "
                    "coalesce((hyperparameters->>'bias_regularization')::float8, 0), "
                    "coalesce((hyperparameters->>'unweighted_regularization')::float8, 0), "
                    "coalesce((hyperparameters->>'alpha')::float8, 0) "
                    "FROM rec.model_versions WHERE model_id = $1",
                    1, types),
            args, SPI_OK_SELECT);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model version %lld no longer exists",
                                                                 (long long) model_id)));
    {
        HeapTuple t = SPI_tuptable->vals[0];
        TupleDesc d = SPI_tuptable->tupdesc;
        bool isnull;
        m->n_users = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
        m->n_items = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
        m->k = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
        m->global_mean = DatumGetFloat8(SPI_getbinval(t, d, 4, &isnull));
        m->rating_min = DatumGetFloat4(SPI_getbinval(t, d, 5, &isnull));
        m->rating_max = DatumGetFloat4(SPI_getbinval(t, d, 6, &isnull));
        const char *algorithm = TextDatumGetCString(SPI_getbinval(t, d, 7, &isnull));
        m->kind = strcmp(algorithm, "als") == 0    ? ModelKind::ExplicitAls
                  : strcmp(algorithm, "ials") == 0 ? ModelKind::ImplicitAls
                                                   : ModelKind::Bpr;
        m->clip_predictions = m->kind == ModelKind::ExplicitAls;
        m->regularization = DatumGetFloat8(SPI_getbinval(t, d, 8, &isnull));
        m->bias_regularization = DatumGetFloat8(SPI_getbinval(t, d, 9, &isnull));
        m->unweighted_regularization = DatumGetFloat8(SPI_getbinval(t, d, 10, &isnull));
        m->alpha = DatumGetFloat8(SPI_getbinval(t, d, 11, &isnull));
    }
    const size_t k = size_t(m->k);
    m->item_ids = (int64 *) MemoryContextAllocHuge(context, sizeof(int64) * Max(m->n_items, 1));
    m->item_factors = (float *) MemoryContextAllocHuge(context, sizeof(float) * k * Max(m->n_items, 1));
    m->item_bias = (float *) MemoryContextAllocHuge(context, sizeof(float) * Max(m->n_items, 1));
    m->items_by_popularity = (int32 *) MemoryContextAllocHuge(context, sizeof(int32) * Max(m->n_items, 1));
    int32 *item_count = (int32 *) palloc(sizeof(int32) * Max(m->n_items, 1));
    m->user_ids = (int64 *) MemoryContextAllocHuge(context, sizeof(int64) * Max(m->n_users, 1));
    m->user_factors = (float *) MemoryContextAllocHuge(context, sizeof(float) * k * Max(m->n_users, 1));
    m->user_bias = (float *) MemoryContextAllocHuge(context, sizeof(float) * Max(m->n_users, 1));
    m->seen_offsets = (int64 *) MemoryContextAllocHuge(context, sizeof(int64) * (m->n_users + 1));

    // Batched through cursors so that a large model is never held twice in memory.
    Portal items = SPI_cursor_open_with_args(nullptr,
                                             "SELECT item_id, bias, factors, n_ratings FROM rec.item_factors "
                                             "WHERE model_id = $1 ORDER BY item_id",
                                             1, types, args, nullptr, true, 0);
    int32 n = 0;
    for (;;)
    {
        SPI_cursor_fetch(items, true, 1000);
        if (SPI_processed == 0)
            break;
        for (uint64 r = 0; r < SPI_processed; ++r, ++n)
        {
            HeapTuple t = SPI_tuptable->vals[r];
            TupleDesc d = SPI_tuptable->tupdesc;
            bool isnull;
            if (n >= m->n_items)
                ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld has more items than recorded",
                                                                        (long long) model_id)));
            m->item_ids[n] = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
            m->item_bias[n] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
            memcpy(m->item_factors + size_t(n) * k, factor_values(SPI_getbinval(t, d, 3, &isnull), m->k, model_id),
                   sizeof(float) * k);
            item_count[n] = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
        }
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(items);
    if (n != m->n_items)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld is missing item rows", (long long) model_id)));
    if (m->kind == ModelKind::ImplicitAls)
    {
        m->gram = (float *) MemoryContextAlloc(context, sizeof(float) * k * k);
        fill_gram(m);
    }
    for (int32 i = 0; i < m->n_items; ++i)
        m->items_by_popularity[i] = i;
    std::stable_sort(m->items_by_popularity, m->items_by_popularity + m->n_items,
                     [&](int32 a, int32 b) { return item_count[a] > item_count[b]; });

    // Seen items grow as they come; their total is the model's n_ratings.
    size_t seen_capacity = 1024, seen_count = 0;
    m->seen_items = (int32 *) MemoryContextAllocHuge(context, sizeof(int32) * seen_capacity);
    Portal users = SPI_cursor_open_with_args(nullptr,
                                             "SELECT user_id, bias, factors, seen_items FROM rec.user_factors "
                                             "WHERE model_id = $1 ORDER BY user_id",
                                             1, types, args, nullptr, true, 0);
    n = 0;
    for (;;)
    {
        SPI_cursor_fetch(users, true, 1000);
        if (SPI_processed == 0)
            break;
        for (uint64 r = 0; r < SPI_processed; ++r, ++n)
        {
            HeapTuple t = SPI_tuptable->vals[r];
            TupleDesc d = SPI_tuptable->tupdesc;
            bool isnull;
            if (n >= m->n_users)
                ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld has more users than recorded",
                                                                        (long long) model_id)));
            m->user_ids[n] = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
            m->user_bias[n] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
            memcpy(m->user_factors + size_t(n) * k, factor_values(SPI_getbinval(t, d, 3, &isnull), m->k, model_id),
                   sizeof(float) * k);
            ArrayType *seen = DatumGetArrayTypeP(SPI_getbinval(t, d, 4, &isnull));
            const int count = ArrayGetNItems(ARR_NDIM(seen), ARR_DIMS(seen));
            const int64 *seen_ids = (const int64 *) ARR_DATA_PTR(seen);
            if (seen_count + count > seen_capacity)
            {
                seen_capacity = Max(seen_capacity * 2, seen_count + count);
                m->seen_items = (int32 *) repalloc_huge(m->seen_items, sizeof(int32) * seen_capacity);
            }
            m->seen_offsets[n] = int64(seen_count);
            for (int j = 0; j < count; ++j)
            {
                const int64 *at = std::lower_bound(m->item_ids, m->item_ids + m->n_items, seen_ids[j]);
                if (at != m->item_ids + m->n_items && *at == seen_ids[j])
                    m->seen_items[seen_count++] = int32(at - m->item_ids);
            }
        }
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(users);
    if (n != m->n_users)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld is missing user rows", (long long) model_id)));
    m->seen_offsets[m->n_users] = int64(seen_count);
    end_spi(spi);  // frees item_count and the rest of the SPI-context scratch
    return m;
}

int32
drop_model(const char *name)
{
    // Checked as the caller: every version must be one the caller owns (or is a member of its owner).
    SpiSession spi = begin_spi(false);
    Oid types[] = {TEXTOID};
    Datum args[] = {CStringGetTextDatum(name)};
    execute(prepare("SELECT model_id, owner::oid FROM rec.model_versions WHERE name = $1", 1, types), args,
            SPI_OK_SELECT);
    const int32 versions = int32(SPI_processed);
    if (versions == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", name),
                        errhint("SELECT name FROM rec.models lists the trained models.")));
    int64 *ids = (int64 *) palloc(sizeof(int64) * versions);
    for (int32 v = 0; v < versions; ++v)
    {
        bool isnull;
        ids[v] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[v], SPI_tuptable->tupdesc, 1, &isnull));
        const Oid owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[v], SPI_tuptable->tupdesc, 2, &isnull));
        if (!has_privs_of_role(GetUserId(), owner))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("must be owner of model \"%s\"", name),
                            errdetail("The model was trained by role \"%s\".", GetUserNameFromId(owner, true))));
    }
    end_spi(spi);

    // Only the versions checked above are deleted, even if another one was trained meanwhile.
    spi = begin_spi(true);
    Oid delete_types[] = {INT8ARRAYOID};
    Datum delete_args[] = {bigint_array(ids, size_t(versions))};
    for (const char *query : {"DELETE FROM rec.user_factors WHERE model_id = ANY($1)",
                              "DELETE FROM rec.item_factors WHERE model_id = ANY($1)",
                              "DELETE FROM rec.model_versions WHERE model_id = ANY($1)"})
        execute(prepare(query, 1, delete_types), delete_args, SPI_OK_DELETE);
    end_spi(spi);
    return versions;
}

}  // namespace rec::pg
