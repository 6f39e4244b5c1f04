#include "pg/model_store.hpp"
#include "pg/model_cache.hpp"
#include "pg/safe_sql.hpp"

#include <algorithm>
#include <cstring>

#include "core/checked_size.hpp"
#include "core/fold_in.hpp"

namespace rec::pg {

namespace {

// Brackets SPI work on the model tables: connected, with a pinned search_path and, for writes, as the
// extension owner. PostgreSQL-style: on error, the transaction's abort undoes all three.
// Serving reads (finding the deployed version, loading it) run in the snapshot of the statement that
// called us (SPI's read-only mode), so that one statement sees one consistent state of the model
// tables even while another session commits a new version: a model's header and rows are always read
// together. Other sessions (lifecycle reads, and writes as the extension owner) see everything done
// so far, the current statement's own writes included.
struct SpiSession
{
    int search_path_level;
    Oid saved_user;
    int saved_security;
    bool as_owner;
    bool statement_snapshot;
};

SpiSession
begin_spi(bool as_owner, bool statement_snapshot = false)
{
    SpiSession s;
    s.as_owner = as_owner;
    s.statement_snapshot = statement_snapshot;
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
execute(const SpiSession &spi, SPIPlanPtr plan, Datum *values, int expected, const char *nulls = nullptr)
{
    const int rc = SPI_execute_plan(plan, values, nulls, spi.statement_snapshot, 0);
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

// YᵀY for folding users into an implicit model, computed once per load. The vector is gone before
// PostgreSQL is called again.
void
fill_gram(const float *item_factors, size_t items, int k, float *out)
{
    const std::vector<float> gram = rec::core::gram_of(item_factors, items, k);
    memcpy(out, gram.data(), sizeof(float) * gram.size());
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
        execute(spi, prepare("SELECT coalesce(max(version), 0) + 1 FROM rec.model_versions WHERE name = $1", 1, types),
                values, SPI_OK_SELECT);
        bool isnull;
        out.version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
    {
        Oid types[] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, INT8OID, FLOAT8OID,
                       FLOAT4OID, FLOAT4OID, TEXTOID, FLOAT8OID, FLOAT8OID, OIDOID, INT4OID, TEXTOID, FLOAT8OID,
                       TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDOID, OIDOID, INT8OID, INT8OID};
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
                          ObjectIdGetDatum(caller),
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
        const char nulls[] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
                              validated ? ' ' : 'n', validated ? ' ' : 'n', validated ? ' ' : 'n', ' ', ' ',
                              m.rating_column ? ' ' : 'n', ' ', ' ', ' ', ' '};
        execute(spi, prepare("INSERT INTO rec.model_versions (name, version, algorithm, hyperparameters, source, "
                        "n_users, n_items, n_ratings, global_mean, rating_min, rating_max, train_metric, "
                        "train_value, train_seconds, owner, iterations_run, validation_metric, validation_value, "
                        "learning_curve, user_column, item_column, rating_column, user_type, item_type, "
                        "user_key_bytes, item_key_bytes) "
                        "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::regrole, "
                        "$16, $17, $18, $19::jsonb, $20, $21, $22, $23::regtype, $24::regtype, $25, $26) "
                        "RETURNING model_id",
                        26, types),
                values, SPI_OK_INSERT_RETURNING, nulls);
        bool isnull;
        out.model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    }
    const int k = m.model->factors;
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT8ARRAYOID, FLOAT4ARRAYOID, TEXTOID};
        SPIPlanPtr plan = prepare("INSERT INTO rec.user_factors (model_id, user_id, bias, factors, seen_items, "
                                  "seen_values, user_key) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                  7, types);
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
                              bigint_array(seen, count),
                              float_array(by_user.values.data() + begin, int(count)),
                              key_datum(m.user_keys, m.data->user_ids[u])};
            const char nulls[] = {' ', ' ', ' ', ' ', ' ', ' ', m.user_keys ? ' ' : 'n'};
            execute(spi, plan, values, SPI_OK_INSERT, nulls);
            MemoryContextSwitchTo(outer);
            MemoryContextReset(row_context);
        }
    }
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT4OID, TEXTOID};
        SPIPlanPtr plan = prepare("INSERT INTO rec.item_factors (model_id, item_id, bias, factors, n_ratings, "
                                  "item_key) VALUES ($1, $2, $3, $4, $5, $6)",
                                  6, types);
        for (size_t i = 0; i < m.data->item_ids.size(); ++i)
        {
            CHECK_FOR_INTERRUPTS();
            MemoryContext outer = MemoryContextSwitchTo(row_context);
            Datum values[] = {Int64GetDatum(out.model_id), Int64GetDatum(m.data->item_ids[i]),
                              Float4GetDatum(m.model->item_bias[i]),
                              float_array(m.model->item_factors.data() + i * size_t(k), k),
                              Int32GetDatum(int32(m.data->by_item.row_size(i))),
                              key_datum(m.item_keys, m.data->item_ids[i])};
            const char nulls[] = {' ', ' ', ' ', ' ', ' ', m.item_keys ? ' ' : 'n'};
            execute(spi, plan, values, SPI_OK_INSERT, nulls);
            MemoryContextSwitchTo(outer);
            MemoryContextReset(row_context);
        }
    }
    end_spi(spi);
    return out;
}

