#include "pg/item_features.hpp"
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/safe_sql.hpp"
#include "pg/spi_session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/item_features.hpp"

namespace rec::pg {

namespace {

// A feature table's rows, palloc'd: item id, feature name, weight.
struct FeatureRows
{
    size_t count = 0;
    int64 *ids = nullptr;
    const char **names = nullptr;
    float *weights = nullptr;
};

// Rows of `table` (only those of `only`, when given) as the caller.
FeatureRows
read_feature_rows(const char *table, const int64 *only, size_t only_count)
{
    const char *quoted;
    const Oid relid = readable_relation(table, &quoted);
    Relation relation = relation_open(relid, NoLock);  // locked by readable_relation
    TupleDesc desc = RelationGetDescr(relation);
    const char *columns[3] = {nullptr, nullptr, nullptr};
    Oid id_type = InvalidOid;
    int found = 0;
    for (int a = 0; a < desc->natts && found < 3; ++a)
    {
        const Form_pg_attribute attribute = TupleDescAttr(desc, a);
        if (attribute->attisdropped)
            continue;
        if (found == 0)
            id_type = getBaseType(attribute->atttypid);
        columns[found++] = quote_identifier(NameStr(attribute->attname));
    }
    relation_close(relation, NoLock);
    if (found < 2)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("item_features \"%s\" must have the columns (item id, feature text [, weight])", table),
                        errhint("For example a view movie_features (item_id, feature) with rows such as "
                                "(1, 'genre:Comedy').")));
    if (id_type != INT2OID && id_type != INT4OID && id_type != INT8OID)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("item_features \"%s\" has %s item ids; item features need integer item ids", table,
                               format_type_be(id_type)),
                        errhint("Map the ids to integers in the source and the feature table.")));
    const char *weight =
        found == 3 ? psprintf("CAST(%s AS pg_catalog.float8)", columns[2]) : "CAST(1 AS pg_catalog.float8)";
    const char *query =
        psprintf("SELECT CAST(%s AS pg_catalog.int8), CAST(%s AS pg_catalog.text), %s FROM %s WHERE %s IS NOT NULL "
                 "AND %s IS NOT NULL AND CAST(%s AS pg_catalog.text) OPERATOR(pg_catalog.<>) ''%s",
                 columns[0], columns[1], weight, quoted, columns[0], columns[1], columns[1],
                 only ? psprintf(" AND %s OPERATOR(pg_catalog.=) ANY ($1)", columns[0]) : "");
    MemoryContext caller = CurrentMemoryContext;
    const SpiSession spi = begin_spi(SpiRole::Caller);
    Oid types[] = {INT8ARRAYOID};
    Datum values[] = {only ? bigint_array(only, only_count) : (Datum) 0};
    run_sql(spi, query, only ? 1 : 0, types, values, SPI_OK_SELECT);
    FeatureRows out;
    out.count = size_t(SPI_processed);
    out.ids = (int64 *) MemoryContextAllocHuge(caller, sizeof(int64) * (out.count + 1));
    out.names = (const char **) MemoryContextAllocHuge(caller, sizeof(char *) * (out.count + 1));
    out.weights = (float *) MemoryContextAllocHuge(caller, sizeof(float) * (out.count + 1));
    for (size_t r = 0; r < out.count; ++r)
    {
        bool null;
        out.ids[r] = DatumGetInt64(result_value(r, 1));
        out.names[r] = MemoryContextStrdup(caller, TextDatumGetCString(result_value(r, 2)));
        const Datum w = result_value(r, 3, &null);
        const double value = null ? 1.0 : DatumGetFloat8(w);
        if (!std::isfinite(value) || !std::isfinite(float(value)))
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("item_features \"%s\" has a weight that is not a finite number: %g", table, value),
                            errdetail("Item %lld, feature \"%s\".", (long long) out.ids[r], out.names[r])));
        out.weights[r] = float(value);
    }
    end_spi(spi);
    return out;
}

int
compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

// The distinct names of `rows`, sorted (palloc'd); *count is how many.
const char **
distinct_names(const FeatureRows &rows, int32 *count)
{
    const char **names = (const char **) palloc(sizeof(char *) * (rows.count + 1));
    memcpy(names, rows.names, sizeof(char *) * rows.count);
    qsort(names, rows.count, sizeof(char *), compare_names);
    size_t kept = 0;
    for (size_t r = 0; r < rows.count; ++r)
        if (kept == 0 || strcmp(names[r], names[kept - 1]) != 0)
            names[kept++] = names[r];
    *count = int32(kept);
    return names;
}

