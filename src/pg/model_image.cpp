#include "pg/model_image.hpp"
#include "pg/ids.hpp"
#include "pg/item_weights.hpp"
#include "pg/spi_session.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/checked_size.hpp"
#include "core/topn.hpp"

namespace rec::pg {

namespace {

using rec::core::ModelKind;

// The float4[] of a stored row, checked to hold exactly k values.
const float *
factor_values(Datum datum, int k, int64 model_id)
{
    static const float no_factors = 0;
    if (k == 0)
        return &no_factors;  // item-item models store none
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
fill_gram(const float *item_factors, size_t items, int k, float *out)
{
    const std::vector<float> gram = rec::core::gram_of(item_factors, items, k);
    memcpy(out, gram.data(), sizeof(float) * gram.size());
}

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
    ItemBf16,  // the item factors as bf16 pairs, where the CPU scores with them (core/topn.hpp)
    ItemNorms,
    UserKeyOffsets,
    UserKeyText,
    ItemKeyOffsets,
    ItemKeyText,
    WeightOffsets,  // item-item models: compressed rows of weights (offsets and neighbours absent when dense)
    WeightNeighbours,
    Weights,
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
    ServedModel scalars;
    uint64 offsets[ImageArrays];
    uint64 bytes;
};

// Array offsets for a model of these sizes, each 64-byte aligned (a cache line: the scoring loops
// stream whole lines). Returns the image size, or SIZE_MAX if it overflows.
size_t
image_layout(const ServedModel &m, uint64 *offsets)
{
    using rec::core::sat_add;
    using rec::core::sat_mul;
    const size_t users = size_t(m.n_users), items = size_t(m.n_items), k = size_t(m.model.k), seen = size_t(m.n_seen);
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
    sizes[Gram] = m.model.kind == ModelKind::ImplicitAls ? sat_mul(sat_mul(k, k), sizeof(float)) : 0;
    const bool bf16 = rec::core::bf16_scoring_available() && k > 0;
    sizes[ItemBf16] = bf16 ? sat_mul(sat_mul(items, size_t(rec::core::bf16_pairs(int(k)))), sizeof(uint32)) : 0;
    sizes[ItemNorms] = bf16 ? sat_mul(items, sizeof(float)) : 0;
    sizes[UserKeyOffsets] = m.user_keyed ? sat_mul(users + 1, sizeof(int64)) : 0;
    sizes[UserKeyText] = m.user_keyed ? size_t(m.user_key_bytes) : 0;
    sizes[ItemKeyOffsets] = m.item_keyed ? sat_mul(items + 1, sizeof(int64)) : 0;
    sizes[ItemKeyText] = m.item_keyed ? size_t(m.item_key_bytes) : 0;
    const bool compressed = m.n_weights > 0 && !m.dense_weights;
    sizes[WeightOffsets] = compressed ? sat_mul(items + 1, sizeof(int64)) : 0;
    sizes[WeightNeighbours] = compressed ? sat_mul(size_t(m.n_weights), sizeof(int32)) : 0;
    sizes[Weights] = sat_mul(size_t(m.n_weights), sizeof(float));
    size_t at = TYPEALIGN(64, sizeof(ImageHeader));
    for (int a = 0; a < ImageArrays; ++a)
    {
        offsets[a] = at;
        at = sat_add(at, sat_add(sizes[a], 63)) & ~size_t(63);
    }
    return at;
}

}  // namespace

void
map_pages(const void *address, size_t bytes, bool for_writing)
{
#if defined(MADV_POPULATE_READ) && defined(MADV_POPULATE_WRITE)
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = uintptr_t(address) & ~(page - 1);
    (void) madvise((void *) begin, size_t(uintptr_t(address) + bytes - begin),
                   for_writing ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
#else
    (void) address;
    (void) bytes;
    (void) for_writing;
#endif
}

ServedModel
view_model_image(const char *image)
{
    const ImageHeader *header = (const ImageHeader *) image;
    ServedModel m = header->scalars;
    const uint64 *at = header->offsets;
    m.user_ids = (const int64 *) (image + at[UserIds]);
    m.model.user_factors = (const float *) (image + at[UserFactors]);
    m.model.user_bias = (const float *) (image + at[UserBias]);
    m.seen_offsets = (const int64 *) (image + at[SeenOffsets]);
    m.seen_items = (const int32 *) (image + at[SeenItems]);
    m.seen_values = (const float *) (image + at[SeenValues]);
    m.item_ids = (const int64 *) (image + at[ItemIds]);
    m.model.item_factors = (const float *) (image + at[ItemFactors]);
    m.model.item_bias = (const float *) (image + at[ItemBias]);
    m.item_counts = (const int32 *) (image + at[ItemCounts]);
    m.items_by_popularity = (const int32 *) (image + at[Popularity]);
    m.model.item_gram = m.model.kind == ModelKind::ImplicitAls ? (const float *) (image + at[Gram]) : nullptr;
    const bool bf16 = at[ItemNorms] != at[ItemBf16];  // present: the array has a size
    m.model.item_bf16 = bf16 ? (const uint32 *) (image + at[ItemBf16]) : nullptr;
    m.model.item_norms = bf16 ? (const float *) (image + at[ItemNorms]) : nullptr;
    m.user_key_offsets = m.user_keyed ? (const int64 *) (image + at[UserKeyOffsets]) : nullptr;
    m.user_key_text = m.user_keyed ? image + at[UserKeyText] : nullptr;
    m.item_key_offsets = m.item_keyed ? (const int64 *) (image + at[ItemKeyOffsets]) : nullptr;
    m.item_key_text = m.item_keyed ? image + at[ItemKeyText] : nullptr;
    m.weights = {};
    if (m.n_weights > 0)
    {
        m.weights.items = size_t(m.n_items);
        m.weights.offsets = m.dense_weights ? nullptr : (const int64 *) (image + at[WeightOffsets]);
        m.weights.neighbours = m.dense_weights ? nullptr : (const int32 *) (image + at[WeightNeighbours]);
        m.weights.weights = (const float *) (image + at[Weights]);
    }
    return m;
}

int64
user_index(const ServedModel *m, int64 user_id)
{
    const int64 *at = std::lower_bound(m->user_ids, m->user_ids + m->n_users, user_id);
    return (at != m->user_ids + m->n_users && *at == user_id) ? at - m->user_ids : -1;
}

int64
item_index(const ServedModel *m, int64 item_id)
{
    const int64 *at = std::lower_bound(m->item_ids, m->item_ids + m->n_items, item_id);
    return (at != m->item_ids + m->n_items && *at == item_id) ? at - m->item_ids : -1;
}

namespace {

// A version's scalars from rec.model_versions (pointers unset), in the session's snapshot.
ServedModel
read_header(const SpiSession &spi, int64 model_id)
{
    ServedModel m{};
    m.model_id = model_id;
    Datum args[] = {Int64GetDatum(model_id)};
    Oid types[] = {INT8OID};
    run_sql(spi,
            "SELECT n_users, n_items, coalesce((hyperparameters->>'factors')::int, 0), global_mean, rating_min, "
            "rating_max, "
            "algorithm, coalesce((hyperparameters->>'regularization')::float8, 0), "
            "coalesce((hyperparameters->>'bias_regularization')::float8, 0), "
            "coalesce((hyperparameters->>'unweighted_regularization')::float8, 0), "
            "coalesce((hyperparameters->>'alpha')::float8, 0), n_ratings, user_type::oid, item_type::oid, "
            "user_key_bytes, item_key_bytes, coalesce(hyperparameters->>'confidence', ''), train_value, "
            "coalesce((hyperparameters->>'neighbours')::int, 0) "
            "FROM rec.model_versions WHERE model_id = $1",
            1, types, args, SPI_OK_SELECT);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("model version %lld no longer exists", (long long) model_id)));
    rec::core::FactorModelView &f = m.model;
    m.n_users = DatumGetInt32(result_value(0, 1));
    m.n_items = DatumGetInt32(result_value(0, 2));
    f.users = size_t(m.n_users);
    f.items = size_t(m.n_items);
    f.k = DatumGetInt32(result_value(0, 3));
    f.global_mean = DatumGetFloat8(result_value(0, 4));
    f.rating_min = DatumGetFloat4(result_value(0, 5));
    f.rating_max = DatumGetFloat4(result_value(0, 6));
    const char *algorithm = TextDatumGetCString(result_value(0, 7));
    f.kind = strcmp(algorithm, "als") == 0       ? ModelKind::ExplicitAls
             : strcmp(algorithm, "ials") == 0    ? ModelKind::ImplicitAls
             : strcmp(algorithm, "ease") == 0    ? ModelKind::Ease
             : strcmp(algorithm, "itemknn") == 0 ? ModelKind::ItemKnn
                                                 : ModelKind::Bpr;
    // Ratings are predicted within the training range; implicit scores are preferences, not ratings.
    f.clip = f.kind == ModelKind::ExplicitAls;
    f.solve.regularization = DatumGetFloat8(result_value(0, 8));
    f.solve.bias_regularization = DatumGetFloat8(result_value(0, 9));
    f.solve.unweighted_regularization = DatumGetFloat8(result_value(0, 10));
    f.solve.alpha = DatumGetFloat8(result_value(0, 11));
    m.n_seen = DatumGetInt64(result_value(0, 12));
    m.user_type = DatumGetObjectId(result_value(0, 13));
    m.item_type = DatumGetObjectId(result_value(0, 14));
    m.user_key_bytes = DatumGetInt64(result_value(0, 15));
    m.item_key_bytes = DatumGetInt64(result_value(0, 16));
    f.solve.confidence = strcmp(TextDatumGetCString(result_value(0, 17)), "implicit") == 0
                             ? rec::core::Confidence::Alpha
                             : rec::core::Confidence::OnePlusAlpha;
    m.user_keyed = is_keyed_type(m.user_type);
    m.item_keyed = is_keyed_type(m.item_type);
    // Item-item models: their train_value is the number of weights stored, dense for ease unless
    // sparsified to fewer neighbours than items.
    const bool item_item = rec::core::is_item_item(f.kind);
    m.n_weights = item_item ? int64(DatumGetFloat8(result_value(0, 18))) : 0;
    const int32 neighbours = DatumGetInt32(result_value(0, 19));
    m.dense_weights = f.kind == ModelKind::Ease && (neighbours == 0 || neighbours >= m.n_items);
    if (m.user_key_bytes < 0 || m.item_key_bytes < 0 || (item_item ? f.k != 0 || m.n_weights < 0 : f.k < 1) ||
        (m.dense_weights && m.n_weights != int64(m.n_items) * m.n_items))
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld has a corrupted header", (long long) model_id)));
    return m;
}

// A new image for `m` in `context`, its header filled in; *offsets receives the layout.
char *
new_image(const ServedModel &m, MemoryContext context, uint64 *offsets, size_t *bytes)
{
    const size_t size = image_layout(m, offsets);
    if (size > MaxAllocHugeSize)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("model %lld is too large to load (%zu bytes)", (long long) m.model_id, size)));
    char *image = (char *) MemoryContextAllocExtended(context, size, MCXT_ALLOC_HUGE);
    map_pages(image, size, true);
    memset(image, 0, size);  // padding included, so that equal models give equal bytes
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
append_key(char *image, const uint64 *offsets, bool items, int32 index, const char *text, int64 length, int64 *at_key,
           int64 total)
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
append_key_column(char *image, const uint64 *offsets, const ServedModel &m, bool items, HeapTuple t, TupleDesc d,
                  int column, int32 index, int64 *at_key)
{
    bool isnull;
    const Datum value = SPI_getbinval(t, d, column, &isnull);
    const text *key = isnull ? nullptr : DatumGetTextPP(value);
    if (key == nullptr || !append_key(image, offsets, items, index, VARDATA_ANY(key), int64(VARSIZE_ANY_EXHDR(key)),
                                      at_key, items ? m.item_key_bytes : m.user_key_bytes))
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED),
                 errmsg("%s ids of model %lld do not match the model", items ? "item" : "user", (long long) m.model_id),
                 errhint("Train the model again.")));
}