ModelRef
find_model(const char *name)
{
    // Called on every recommend(): the plans are prepared once per backend.
    static SPIPlanPtr by_name = nullptr, newest = nullptr, any_version = nullptr;
    SpiSession spi = begin_spi(false, true);
    if (by_name == nullptr)
    {
        // All or none: an error between them must not leave some of them unset.
        Oid types[] = {TEXTOID};
        SPIPlanPtr name_plan = prepare("SELECT d.model_id, v.revision FROM rec.deployments d "
                                       "JOIN rec.model_versions v USING (model_id) WHERE d.name = $1 AND NOT d.rolled_back "
                                       "ORDER BY d.deployment_id DESC LIMIT 1",
                                       1, types);
        SPIPlanPtr newest_plan = prepare("SELECT d.model_id, v.revision FROM rec.deployments d "
                                         "JOIN rec.model_versions v USING (model_id) WHERE NOT d.rolled_back "
                                         "ORDER BY d.deployment_id DESC LIMIT 1",
                                         0, nullptr);
        SPIPlanPtr any_plan = prepare("SELECT 1 FROM rec.model_versions WHERE name = $1 LIMIT 1", 1, types);
        SPI_keepplan(name_plan);
        SPI_keepplan(newest_plan);
        SPI_keepplan(any_plan);
        newest = newest_plan;
        any_version = any_plan;
        by_name = name_plan;
    }
    Datum values[] = {name ? CStringGetTextDatum(name) : (Datum) 0};
    execute(spi, name ? by_name : newest, values, SPI_OK_SELECT);
    if (SPI_processed == 0)
    {
        if (name == nullptr)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("no model has been trained yet"),
                            errhint("Train one with CALL rec.train(model => ..., source => ...).")));
        execute(spi, any_version, values, SPI_OK_SELECT);
        if (SPI_processed == 0)
        {
            // None the caller may read: none at all, or none granted to the caller.
            end_spi(spi);
            SpiSession owner = begin_spi(true);
            Oid types[] = {TEXTOID};
            execute(owner, prepare("SELECT 1 FROM rec.model_versions WHERE name = $1 LIMIT 1", 1, types), values,
                    SPI_OK_SELECT);
            if (SPI_processed > 0)
                ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                                errmsg("permission denied for model \"%s\"", name),
                                errhint("Its owner can grant it: SELECT rec.grant('%s', role).", name)));
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", name),
                            errhint("SELECT name FROM rec.models lists the trained models.")));
        }
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("model \"%s\" has no deployed version", name),
                        errhint("Deploy one with SELECT rec.deploy('%s', version); rec.models lists the versions.",
                                name)));
    }
    bool isnull;
    ModelRef ref;
    ref.model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    ref.revision = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    end_spi(spi);
    return ref;
}

namespace {

// The arrays of a model image, in their order in the block.
enum ImageArray
{
    UserIds,
    UserFactors,
    UserBias,
    SeenOffsets,
    SeenItems,
    SeenValues,
    ItemIds,
    ItemFactors,
    ItemBias,
    Popularity,
    ItemCounts,
    Gram,
    UserKeyOffsets,
    UserKeyText,
    ItemKeyOffsets,
    ItemKeyText,
    ImageArrays
};

// One training interaction of a user in an image: an item index and its value.
struct SeenEntry
{
    int32 item;
    float value;
};

// An image starts with this header: the model's scalars (its pointers unset) and each array's offset.
struct ImageHeader
{
    LoadedModel scalars;
    uint64 offsets[ImageArrays];
    uint64 bytes;
};

// Array offsets for a model of these sizes, each 64-byte aligned (a cache line: the scoring loops
// stream whole lines). Returns the image size, or SIZE_MAX if it overflows.
size_t
image_layout(const LoadedModel &m, uint64 *offsets)
{
    using rec::core::sat_add;
    using rec::core::sat_mul;
    const size_t users = size_t(m.n_users), items = size_t(m.n_items), k = size_t(m.k), seen = size_t(m.n_seen);
    size_t sizes[ImageArrays];
    sizes[UserIds] = sat_mul(users, sizeof(int64));
    sizes[UserFactors] = sat_mul(sat_mul(users, k), sizeof(float));
    sizes[UserBias] = sat_mul(users, sizeof(float));
    sizes[SeenOffsets] = sat_mul(users + 1, sizeof(int64));
    sizes[SeenItems] = sat_mul(seen, sizeof(int32));
    sizes[SeenValues] = sat_mul(seen, sizeof(float));
    sizes[ItemIds] = sat_mul(items, sizeof(int64));
    sizes[ItemFactors] = sat_mul(sat_mul(items, k), sizeof(float));
    sizes[ItemBias] = sat_mul(items, sizeof(float));
    sizes[Popularity] = sat_mul(items, sizeof(int32));
    sizes[ItemCounts] = sat_mul(items, sizeof(int32));
    sizes[Gram] = m.kind == ModelKind::ImplicitAls ? sat_mul(sat_mul(k, k), sizeof(float)) : 0;
    sizes[UserKeyOffsets] = m.user_keyed ? sat_mul(users + 1, sizeof(int64)) : 0;
    sizes[UserKeyText] = m.user_keyed ? size_t(m.user_key_bytes) : 0;
    sizes[ItemKeyOffsets] = m.item_keyed ? sat_mul(items + 1, sizeof(int64)) : 0;
    sizes[ItemKeyText] = m.item_keyed ? size_t(m.item_key_bytes) : 0;
    size_t at = TYPEALIGN(64, sizeof(ImageHeader));
    for (int a = 0; a < ImageArrays; ++a)
    {
        offsets[a] = at;
        at = sat_add(at, sat_add(sizes[a], 63)) & ~size_t(63);
    }
    return at;
}

}  // namespace