// Index of `name` in sorted `names`, or -1.
int32
name_index(const char *const *names, int32 count, const char *name)
{
    const char *const *found =
        (const char *const *) bsearch(&name, names, size_t(count), sizeof(char *), compare_names);
    return found ? int32(found - names) : -1;
}

}  // namespace

StoredFeatureMap
attach_item_features(const char *table, Oid item_type, rec::core::Interactions &data, rec::core::FactorModel &model)
{
    const auto started = std::chrono::steady_clock::now();
    if (item_type != INT2OID && item_type != INT4OID && item_type != INT8OID)
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("item_features needs integer item ids"),
                 errhint("The source's item ids are %s; map them to integers in a view.", format_type_be(item_type))));
    const FeatureRows rows = read_feature_rows(table, nullptr, 0);
    StoredFeatureMap out;
    out.k = model.factors;
    out.names = distinct_names(rows, &out.count);
    int32 *feature_of = (int32 *) palloc(sizeof(int32) * (rows.count + 1));
    for (size_t r = 0; r < rows.count; ++r)
        feature_of[r] = name_index(out.names, out.count, rows.names[r]);
    out.weights = (float *) palloc(sizeof(float) * (size_t(out.count) + 1) * size_t(out.k + 1));
    size_t added = 0, blended = 0;
    cpp_call([&] {
        const std::vector<int64_t> ids(rows.ids, rows.ids + rows.count);
        added = rec::core::add_items(data, model, ids);
        const size_t items = data.item_ids.size();
        // The rows grouped by the item's dense index.
        rec::core::ItemFeatureRows by_item;
        by_item.feature_count = out.count;
        by_item.offsets.assign(items + 1, 0);
        std::vector<int64_t> index_of(rows.count);
        for (size_t r = 0; r < rows.count; ++r)
        {
            index_of[r] = rec::core::find_id(data.item_ids, rows.ids[r]);
            ++by_item.offsets[size_t(index_of[r]) + 1];
        }
        for (size_t i = 0; i < items; ++i)
            by_item.offsets[i + 1] += by_item.offsets[i];
        by_item.features.resize(rows.count);
        by_item.weights.resize(rows.count);
        std::vector<int64_t> next(by_item.offsets.begin(), by_item.offsets.end() - 1);
        for (size_t r = 0; r < rows.count; ++r)
        {
            const size_t slot = size_t(next[size_t(index_of[r])]++);
            by_item.features[slot] = feature_of[r];
            by_item.weights[slot] = rows.weights[r];
        }
        std::vector<uint8_t> learn_from(items, 0);
        for (size_t i = 0; i < items; ++i)
            learn_from[i] = data.by_item.row_size(i) > 0 && by_item.offsets[i + 1] > by_item.offsets[i];
        BackendHooks hooks;
        rec::core::FeatureMapParams params;
        params.regularization = kFeatureRegularization;
        const rec::core::FeatureMap map = rec::core::learn_feature_map(
            by_item, learn_from, model.item_factors.data(), model.item_bias.data(), model.factors, params, hooks);
        std::copy(map.weights.begin(), map.weights.end(), out.weights);
        const int k = model.factors;
        std::vector<float> predicted(static_cast<size_t>(k));
        for (size_t i = 0; i < items; ++i)
        {
            const int64_t begin = by_item.offsets[i], count = by_item.offsets[i + 1] - begin;
            if (count == 0)
                continue;
            float bias;
            rec::core::predict_from_features(map, &by_item.features[size_t(begin)], &by_item.weights[size_t(begin)],
                                             size_t(count), predicted.data(), &bias);
            float *own = model.item_factors.data() + i * size_t(k);
            const size_t interactions = data.by_item.row_size(i);
            if (interactions == 0)
            {
                std::copy(predicted.begin(), predicted.end(), own);
                model.item_bias[i] = bias;
            }
            else
            {
                rec::core::blend_with_features(own, &model.item_bias[i], predicted.data(), bias, k,
                                               double(interactions), kFeaturePrior);
                ++blended;
            }
        }
    });
    ereport(NOTICE, (errmsg("item features from %s: %d features on %zu rows; %zu items added from their features "
                            "alone, %zu blended with them; %.2f s",
                            table, out.count, rows.count, added, blended,
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count())));
    return out;
}