// Where a user row goes in an image being built.
struct UserRowTarget
{
    char *image;
    const uint64 *offsets;
    const ServedModel &m;  // counts and k
    SeenEntry *scratch;    // room for m.n_items entries
};

// Writes the user row `t` (user_id, bias, factors, seen_items, seen_values, user_key) as user `u`, its
// seen items (those the model has, sorted by item index, so scoring skips them in one pass) from
// `at_seen` and, for text ids, its text from *at_key; returns the new end of the seen items. Raises
// 22P04-style corruption errors for inconsistent rows.
int64
write_user_row(const UserRowTarget &to, HeapTuple t, TupleDesc d, int32 u, int64 at_seen, int64 *at_key)
{
    const ServedModel &m = to.m;
    if (m.user_keyed)
        append_key_column(to.image, to.offsets, m, false, t, d, 6, u, at_key);
    const size_t k = size_t(m.model.k);
    const int64 *item_ids = (const int64 *) (to.image + to.offsets[ItemIds]);
    int32 *seen_items = (int32 *) (to.image + to.offsets[SeenItems]);
    float *seen_values = (float *) (to.image + to.offsets[SeenValues]);
    bool isnull;
    const int64 user_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
    ((int64 *) (to.image + to.offsets[UserIds]))[u] = user_id;
    ((float *) (to.image + to.offsets[UserBias]))[u] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
    memcpy((float *) (to.image + to.offsets[UserFactors]) + size_t(u) * k,
           factor_values(SPI_getbinval(t, d, 3, &isnull), m.model.k, m.model_id), sizeof(float) * k);
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

// What is computed from the item factors once they are in the image: YᵀY for implicit fold-in, and
// the bf16 rows and norms for scoring.
void
fill_derived_item_arrays(char *image, const uint64 *offsets, const ServedModel &m)
{
    const float *factors = (const float *) (image + offsets[ItemFactors]);
    if (m.model.kind == ModelKind::ImplicitAls)
        fill_gram(factors, size_t(m.n_items), m.model.k, (float *) (image + offsets[Gram]));
    if (offsets[ItemNorms] != offsets[ItemBf16] && m.model.k > 0)
        rec::core::fill_bf16_rows(factors, size_t(m.n_items), m.model.k, (uint32 *) (image + offsets[ItemBf16]),
                                  (float *) (image + offsets[ItemNorms]));
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
    SpiSession spi = begin_spi(SpiRole::Owner, true);
    const ServedModel m = read_header(spi, model_id);
    Datum args[] = {Int64GetDatum(model_id)};
    Oid types[] = {INT8OID};
    uint64 offsets[ImageArrays];
    size_t size;
    char *image = new_image(m, context, offsets, &size);
    const size_t k = size_t(m.model.k);
    int64 *item_ids = (int64 *) (image + offsets[ItemIds]);
    float *item_factors = (float *) (image + offsets[ItemFactors]);
    float *item_bias = (float *) (image + offsets[ItemBias]);
    int32 *popularity = (int32 *) (image + offsets[Popularity]);
    int64 *seen_offsets = (int64 *) (image + offsets[SeenOffsets]);
    int32 *item_count = (int32 *) (image + offsets[ItemCounts]);
    SeenEntry *pairs =
        (SeenEntry *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(SeenEntry) * Max(m.n_items, 1));

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
                ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                                errmsg("model %lld has more items than recorded", (long long) model_id)));
            item_ids[n] = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
            item_bias[n] = DatumGetFloat4(SPI_getbinval(t, d, 2, &isnull));
            memcpy(item_factors + size_t(n) * k, factor_values(SPI_getbinval(t, d, 3, &isnull), m.model.k, model_id),
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
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld is missing item rows", (long long) model_id)));
    fill_derived_item_arrays(image, offsets, m);
    order_by_popularity(popularity, item_count, m.n_items);
    if (rec::core::is_item_item(m.model.kind))
        load_item_weights(m, (const int64 *) (image + offsets[ItemIds]), (int64 *) (image + offsets[WeightOffsets]),
                          (int32 *) (image + offsets[WeightNeighbours]), (float *) (image + offsets[Weights]));

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
                ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                                errmsg("model %lld has more users than recorded", (long long) model_id)));
            seen_offsets[n] = seen_count;
            seen_count = write_user_row(to, SPI_tuptable->vals[r], SPI_tuptable->tupdesc, n, seen_count, &user_key_at);
        }
        SPI_freetuptable(SPI_tuptable);
        CHECK_FOR_INTERRUPTS();
    }
    SPI_cursor_close(users);
    if (n != m.n_users || seen_count != m.n_seen || (m.user_keyed && user_key_at != m.user_key_bytes))
        ereport(ERROR,
                (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model %lld is missing user rows", (long long) model_id)));
    seen_offsets[m.n_users] = seen_count;
    end_spi(spi);  // frees item_count and the rest of the SPI-context scratch
    *bytes = size;
    return image;
}

char *
patch_model_image(int64 model_id, const char *base, int32 base_revision, MemoryContext context, size_t *bytes)
{
    const ImageHeader *base_header = (const ImageHeader *) base;
    const ServedModel b = view_model_image(base);
    SpiSession spi = begin_spi(SpiRole::Owner, true);
    const ServedModel m = read_header(spi, model_id);
    if (m.n_users < b.n_users || m.n_items != b.n_items || m.model.k != b.model.k ||
        m.item_key_bytes != b.item_key_bytes || m.user_keyed != b.user_keyed || m.item_keyed != b.item_keyed)
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
    for (int a : {ItemIds, ItemFactors, ItemBias, Popularity, ItemCounts, Gram, ItemBf16, ItemNorms, ItemKeyOffsets,
                  ItemKeyText, WeightOffsets, WeightNeighbours, Weights})
        memcpy(image + offsets[a], base + base_header->offsets[a],
               Min(padded(offsets, *bytes, a), padded(base_header->offsets, base_header->bytes, a)));
    const size_t k = size_t(m.model.k);
    const int64 *item_ids = (const int64 *) (image + offsets[ItemIds]);
    int64 *user_ids = (int64 *) (image + offsets[UserIds]);
    float *user_factors = (float *) (image + offsets[UserFactors]);
    float *user_bias = (float *) (image + offsets[UserBias]);
    Datum args[] = {Int64GetDatum(model_id), Int32GetDatum(base_revision)};
    Oid types[] = {INT8OID, INT4OID};

    // Items written since the base revision.
    execute_sql(spi,
                prepare_sql("SELECT item_id, bias, factors, n_ratings FROM rec.item_factors "
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
               factor_values(SPI_getbinval(t, d, 3, &isnull), m.model.k, model_id), sizeof(float) * k);
        ((int32 *) (image + offsets[ItemCounts]))[i] = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
    }
    if (items_changed)
    {
        order_by_popularity((int32 *) (image + offsets[Popularity]), (const int32 *) (image + offsets[ItemCounts]),
                            m.n_items);
        fill_derived_item_arrays(image, offsets, m);
    }

    // Users written since the base revision, in id order, merged with the base's: a refreshed user
    // replaces its old row, an added one is inserted; seen lists are spliced in the same order.
    execute_sql(spi,
                prepare_sql("SELECT user_id, bias, factors, seen_items, seen_values, user_key FROM rec.user_factors "
                            "WHERE model_id = $1 AND revision > $2 ORDER BY user_id",
                            2, types),
                args, SPI_OK_SELECT);
    const uint64 changed = SPI_processed;
    int64 *seen_offsets = (int64 *) (image + offsets[SeenOffsets]);
    int32 *seen_items = (int32 *) (image + offsets[SeenItems]);
    float *seen_values = (float *) (image + offsets[SeenValues]);
    SeenEntry *scratch =
        (SeenEntry *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(SeenEntry) * Max(m.n_items, 1));
    const UserRowTarget to{image, offsets, m, scratch};
    const auto changed_id = [&](uint64 r) {
        bool isnull;
        return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
    };
    int64 at_seen = 0, at_key = 0;
    bool keys_fit = true;
    uint64 next = 0;      // next changed row
    int32 next_base = 0;  // next base user
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
            user_bias[u] = b.model.user_bias[next_base];
            memcpy(user_factors + size_t(u) * k, b.model.user_factors + size_t(next_base) * k, sizeof(float) * k);
            memcpy(seen_items + at_seen, b.seen_items + begin, sizeof(int32) * size_t(count));
            memcpy(seen_values + at_seen, b.seen_values + begin, sizeof(float) * size_t(count));
            at_seen += count;
            if (m.user_keyed)
                keys_fit =
                    keys_fit && append_key(image, offsets, false, u, b.user_key_text + b.user_key_offsets[next_base],
                                           b.user_key_offsets[next_base + 1] - b.user_key_offsets[next_base], &at_key,
                                           m.user_key_bytes);
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

}  // namespace rec::pg