LoadedModel
view_model_image(const char *image)
{
    const ImageHeader *header = (const ImageHeader *) image;
    LoadedModel m = header->scalars;
    const uint64 *at = header->offsets;
    m.user_ids = (const int64 *) (image + at[UserIds]);
    m.user_factors = (const float *) (image + at[UserFactors]);
    m.user_bias = (const float *) (image + at[UserBias]);
    m.seen_offsets = (const int64 *) (image + at[SeenOffsets]);
    m.seen_items = (const int32 *) (image + at[SeenItems]);
    m.seen_values = (const float *) (image + at[SeenValues]);
    m.item_ids = (const int64 *) (image + at[ItemIds]);
    m.item_factors = (const float *) (image + at[ItemFactors]);
    m.item_bias = (const float *) (image + at[ItemBias]);
    m.items_by_popularity = (const int32 *) (image + at[Popularity]);
    m.gram = m.kind == ModelKind::ImplicitAls ? (const float *) (image + at[Gram]) : nullptr;
    m.user_key_offsets = m.user_keyed ? (const int64 *) (image + at[UserKeyOffsets]) : nullptr;
    m.user_key_text = m.user_keyed ? image + at[UserKeyText] : nullptr;
    m.item_key_offsets = m.item_keyed ? (const int64 *) (image + at[ItemKeyOffsets]) : nullptr;
    m.item_key_text = m.item_keyed ? image + at[ItemKeyText] : nullptr;
    return m;
}

namespace {

// A version's scalars from rec.model_versions (pointers unset), in the session's snapshot.
LoadedModel
read_header(const SpiSession &spi, int64 model_id)
{
    LoadedModel m{};
    m.model_id = model_id;
    Datum args[] = {Int64GetDatum(model_id)};
    Oid types[] = {INT8OID};
    execute(spi, prepare("SELECT n_users, n_items, (hyperparameters->>'factors')::int, global_mean, rating_min, "
                    "rating_max, algorithm, (hyperparameters->>'regularization')::float8, "
                    "coalesce((hyperparameters->>'bias_regularization')::float8, 0), "
                    "coalesce((hyperparameters->>'unweighted_regularization')::float8, 0), "
                    "coalesce((hyperparameters->>'alpha')::float8, 0), n_ratings, user_type::oid, "
                    "item_type::oid, user_key_bytes, item_key_bytes "
                    "FROM rec.model_versions WHERE model_id = $1",
                    1, types),
            args, SPI_OK_SELECT);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model version %lld no longer exists",
                                                                 (long long) model_id)));
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    m.n_users = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
    m.n_items = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
    m.k = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
    m.global_mean = DatumGetFloat8(SPI_getbinval(t, d, 4, &isnull));
    m.rating_min = DatumGetFloat4(SPI_getbinval(t, d, 5, &isnull));
    m.rating_max = DatumGetFloat4(SPI_getbinval(t, d, 6, &isnull));
    const char *algorithm = TextDatumGetCString(SPI_getbinval(t, d, 7, &isnull));
    m.kind = strcmp(algorithm, "als") == 0    ? ModelKind::ExplicitAls
             : strcmp(algorithm, "ials") == 0 ? ModelKind::ImplicitAls
                                              : ModelKind::Bpr;
    m.clip_predictions = m.kind == ModelKind::ExplicitAls;
    m.regularization = DatumGetFloat8(SPI_getbinval(t, d, 8, &isnull));
    m.bias_regularization = DatumGetFloat8(SPI_getbinval(t, d, 9, &isnull));
    m.unweighted_regularization = DatumGetFloat8(SPI_getbinval(t, d, 10, &isnull));
    m.alpha = DatumGetFloat8(SPI_getbinval(t, d, 11, &isnull));
    m.n_seen = DatumGetInt64(SPI_getbinval(t, d, 12, &isnull));
    m.user_type = DatumGetObjectId(SPI_getbinval(t, d, 13, &isnull));
    m.item_type = DatumGetObjectId(SPI_getbinval(t, d, 14, &isnull));
    m.user_key_bytes = DatumGetInt64(SPI_getbinval(t, d, 15, &isnull));
    m.item_key_bytes = DatumGetInt64(SPI_getbinval(t, d, 16, &isnull));
    IdKind kind;
    m.user_keyed = id_kind_of_type(m.user_type, &kind) && kind != IdKind::Integer;
    m.item_keyed = id_kind_of_type(m.item_type, &kind) && kind != IdKind::Integer;
    if (m.user_key_bytes < 0 || m.item_key_bytes < 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld has negative key sizes",
                                                                (long long) model_id)));
    return m;
}

// A new image for `m` in `context`, its header filled in; *offsets receives the layout.
char *
new_image(const LoadedModel &m, MemoryContext context, uint64 *offsets, size_t *bytes)
{
    const size_t size = image_layout(m, offsets);
    if (size > MaxAllocHugeSize)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("model %lld is too large to load (%zu bytes)", (long long) m.model_id, size)));
    char *image = (char *) MemoryContextAllocExtended(context, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
    ImageHeader *header = (ImageHeader *) image;
    header->scalars = m;
    memcpy(header->offsets, offsets, sizeof(uint64) * ImageArrays);
    header->bytes = size;
    *bytes = size;
    return image;
}

// Appends `length` bytes of id text as key `index` of the users' (or items') key arrays at *at_key;
// false if they overrun the size the header recorded.
bool
append_key(char *image, const uint64 *offsets, bool items, int32 index, const char *text, int64 length,
           int64 *at_key, int64 total)
{
    int64 *key_offsets = (int64 *) (image + offsets[items ? ItemKeyOffsets : UserKeyOffsets]);
    char *key_text = image + offsets[items ? ItemKeyText : UserKeyText];
    if (length < 0 || *at_key + length > total)
        return false;
    key_offsets[index] = *at_key;
    memcpy(key_text + *at_key, text, size_t(length));
    *at_key += length;
    key_offsets[index + 1] = *at_key;
    return true;
}