void
store_feature_map(int64 model_id, const StoredFeatureMap &map)
{
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {INT8OID, TEXTOID, FLOAT4ARRAYOID, FLOAT4OID};
    SPIPlanPtr insert = prepare_sql(
        "INSERT INTO rec.feature_weights (model_id, feature, factors, bias) VALUES ($1, $2, $3, $4)", 4, types);
    const size_t width = size_t(map.k) + 1;
    for (int32 f = 0; f <= map.count; ++f)
    {
        const float *row = map.weights + size_t(f) * width;
        // The intercept is stored as the empty feature, which no feature table row can name.
        Datum values[] = {Int64GetDatum(model_id), CStringGetTextDatum(f < map.count ? map.names[f] : ""),
                          float_array(row, size_t(map.k)), Float4GetDatum(row[map.k])};
        execute_sql(spi, insert, values, SPI_OK_INSERT);
    }
    end_spi(spi);
}

size_t
factors_from_features(int64 model_id, const int64 *ids, size_t count, int64 *out_ids, float *out_factors,
                      float *out_bias)
{
    // The version's feature table and map.
    MemoryContext caller = CurrentMemoryContext;
    const SpiSession spi = begin_spi(SpiRole::Caller);
    Oid types[] = {INT8OID};
    Datum args[] = {Int64GetDatum(model_id)};
    run_sql(
        spi,
        "SELECT v.hyperparameters->>'item_features', (v.hyperparameters->>'factors')::int FROM rec.model_versions v "
        "WHERE v.model_id = $1",
        1, types, args, SPI_OK_SELECT);
    bool null;
    const Datum table_datum = SPI_processed == 1 ? result_value(0, 1, &null) : (Datum) 0;
    if (SPI_processed != 1 || null)
    {
        end_spi(spi);
        return 0;
    }
    const char *table = MemoryContextStrdup(caller, TextDatumGetCString(table_datum));
    const int k = DatumGetInt32(result_value(0, 2));
    run_sql(spi,
            "SELECT feature, factors, bias FROM rec.feature_weights WHERE model_id = $1 ORDER BY feature COLLATE \"C\"",
            1, types, args, SPI_OK_SELECT);
    const int32 rows = int32(SPI_processed);  // the features, and the intercept ('') first
    StoredFeatureMap map;
    map.k = k;
    map.count = rows - 1;
    map.names = (const char **) MemoryContextAlloc(caller, sizeof(char *) * size_t(Max(rows, 1)));
    map.weights = (float *) MemoryContextAlloc(caller, sizeof(float) * size_t(Max(rows, 1)) * size_t(k + 1));
    for (int32 r = 0; r < rows; ++r)
    {
        // Row 0 is the intercept (the empty name sorts first); it goes last in the map.
        const int32 slot = r == 0 ? map.count : r - 1;
        if (r > 0)
            map.names[slot] = MemoryContextStrdup(caller, TextDatumGetCString(result_value(uint64(r), 1)));
        ArrayType *factors = DatumGetArrayTypeP(result_value(uint64(r), 2));
        if (ARR_NDIM(factors) != 1 || ARR_DIMS(factors)[0] != k || ARR_HASNULL(factors))
            elog(ERROR, "feature weights of model version %lld are damaged", (long long) model_id);
        memcpy(map.weights + size_t(slot) * size_t(k + 1), ARR_DATA_PTR(factors), sizeof(float) * size_t(k));
        map.weights[size_t(slot) * size_t(k + 1) + size_t(k)] = DatumGetFloat4(result_value(uint64(r), 3));
    }
    end_spi(spi);
    if (rows == 0)
        return 0;
    const FeatureRows features = read_feature_rows(table, ids, count);
    // Each asked item's features as map indexes (PostgreSQL-side arrays), then every prediction in one
    // C++ block with the map copied once.
    int32 *indexes = (int32 *) palloc(sizeof(int32) * (features.count + 1));
    for (size_t r = 0; r < features.count; ++r)
        indexes[r] = name_index(map.names, map.count, features.names[r]);
    size_t found = 0;
    cpp_call([&] {
        rec::core::FeatureMap core_map;
        core_map.k = k;
        core_map.feature_count = map.count;
        core_map.weights.assign(map.weights, map.weights + size_t(map.count + 1) * size_t(k + 1));
        std::vector<int32_t> mine;
        std::vector<float> weights;
        for (size_t w = 0; w < count; ++w)
        {
            mine.clear();
            weights.clear();
            for (size_t r = 0; r < features.count; ++r)
                if (features.ids[r] == ids[w])
                {
                    mine.push_back(indexes[r]);
                    weights.push_back(features.weights[r]);
                }
            if (mine.empty())
                continue;
            rec::core::predict_from_features(core_map, mine.data(), weights.data(), mine.size(),
                                             out_factors + found * size_t(k), &out_bias[found]);
            out_ids[found++] = ids[w];
        }
    });
    return found;
}

}  // namespace rec::pg