// Appends the text of column `column` of `t` (a user_key or item_key) as key `index`; raises a
// corruption error if it is missing or overruns the recorded size.
void
append_key_column(char *image, const uint64 *offsets, const LoadedModel &m, bool items, HeapTuple t, TupleDesc d,
                  int column, int32 index, int64 *at_key)
{
    bool isnull;
    const Datum value = SPI_getbinval(t, d, column, &isnull);
    const text *key = isnull ? nullptr : DatumGetTextPP(value);
    if (key == nullptr || !append_key(image, offsets, items, index, VARDATA_ANY(key), int64(VARSIZE_ANY_EXHDR(key)),
                                      at_key, items ? m.item_key_bytes : m.user_key_bytes))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("%s ids of model %lld do not match the model", items ? "item" : "user",
                               (long long) m.model_id),
                        errhint("Train the model again.")));
}

// Where a user row goes in an image being built.
struct UserRowTarget
{
    char *image;
    const uint64 *offsets;
    const LoadedModel &m;  // counts and k
    SeenEntry *scratch;    // room for m.n_items entries
};

// Writes the user row `t` (user_id, bias, factors, seen_items, seen_values, user_key) as user `u`, its
// seen items (those the model has, sorted by item index, so scoring skips them in one pass) from
// `at_seen` and, for text ids, its text from *at_key; returns the new end of the seen items. Raises
// 22P04-style corruption errors for inconsistent rows.
int64
write_user_row(const UserRowTarget &to, HeapTuple t, TupleDesc d, int32 u, int64 at_seen, int64 *at_key)
{
    const LoadedModel &m = to.m;
    if (m.user_keyed)
        append_key_column(to.image, to.offsets, m, false, t, d, 6, u, at_key);
    const size_t k = size_t(m.k);
    const int64 *item_ids = (const int64 *) (to.image + to.offsets[ItemIds]);
    int32 *seen_items = (int32 *) (to.image + to.offsets[SeenItems]);
    float *seen_values = (float *) (to.image + to.offsets[SeenValues]);
    bool isnull;
    const int64 user_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
    ((int64 *) (to.image + to.offsets[UserIds]))[u] = user_id;
    ((float *) (to.image + to.offsets[UserBias]))[u] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
    memcpy((float *) (to.image + to.offsets[UserFactors]) + size_t(u) * k,
           factor_values(SPI_getbinval(t, d, 3, &isnull), m.k, m.model_id), sizeof(float) * k);
    ArrayType *seen = DatumGetArrayTypeP(SPI_getbinval(t, d, 4, &isnull));
    ArrayType *values = DatumGetArrayTypeP(SPI_getbinval(t, d, 5, &isnull));
    const int count = ArrayGetNItems(ARR_NDIM(seen), ARR_DIMS(seen));
    if (ArrayGetNItems(ARR_NDIM(values), ARR_DIMS(values)) != count || at_seen + count > m.n_seen ||
        ARR_HASNULL(seen) || ARR_HASNULL(values))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("seen items of user %lld in model %lld do not match the model", (long long) user_id,
                               (long long) m.model_id),
                        errhint("Train the model again.")));
    const int64 *seen_ids = (const int64 *) ARR_DATA_PTR(seen);
    const float *seen_vals = (const float *) ARR_DATA_PTR(values);
    int known = 0;
    for (int j = 0; j < count && known < m.n_items; ++j)
    {
        const int64 *at = std::lower_bound(item_ids, item_ids + m.n_items, seen_ids[j]);
        if (at != item_ids + m.n_items && *at == seen_ids[j])
            to.scratch[known++] = SeenEntry{int32(at - item_ids), seen_vals[j]};
    }
    std::sort(to.scratch, to.scratch + known, [](const SeenEntry &a, const SeenEntry &b) { return a.item < b.item; });
    for (int j = 0; j < known; ++j, ++at_seen)
    {
        seen_items[at_seen] = to.scratch[j].item;
        seen_values[at_seen] = to.scratch[j].value;
    }
    return at_seen;
}

// Items most rated first (stable: equal counts keep id order).
void
order_by_popularity(int32 *popularity, const int32 *counts, int32 n_items)
{
    for (int32 i = 0; i < n_items; ++i)
        popularity[i] = i;
    std::stable_sort(popularity, popularity + n_items, [&](int32 a, int32 b) { return counts[a] > counts[b]; });
}

}  // namespace

char *
load_model_image(int64 model_id, MemoryContext context, size_t *bytes)
{
    SpiSession spi = begin_spi(true, true);
    const LoadedModel m = read_header(spi, model_id);
    Datum args[] = {Int64GetDatum(model_id)};
    Oid types[] = {INT8OID};
    uint64 offsets[ImageArrays];
    size_t size;
    char *image = new_image(m, context, offsets, &size);
    const size_t k = size_t(m.k);
    int64 *item_ids = (int64 *) (image + offsets[ItemIds]);
    float *item_factors = (float *) (image + offsets[ItemFactors]);
    float *item_bias = (float *) (image + offsets[ItemBias]);
    int32 *popularity = (int32 *) (image + offsets[Popularity]);
    int64 *seen_offsets = (int64 *) (image + offsets[SeenOffsets]);
    int32 *item_count = (int32 *) (image + offsets[ItemCounts]);
    SeenEntry *pairs = (SeenEntry *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(SeenEntry) * Max(m.n_items, 1));

    // Batched through cursors so that a large model is never held twice in memory.
    Portal items = SPI_cursor_open_with_args(nullptr,
                                             "SELECT item_id, bias, factors, n_ratings, item_key FROM "
                                             "rec.item_factors WHERE model_id = $1 ORDER BY item_id",
                                             1, types, args, nullptr, true, 0);
    int32 n = 0;
    int64 item_key_at = 0, user_key_at = 0;
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
            if (n >= m.n_items)
                ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld has more items than recorded",
                                                                        (long long) model_id)));
            item_ids[n] = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
            item_bias[n] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
            memcpy(item_factors + size_t(n) * k, factor_values(SPI_getbinval(t, d, 3, &isnull), m.k, model_id),
                   sizeof(float) * k);
            item_count[n] = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
            if (m.item_keyed)
                append_key_column(image, offsets, m, true, t, d, 5, n, &item_key_at);
        }
        SPI_freetuptable(SPI_tuptable);
        CHECK_FOR_INTERRUPTS();
    }
    SPI_cursor_close(items);
    if (n != m.n_items || (m.item_keyed && item_key_at != m.item_key_bytes))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld is missing item rows", (long long) model_id)));
    if (m.kind == ModelKind::ImplicitAls)
        fill_gram(item_factors, size_t(m.n_items), m.k, (float *) (image + offsets[Gram]));
    order_by_popularity(popularity, item_count, m.n_items);

    Portal users = SPI_cursor_open_with_args(nullptr,
                                             "SELECT user_id, bias, factors, seen_items, seen_values, user_key "
                                             "FROM rec.user_factors WHERE model_id = $1 ORDER BY user_id",
                                             1, types, args, nullptr, true, 0);
    n = 0;
    int64 seen_count = 0;
    const UserRowTarget to{image, offsets, m, pairs};
    for (;;)
    {
        SPI_cursor_fetch(users, true, 1000);
        if (SPI_processed == 0)
            break;
        for (uint64 r = 0; r < SPI_processed; ++r, ++n)
        {
            if (n >= m.n_users)
                ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld has more users than recorded",
                                                                        (long long) model_id)));
            seen_offsets[n] = seen_count;
            seen_count = write_user_row(to, SPI_tuptable->vals[r], SPI_tuptable->tupdesc, n, seen_count, &user_key_at);
        }
        SPI_freetuptable(SPI_tuptable);
        CHECK_FOR_INTERRUPTS();
    }
    SPI_cursor_close(users);
    if (n != m.n_users || seen_count != m.n_seen || (m.user_keyed && user_key_at != m.user_key_bytes))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld is missing user rows", (long long) model_id)));
    seen_offsets[m.n_users] = seen_count;
    end_spi(spi);  // frees item_count and the rest of the SPI-context scratch
    *bytes = size;
    return image;
}

char *
patch_model_image(int64 model_id, const char *base, int32 base_revision, MemoryContext context, size_t *bytes)
{
    const ImageHeader *base_header = (const ImageHeader *) base;
    const LoadedModel b = view_model_image(base);
    SpiSession spi = begin_spi(true, true);
    const LoadedModel m = read_header(spi, model_id);
    if (m.n_users < b.n_users || m.n_items != b.n_items || m.k != b.k || m.item_key_bytes != b.item_key_bytes ||
        m.user_keyed != b.user_keyed || m.item_keyed != b.item_keyed)
    {
        end_spi(spi);
        return nullptr;  // items were added (every user's item indexes move): a full load
    }
    uint64 offsets[ImageArrays];
    char *image = new_image(m, context, offsets, bytes);
    // The item arrays keep their sizes and are copied whole; the user arrays are merged below.
    const auto padded = [](const uint64 *at, size_t total, int a) {
        return size_t((a + 1 < ImageArrays ? at[a + 1] : total) - at[a]);
    };
    for (int a : {ItemIds, ItemFactors, ItemBias, Popularity, ItemCounts, Gram, ItemKeyOffsets, ItemKeyText})
        memcpy(image + offsets[a], base + base_header->offsets[a],
               Min(padded(offsets, *bytes, a), padded(base_header->offsets, base_header->bytes, a)));
    const size_t k = size_t(m.k);
    const int64 *item_ids = (const int64 *) (image + offsets[ItemIds]);
    int64 *user_ids = (int64 *) (image + offsets[UserIds]);
    float *user_factors = (float *) (image + offsets[UserFactors]);
    float *user_bias = (float *) (image + offsets[UserBias]);
    Datum args[] = {Int64GetDatum(model_id), Int32GetDatum(base_revision)};
    Oid types[] = {INT8OID, INT4OID};

    // Items written since the base revision.
    execute(spi, prepare("SELECT item_id, bias, factors, n_ratings FROM rec.item_factors "
                         "WHERE model_id = $1 AND revision > $2",
                         2, types),
            args, SPI_OK_SELECT);
    const bool items_changed = SPI_processed > 0;
    for (uint64 r = 0; r < SPI_processed; ++r)
    {
        HeapTuple t = SPI_tuptable->vals[r];
        TupleDesc d = SPI_tuptable->tupdesc;
        bool isnull;
        const int64 id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
        const int64 *at = std::lower_bound(item_ids, item_ids + m.n_items, id);
        if (at == item_ids + m.n_items || *at != id)
        {
            pfree(image);
            end_spi(spi);
            return nullptr;
        }
        const size_t i = size_t(at - item_ids);
        ((float *) (image + offsets[ItemBias]))[i] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
        memcpy((float *) (image + offsets[ItemFactors]) + i * k,
               factor_values(SPI_getbinval(t, d, 3, &isnull), m.k, model_id), sizeof(float) * k);
        ((int32 *) (image + offsets[ItemCounts]))[i] = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
    }
    if (items_changed)
    {
        order_by_popularity((int32 *) (image + offsets[Popularity]), (const int32 *) (image + offsets[ItemCounts]),
                            m.n_items);
        if (m.kind == ModelKind::ImplicitAls)
            fill_gram((const float *) (image + offsets[ItemFactors]), size_t(m.n_items), m.k,
                      (float *) (image + offsets[Gram]));
    }

    // Users written since the base revision, in id order, merged with the base's: a refreshed user
    // replaces its old row, an added one is inserted; seen lists are spliced in the same order.
    execute(spi, prepare("SELECT user_id, bias, factors, seen_items, seen_values, user_key FROM rec.user_factors "
                         "WHERE model_id = $1 AND revision > $2 ORDER BY user_id",
                         2, types),
            args, SPI_OK_SELECT);
    const uint64 changed = SPI_processed;
    int64 *seen_offsets = (int64 *) (image + offsets[SeenOffsets]);
    int32 *seen_items = (int32 *) (image + offsets[SeenItems]);
    float *seen_values = (float *) (image + offsets[SeenValues]);
    SeenEntry *scratch = (SeenEntry *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(SeenEntry) * Max(m.n_items, 1));
    const UserRowTarget to{image, offsets, m, scratch};
    const auto changed_id = [&](uint64 r) {
        bool isnull;
        return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
    };
    int64 at_seen = 0, at_key = 0;
    bool keys_fit = true;
    uint64 next = 0;        // next changed row
    int32 next_base = 0;    // next base user
    for (int32 u = 0; u < m.n_users; ++u)
    {
        seen_offsets[u] = at_seen;
        const bool from_changed =
            next < changed && (next_base >= b.n_users || changed_id(next) <= b.user_ids[next_base]);
        if (!from_changed)
        {
            if (next_base >= b.n_users)
                break;  // fewer rows than the header says: the check below gives up
            const int64 begin = b.seen_offsets[next_base], count = b.seen_offsets[next_base + 1] - begin;
            if (at_seen + count > m.n_seen)
                break;
            user_ids[u] = b.user_ids[next_base];
            user_bias[u] = b.user_bias[next_base];
            memcpy(user_factors + size_t(u) * k, b.user_factors + size_t(next_base) * k, sizeof(float) * k);
            memcpy(seen_items + at_seen, b.seen_items + begin, sizeof(int32) * size_t(count));
            memcpy(seen_values + at_seen, b.seen_values + begin, sizeof(float) * size_t(count));
            at_seen += count;
            if (m.user_keyed)
                keys_fit = keys_fit && append_key(image, offsets, false, u, b.user_key_text + b.user_key_offsets[next_base],
                                                  b.user_key_offsets[next_base + 1] - b.user_key_offsets[next_base],
                                                  &at_key, m.user_key_bytes);
            ++next_base;
            continue;
        }
        if (next_base < b.n_users && b.user_ids[next_base] == changed_id(next))
            ++next_base;  // replaced
        at_seen = write_user_row(to, SPI_tuptable->vals[next], SPI_tuptable->tupdesc, u, at_seen, &at_key);
        ++next;
    }
    // Every base user and every changed row used exactly once, and the counts agree, or a full load.
    if (next != changed || next_base != b.n_users || at_seen != m.n_seen || !keys_fit ||
        (m.user_keyed && at_key != m.user_key_bytes))
    {
        pfree(image);
        end_spi(spi);
        return nullptr;
    }
    seen_offsets[m.n_users] = at_seen;
    end_spi(spi);
    if (at_seen != m.n_seen)
    {
        pfree(image);
        return nullptr;  // the counts disagree: a full load decides
    }
    return image;
}

namespace {

// The versions of `name` (model_id, version), newest first, after checking that the caller owns every
// one of them (or is a member of its owner). Allocated in `context`; *count is how many.
struct VersionRow
{
    int64 model_id;
    int32 version;
};

VersionRow *
owned_versions(const char *name, const char *action, MemoryContext context, int32 *count, bool missing_ok = false)
{
    const Oid caller = GetUserId();
    SpiSession spi = begin_spi(true);  // every version, also those the caller may not read
    Oid types[] = {TEXTOID};
    Datum args[] = {CStringGetTextDatum(name)};
    execute(spi, prepare("SELECT model_id, version, owner::oid FROM rec.model_versions WHERE name = $1 "
                    "ORDER BY version DESC",
                    1, types),
            args, SPI_OK_SELECT);
    *count = int32(SPI_processed);
    if (*count == 0 && !missing_ok)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", name),
                        errhint("SELECT name FROM rec.models lists the trained models.")));
    // SPI_finish frees what is allocated in between: the rows go to the caller's context.
    VersionRow *rows = (VersionRow *) MemoryContextAlloc(context, sizeof(VersionRow) * size_t(*count));
    for (int32 v = 0; v < *count; ++v)
    {
        HeapTuple t = SPI_tuptable->vals[v];
        bool isnull;
        rows[v].model_id = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
        rows[v].version = DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
        const Oid owner = DatumGetObjectId(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
        if (!has_privs_of_role(caller, owner))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("must be owner of model \"%s\" to %s it", name, action),
                            errdetail("The model was trained by role \"%s\".", GetUserNameFromId(owner, true))));
    }
    end_spi(spi);
    return rows;
}

// Deletes these versions' rows and deployments (as the extension owner) and frees their cache entries.
void
delete_versions(const int64 *ids, int32 count)
{
    if (count == 0)
        return;
    SpiSession spi = begin_spi(true);
    Oid types[] = {INT8ARRAYOID};
    Datum args[] = {bigint_array(ids, size_t(count))};
    for (const char *query : {"DELETE FROM rec.deployments WHERE model_id = ANY($1)",
                              "DELETE FROM rec.user_factors WHERE model_id = ANY($1)",
                              "DELETE FROM rec.item_factors WHERE model_id = ANY($1)",
                              "DELETE FROM rec.model_versions WHERE model_id = ANY($1)"})
        execute(spi, prepare(query, 1, types), args, SPI_OK_DELETE);
    end_spi(spi);
    forget_cached_models(ids, count);
}

// The deployment served now for `name`: its model_id, or 0 if none.
int64
current_deployment(const char *name)
{
    SpiSession spi = begin_spi(true);
    Oid types[] = {TEXTOID};
    Datum args[] = {CStringGetTextDatum(name)};
    execute(spi, prepare("SELECT d.model_id FROM rec.deployments d JOIN rec.model_versions v USING (model_id) "
                    "WHERE d.name = $1 AND NOT d.rolled_back ORDER BY d.deployment_id DESC LIMIT 1",
                    1, types),
            args, SPI_OK_SELECT);
    bool isnull;
    const int64 model_id =
        SPI_processed == 0 ? 0 : DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    end_spi(spi);
    return model_id;
}

}  // namespace

void
require_model_owner(const char *name, const char *action)
{
    int32 count;
    owned_versions(name, action, CurrentMemoryContext, &count);
}

void
require_model_owner_unless_new(const char *name, const char *action)
{
    int32 count;
    owned_versions(name, action, CurrentMemoryContext, &count, true);
}

TrainingSource
training_source(int64 model_id)
{
    MemoryContext caller_context = CurrentMemoryContext;
    SpiSession spi = begin_spi(true, true);
    Oid types[] = {INT8OID};
    Datum args[] = {Int64GetDatum(model_id)};
    execute(spi, prepare("SELECT source, user_column, item_column, rating_column FROM rec.model_versions "
                         "WHERE model_id = $1",
                         1, types),
            args, SPI_OK_SELECT);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("model version %lld no longer exists", (long long) model_id)));
    TrainingSource out;
    const char **fields[] = {&out.relation, &out.user_column, &out.item_column, &out.rating_column};
    for (int f = 0; f < 4; ++f)
    {
        bool isnull;
        const Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, f + 1, &isnull);
        *fields[f] = isnull ? nullptr : MemoryContextStrdup(caller_context, TextDatumGetCString(value));
    }
    end_spi(spi);
    return out;
}

void
update_rows(int64 model_id, const RowUpdate &u)
{
    SpiSession spi = begin_spi(true);
    // The new revision first: the rows written below carry it, so a cached copy of the previous
    // revision can be patched with just them (patch_model_image).
    Oid version_types[] = {INT8OID, INT8OID, INT4OID, INT8OID};
    Datum version_args[] = {Int64GetDatum(model_id), Int64GetDatum(u.seen_delta), Int32GetDatum(u.added),
                            Int64GetDatum(u.key_bytes_delta)};
    execute(spi, prepare(u.items ? "UPDATE rec.model_versions SET revision = revision + 1, n_items = n_items + $3, "
                                   "item_key_bytes = item_key_bytes + $4 WHERE model_id = $1 RETURNING revision"
                                 : "UPDATE rec.model_versions SET revision = revision + 1, n_users = n_users + $3, "
                                   "n_ratings = n_ratings + $2, user_key_bytes = user_key_bytes + $4 "
                                   "WHERE model_id = $1 RETURNING revision",
                         4, version_types),
            version_args, SPI_OK_UPDATE_RETURNING);
    bool isnull;
    const int32 revision = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend row", ALLOCSET_SMALL_SIZES);
    SPIPlanPtr update, insert;
    if (u.items)
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT4OID, INT4OID, TEXTOID};
        update = prepare("UPDATE rec.item_factors SET bias = $3, factors = $4, n_ratings = $5, revision = $6 "
                         "WHERE model_id = $1 AND item_id = $2",
                         6, types);
        insert = prepare("INSERT INTO rec.item_factors (model_id, item_id, bias, factors, n_ratings, revision, "
                         "item_key) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                         7, types);
    }
    else
    {
        Oid types[] = {INT8OID, INT8OID, FLOAT4OID, FLOAT4ARRAYOID, INT8ARRAYOID, FLOAT4ARRAYOID, INT4OID, TEXTOID};
        update = prepare("UPDATE rec.user_factors SET bias = $3, factors = $4, seen_items = $5, seen_values = $6, "
                         "revision = $7 WHERE model_id = $1 AND user_id = $2",
                         7, types);
        insert = prepare("INSERT INTO rec.user_factors (model_id, user_id, bias, factors, seen_items, seen_values, "
                         "revision, user_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                         8, types);
    }
    for (size_t r = 0; r < u.count; ++r)
    {
        MemoryContext outer = MemoryContextSwitchTo(row_context);
        Datum values[8] = {Int64GetDatum(model_id), Int64GetDatum(u.ids[r]), Float4GetDatum(u.bias[r]),
                           float_array(u.factors + r * size_t(u.k), u.k)};
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
            values[5] = float_array(u.seen_values + begin, int(count));
            values[6] = Int32GetDatum(revision);
        }
        values[key_arg] = key;
        char nulls[8];
        memset(nulls, ' ', sizeof(nulls));
        nulls[key_arg] = u.keys ? ' ' : 'n';
        execute(spi, update, values, SPI_OK_UPDATE, nulls);
        if (SPI_processed == 0)
            execute(spi, insert, values, SPI_OK_INSERT, nulls);
        MemoryContextSwitchTo(outer);
        MemoryContextReset(row_context);
    }
    end_spi(spi);
}

int32
grant_model(const char *name, const char *role, bool grant)
{
    require_model_owner(name, grant ? "grant" : "revoke");
    // PUBLIC (any case) is every role, stored as 0; otherwise a role name, as GRANT takes it.
    const Oid grantee = pg_strcasecmp(role, "public") == 0 ? InvalidOid : get_role_oid(role, false);
    const Oid caller = GetUserId();
    SpiSession spi = begin_spi(true);
    Oid types[] = {TEXTOID, OIDOID, OIDOID};
    Datum args[] = {CStringGetTextDatum(name), ObjectIdGetDatum(grantee), ObjectIdGetDatum(caller)};
    execute(spi, prepare(grant ? "INSERT INTO rec.model_grants (name, grantee, granted_by) "
                                 "VALUES ($1, $2::regrole, $3::regrole) ON CONFLICT (name, grantee) DO NOTHING"
                               : "DELETE FROM rec.model_grants WHERE name = $1 AND grantee = $2::regrole",
                         3, types),
            args, grant ? SPI_OK_INSERT : SPI_OK_DELETE);
    const int32 changed = int32(SPI_processed);
    end_spi(spi);
    return changed;
}

bool
deployed_validation(const char *name, const char *metric, double *value)
{
    const int64 deployed = current_deployment(name);
    if (deployed == 0)
        return false;
    SpiSession spi = begin_spi(true);
    Oid types[] = {INT8OID, TEXTOID};
    Datum args[] = {Int64GetDatum(deployed), CStringGetTextDatum(metric)};
    execute(spi, prepare("SELECT validation_value FROM rec.model_versions WHERE model_id = $1 AND "
                         "validation_metric = $2 AND validation_value IS NOT NULL",
                         2, types),
            args, SPI_OK_SELECT);
    const bool found = SPI_processed == 1;
    bool isnull;
    if (found)
        *value = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    end_spi(spi);
    return found;
}

void
record_deployment(const char *name, int64 model_id)
{
    const Oid caller = GetUserId();
    SpiSession spi = begin_spi(true);
    Oid types[] = {TEXTOID, INT8OID, OIDOID};
    Datum args[] = {CStringGetTextDatum(name), Int64GetDatum(model_id), ObjectIdGetDatum(caller)};
    execute(spi, prepare("INSERT INTO rec.deployments (name, model_id, deployed_by) VALUES ($1, $2, $3::regrole)", 3, types),
            args, SPI_OK_INSERT);
    end_spi(spi);
}

int32
drop_model(const char *name)
{
    int32 count;
    VersionRow *versions = owned_versions(name, "drop", CurrentMemoryContext, &count);
    int64 *ids = (int64 *) palloc(sizeof(int64) * size_t(count));
    for (int32 v = 0; v < count; ++v)
        ids[v] = versions[v].model_id;
    // Only the versions checked above are deleted, even if another one was trained meanwhile.
    delete_versions(ids, count);
    // The name's grants go with its last version: a new model of that name starts private.
    SpiSession spi = begin_spi(true);
    Oid types[] = {TEXTOID};
    Datum args[] = {CStringGetTextDatum(name)};
    execute(spi, prepare("DELETE FROM rec.model_grants g WHERE name = $1 AND NOT EXISTS "
                         "(SELECT 1 FROM rec.model_versions v WHERE v.name = g.name)", 1, types),
            args, SPI_OK_DELETE);
    end_spi(spi);
    return count;
}

int32
deploy_model(const char *name, int32 version)
{
    int32 count;
    VersionRow *versions = owned_versions(name, "deploy", CurrentMemoryContext, &count);
    for (int32 v = 0; v < count; ++v)
        if (versions[v].version == version)
        {
            record_deployment(name, versions[v].model_id);
            return version;
        }
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" has no version %d", name, version),
                    errhint("SELECT version FROM rec.models WHERE name = '%s' lists its versions.", name)));
    pg_unreachable();
}

int32
rollback_model(const char *name)
{
    int32 count;
    VersionRow *versions = owned_versions(name, "roll back", CurrentMemoryContext, &count);
    const int64 current = current_deployment(name);
    // The newest earlier deployment of another version that still exists.
    SpiSession spi = begin_spi(true);
    Oid types[] = {TEXTOID, INT8OID};
    Datum args[] = {CStringGetTextDatum(name), Int64GetDatum(current)};
    execute(spi, prepare("SELECT d.deployment_id, d.model_id FROM rec.deployments d JOIN rec.model_versions v "
                    "USING (model_id) WHERE d.name = $1 AND NOT d.rolled_back AND d.model_id <> $2 "
                    "ORDER BY d.deployment_id DESC LIMIT 1",
                    2, types),
            args, SPI_OK_SELECT);
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("model \"%s\" has no earlier deployment to roll back to", name),
                        errhint("rec.deploy(model, version) deploys any version.")));
    bool isnull;
    const int64 previous_deployment =
        DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    const int64 previous_model = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    Oid update_types[] = {TEXTOID, INT8OID};
    Datum update_args[] = {CStringGetTextDatum(name), Int64GetDatum(previous_deployment)};
    execute(spi, prepare("UPDATE rec.deployments SET rolled_back = true "
                    "WHERE name = $1 AND deployment_id > $2 AND NOT rolled_back",
                    2, update_types),
            update_args, SPI_OK_UPDATE);
    end_spi(spi);
    for (int32 v = 0; v < count; ++v)
        if (versions[v].model_id == previous_model)
            return versions[v].version;
    pg_unreachable();
}

int32
prune_model(const char *name, int32 keep)
{
    if (keep < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("keep must be at least 1"),
                        errhint("rec.drop_model deletes every version.")));
    int32 count;
    VersionRow *versions = owned_versions(name, "prune", CurrentMemoryContext, &count);
    const int64 deployed = current_deployment(name);
    int64 *ids = (int64 *) palloc(sizeof(int64) * size_t(count));
    int32 doomed = 0;
    // Newest first: the first `keep` versions stay, and so does the deployed one.
    for (int32 v = keep; v < count; ++v)
        if (versions[v].model_id != deployed)
            ids[doomed++] = versions[v].model_id;
    delete_versions(ids, doomed);
    return doomed;
}

}  // namespace rec::pg
