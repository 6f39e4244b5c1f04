// rec.recommend and rec.predict: serving a trained model in queries.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/ids.hpp"
#include "pg/model_cache.hpp"
#include "pg/worker_threads.hpp"

#include <algorithm>
#include <cmath>

#include "core/fold_in.hpp"
#include "core/topn.hpp"

namespace {

using rec::pg::LoadedModel;

// The SQL type of argument `arg` as called (an "any" or polymorphic argument's actual type).
Oid
arg_type(FunctionCallInfo fcinfo, int arg)
{
    const Oid type = get_fn_expr_argtype(fcinfo->flinfo, arg);
    if (type == InvalidOid)
        elog(ERROR, "could not determine the type of argument %d", arg + 1);
    return type;
}

// The type of the result's first column (the ids returned), resolved for polymorphic results.
Oid
result_id_type(FunctionCallInfo fcinfo)
{
    return TupleDescAttr(((ReturnSetInfo *) fcinfo->resultinfo)->setDesc, 0)->atttypid;
}

// An array argument of item ids as dense item indexes of the model; ids it does not know and NULL
// elements are left out. `given` says whether the argument was passed at all.
struct ItemList
{
    int32 *indexes;
    size_t count;
    bool given;
};

ItemList
item_list_arg(FunctionCallInfo fcinfo, int arg, const char *name, const LoadedModel *m, size_t extra_room = 0)
{
    ItemList list{nullptr, 0, !PG_ARGISNULL(arg)};
    rec::pg::ArrayValues ids{nullptr, 0, InvalidOid};
    if (list.given)
        ids = rec::pg::array_values(PG_GETARG_DATUM(arg), arg_type(fcinfo, arg), name);
    list.indexes = (int32 *) palloc(sizeof(int32) * (size_t(ids.count) + extra_room + 1));
    for (int e = 0; e < ids.count; ++e)
    {
        const int64 index = rec::pg::item_index_of(m, ids.values[e], ids.element_type);
        if (index >= 0)
            list.indexes[list.count++] = int32(index);
    }
    return list;
}

// Best n items for a known user into caller-provided arrays; returns how many. Pure C++: the result
// vector is gone before the caller touches PostgreSQL again.
size_t
score_known_user(const LoadedModel *m, int64 user, const ItemList &candidates, const ItemList &excluded, size_t n,
                 int32 *items, float *scores)
{
    const rec::core::ItemFactorsView view{m->item_factors, m->item_bias, size_t(m->n_items), m->k};
    const float *factors = m->user_factors + size_t(user) * size_t(m->k);
    const float offset = float(m->global_mean) + m->user_bias[user];
    rec::pg::BackendHooks hooks;
    const rec::pg::ScoringThreads threads(size_t(m->n_items), m->k);
    const auto best = candidates.given
                          ? rec::core::top_n_among(view, factors, offset, {candidates.indexes, candidates.count},
                                                   {excluded.indexes, excluded.count}, n)
                          : rec::core::top_n(view, factors, offset, excluded.indexes, excluded.count, n,
                                             threads.threads(), &hooks);
    for (size_t r = 0; r < best.size(); ++r)
    {
        items[r] = int32(best[r].item);
        scores[r] = best[r].score;
    }
    return best.size();
}

// Unknown user: the most rated eligible items, each scored as for an average user (μ + b_i).
size_t
popular_items(const LoadedModel *m, const ItemList &candidates, const ItemList &excluded, size_t n, int32 *items,
              float *scores)
{
    // 1: allowed; 0: not a candidate or excluded.
    char *allowed = (char *) palloc(size_t(m->n_items) + 1);
    memset(allowed, candidates.given ? 0 : 1, size_t(m->n_items));
    for (size_t c = 0; c < candidates.count; ++c)
        allowed[candidates.indexes[c]] = 1;
    for (size_t e = 0; e < excluded.count; ++e)
        allowed[excluded.indexes[e]] = 0;
    size_t found = 0;
    for (int32 rank = 0; rank < m->n_items && found < n; ++rank)
    {
        const int32 i = m->items_by_popularity[rank];
        if (!allowed[i])
            continue;
        items[found] = i;
        scores[found] = float(m->global_mean) + m->item_bias[i];
        ++found;
    }
    return found;
}

// Rows (id, value) for dense user or item indexes, the ids in the result column's type.
void
emit_pairs(FunctionCallInfo fcinfo, const LoadedModel *m, bool items, const int32 *indexes, const float *values,
           size_t count)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    const Oid type = result_id_type(fcinfo);
    for (size_t r = 0; r < count; ++r)
    {
        Datum row[2] = {items ? rec::pg::item_id_value(m, indexes[r], type) : rec::pg::user_id_value(m, indexes[r], type),
                        Float4GetDatum(values[r])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
}

int
checked_n(FunctionCallInfo fcinfo, int arg)
{
    if (PG_ARGISNULL(arg) || PG_GETARG_INT32(arg) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must be a number >= 0"),
                        errhint("n is how many rows to return.")));
    return PG_GETARG_INT32(arg);
}

// The n rows of `factors` most similar to `row` into caller-provided arrays; returns how many.
size_t
similar_rows(const float *factors, size_t count, int k, int64 row, size_t n, int32 *out_rows, float *similarities)
{
    const auto best = rec::core::most_similar(factors, count, k, size_t(row), n);
    for (size_t r = 0; r < best.size(); ++r)
    {
        out_rows[r] = int32(best[r].item);
        similarities[r] = best[r].score;
    }
    return best.size();
}

// rec.similar_items and rec.similar_users: (id, cosine similarity), most similar first.
Datum
similar(FunctionCallInfo fcinfo, bool items)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = checked_n(fcinfo, 1);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const char *model_name = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
    const LoadedModel *m = rec::pg::serving_model(model_name);
    rec::pg::check_id_result_type(m, items, result_id_type(fcinfo),
                                  "Pass the id as text or uuid, as the model's ids are: the results have the id's type.");
    const int64 row = items ? rec::pg::item_index_of(m, PG_GETARG_DATUM(0), arg_type(fcinfo, 0))
                            : rec::pg::user_index_of(m, PG_GETARG_DATUM(0), arg_type(fcinfo, 0));
    if (row < 0)
        PG_RETURN_NULL();  // an id the model never saw has no factors: no rows
    const size_t count = size_t(items ? m->n_items : m->n_users);
    const size_t n = Min(size_t(n_arg), count - 1);
    int32 *rows = (int32 *) palloc(sizeof(int32) * (n + 1));
    float *similarities = (float *) palloc(sizeof(float) * (n + 1));
    const size_t found =
        similar_rows(items ? m->item_factors : m->user_factors, count, m->k, row, n, rows, similarities);
    emit_pairs(fcinfo, m, items, rows, similarities, found);
    PG_RETURN_NULL();
}

// A new user's factors from the given items, then the best n other items. Pure C++.
size_t
fold_in_and_rank(const LoadedModel *m, const int32 *items, const float *values, size_t count, size_t n,
                 int32 *out_items, float *out_scores)
{
    const rec::core::FoldedUser user =
        m->kind == rec::pg::ModelKind::ExplicitAls
            ? rec::core::fold_in_explicit(m->item_factors, m->item_bias, m->k, m->global_mean, items, values, count,
                                          m->regularization, m->bias_regularization, m->unweighted_regularization)
            : rec::core::fold_in_implicit(m->item_factors, m->gram, m->k, items, values, count, m->regularization,
                                          m->alpha);
    const rec::core::ItemFactorsView view{m->item_factors, m->item_bias, size_t(m->n_items), m->k};
    const float offset = float(m->global_mean) + user.bias;
    rec::pg::BackendHooks hooks;
    const rec::pg::ScoringThreads threads(size_t(m->n_items), m->k);
    const auto best =
        rec::core::top_n(view, user.factors.data(), offset, items, count, n, threads.threads(), &hooks);
    for (size_t r = 0; r < best.size(); ++r)
    {
        out_items[r] = int32(best[r].item);
        out_scores[r] = best[r].score;
    }
    return best.size();
}

// The terms of the user's score for `target`, one per training item of the user, into `terms`. Pure C++.
void
explain_terms(const LoadedModel *m, int64 user, int32 target, float *terms)
{
    const int64 begin = m->seen_offsets[user];
    const size_t count = size_t(m->seen_offsets[user + 1] - begin);
    const int32 *items = m->seen_items + begin;
    const float *values = m->seen_values + begin;
    const std::vector<float> out =
        m->kind == rec::pg::ModelKind::ExplicitAls
            ? rec::core::explain_explicit(m->item_factors, m->item_bias, m->k, m->global_mean, items, values, count,
                                          m->regularization, m->bias_regularization, m->unweighted_regularization,
                                          target)
            : rec::core::explain_implicit(m->item_factors, m->gram, m->k, items, values, count, m->regularization,
                                          m->alpha, target);
    std::copy(out.begin(), out.end(), terms);
}

// Forward: rec.recommend's two forms share it.
Datum recommend(FunctionCallInfo fcinfo, int first);

}  // namespace

// rec.explain(user_id, item_id, n, model) RETURNS TABLE (item_id bigint, contribution real)
// The user's own training items that contribute most to their score for item_id, largest first.
PGREC_FUNCTION(rec_explain)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = checked_n(fcinfo, 2);
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const char *model_name = PG_ARGISNULL(3) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(3));
    const LoadedModel *m = rec::pg::serving_model(model_name);
    if (m->kind == rec::pg::ModelKind::Bpr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("explain does not support bpr models"),
                        errhint("A BPR model's user factors are not a closed-form function of the user's items; "
                                "explain works for 'als' and 'ials' models.")));
    rec::pg::check_id_result_type(m, true, result_id_type(fcinfo),
                                  "Pass item_id as text or uuid, as the model's ids are: the results have its type.");
    const int64 user = rec::pg::user_index_of(m, PG_GETARG_DATUM(0), arg_type(fcinfo, 0));
    const int64 target = rec::pg::item_index_of(m, PG_GETARG_DATUM(1), arg_type(fcinfo, 1));
    if (user < 0 || target < 0)
        PG_RETURN_NULL();  // a user or item the model never saw: nothing to explain, no rows
    const int64 begin = m->seen_offsets[user];
    const size_t count = size_t(m->seen_offsets[user + 1] - begin);
    float *terms = (float *) palloc(sizeof(float) * (count + 1));
    explain_terms(m, user, int32(target), terms);
    // Largest contribution first; equal ones by item id.
    int32 *order = (int32 *) palloc(sizeof(int32) * (count + 1));
    for (size_t j = 0; j < count; ++j)
        order[j] = int32(j);
    const size_t n = Min(size_t(n_arg), count);
    const int32 *seen = m->seen_items + begin;
    std::partial_sort(order, order + n, order + count, [&](int32 a, int32 b) {
        return terms[a] > terms[b] || (terms[a] == terms[b] && m->item_ids[seen[a]] < m->item_ids[seen[b]]);
    });
    int32 *indexes = (int32 *) palloc(sizeof(int32) * (n + 1));
    float *values = (float *) palloc(sizeof(float) * (n + 1));
    for (size_t r = 0; r < n; ++r)
    {
        indexes[r] = seen[order[r]];
        values[r] = terms[order[r]];
    }
    emit_pairs(fcinfo, m, true, indexes, values, n);
    PG_RETURN_NULL();
}

// rec.cache_status() RETURNS TABLE (model_id bigint, bytes bigint, hits bigint, pins integer, shared boolean,
//                                   loads bigint)
PGREC_FUNCTION(rec_cache_status)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    constexpr int kMax = 128;
    rec::pg::CachedModelInfo *models = (rec::pg::CachedModelInfo *) palloc(sizeof(rec::pg::CachedModelInfo) * kMax);
    const int count = rec::pg::cached_models(models, kMax);
    for (int r = 0; r < count; ++r)
    {
        Datum row[6] = {Int64GetDatum(models[r].model_id), Int64GetDatum(int64(models[r].bytes)),
                        Int64GetDatum(int64(models[r].hits)), Int32GetDatum(models[r].pins),
                        BoolGetDatum(models[r].shared), Int64GetDatum(int64(models[r].loads))};
        bool nulls[6] = {false, false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
    PG_RETURN_NULL();
}

// rec.recommend_for_items(items, ratings, n, model) RETURNS TABLE (item_id bigint, score real)
PGREC_FUNCTION(rec_recommend_for_items)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = checked_n(fcinfo, 2);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const char *model_name = PG_ARGISNULL(3) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(3));
    const LoadedModel *m = rec::pg::serving_model(model_name);
    if (m->kind == rec::pg::ModelKind::Bpr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("recommend_for_items does not support bpr models"),
                        errhint("BPR has no closed-form user solve; train an 'als' or 'ials' model for fold-in.")));
    rec::pg::check_id_result_type(m, true, result_id_type(fcinfo),
                                  "Pass items as a text[] or uuid[], as the model's ids are: the results have their type.");
    Datum *item_datums, *rating_datums = nullptr;
    bool *item_nulls, *rating_nulls = nullptr;
    int item_count, rating_count = 0;
    const Oid items_type = arg_type(fcinfo, 0);
    const Oid item_type = get_element_type(items_type);
    if (item_type == InvalidOid)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("items must be an array")));
    int16 item_length;
    bool item_by_value;
    char item_align;
    get_typlenbyvalalign(item_type, &item_length, &item_by_value, &item_align);
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), item_type, item_length, item_by_value, item_align, &item_datums,
                      &item_nulls, &item_count);
    if (!PG_ARGISNULL(1))
    {
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), FLOAT4OID, sizeof(float4), true, TYPALIGN_INT, &rating_datums,
                          &rating_nulls, &rating_count);
        if (rating_count != item_count)
            ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                            errmsg("items has %d elements but ratings has %d", item_count, rating_count),
                            errhint("Give one rating per item, or NULL ratings.")));
    }
    // Without ratings: an explicit model takes each item as rated at the top of its scale, an implicit
    // one as one interaction.
    const float default_value = m->kind == rec::pg::ModelKind::ExplicitAls ? m->rating_max : 1.0f;
    int32 *items = (int32 *) palloc(sizeof(int32) * (size_t(item_count) + 1));
    float *values = (float *) palloc(sizeof(float) * (size_t(item_count) + 1));
    size_t known = 0;
    for (int e = 0; e < item_count; ++e)
    {
        if (item_nulls[e] || (rating_datums && rating_nulls[e]))
            continue;
        const float value = rating_datums ? DatumGetFloat4(rating_datums[e]) : default_value;
        if (!std::isfinite(value) || (m->kind != rec::pg::ModelKind::ExplicitAls && value < 0))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("rating %g cannot be folded in", double(value)),
                            errhint("Ratings must be finite, and >= 0 for implicit models.")));
        const int64 index = rec::pg::item_index_of(m, item_datums[e], item_type);
        if (index < 0)
            continue;  // an item the model never saw tells nothing about the user
        items[known] = int32(index);
        values[known] = value;
        ++known;
    }
    const size_t n = Min(size_t(n_arg), size_t(m->n_items));
    int32 *out_items = (int32 *) palloc(sizeof(int32) * (n + 1));
    float *out_scores = (float *) palloc(sizeof(float) * (n + 1));
    const ItemList none{nullptr, 0, false};
    const ItemList given{items, known, true};
    const size_t found = known > 0 ? fold_in_and_rank(m, items, values, known, n, out_items, out_scores)
                                   : popular_items(m, none, given, n, out_items, out_scores);
    emit_pairs(fcinfo, m, true, out_items, out_scores, found);
    PG_RETURN_NULL();
}

namespace {

// rec.recommend(user_id, [item_type,] n, model, exclude_seen, candidates, exclude)
//   RETURNS TABLE (item_id bigint | <item_type>, score real)
// Every filter is applied before the top n are chosen, so n rows come back whenever n items are eligible.
// `first` is the position of n: 1, or 2 in the form that names the result's type with item_type.
Datum
recommend(FunctionCallInfo fcinfo, int first)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = checked_n(fcinfo, first);
    if (first == 2 && !PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("item_type must be a NULL of the items' type"),
                        errhint("item_type only names the type of the results, as in item_type => NULL::text; "
                                "n is an integer.")));
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();  // no user, no rows: what a STRICT function would give
    const int model_arg = first + 1, exclude_seen_arg = first + 2, candidates_arg = first + 3,
              exclude_arg = first + 4;
    if (PG_ARGISNULL(exclude_seen_arg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("exclude_seen must not be NULL")));
    const char *model_name = PG_ARGISNULL(model_arg) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(model_arg));
    const bool exclude_seen = PG_GETARG_BOOL(exclude_seen_arg);
    const LoadedModel *m = rec::pg::serving_model(model_name);
    // The results' type: bigint in the first form, item_type's in the second.
    rec::pg::check_id_result_type(m, true, first == 1 ? INT8OID : result_id_type(fcinfo),
                                  "Name the type of the results: rec.recommend(user_id, item_type => NULL::%s).");
    const size_t n = Min(size_t(n_arg), size_t(m->n_items));
    const int64 user = rec::pg::user_index_of(m, PG_GETARG_DATUM(0), arg_type(fcinfo, 0));

    const ItemList candidates = item_list_arg(fcinfo, candidates_arg, "candidates", m);
    const size_t seen_count =
        (user >= 0 && exclude_seen) ? size_t(m->seen_offsets[user + 1] - m->seen_offsets[user]) : 0;
    // The exclusions: the `exclude` argument, then the user's training items.
    ItemList excluded = item_list_arg(fcinfo, exclude_arg, "exclude", m, seen_count);
    if (seen_count > 0)
    {
        memcpy(excluded.indexes + excluded.count, m->seen_items + m->seen_offsets[user], sizeof(int32) * seen_count);
        excluded.count += seen_count;
    }

    int32 *items = (int32 *) palloc(sizeof(int32) * (n + 1));
    float *scores = (float *) palloc(sizeof(float) * (n + 1));
    const size_t found = user >= 0 ? score_known_user(m, user, candidates, excluded, n, items, scores)
                                   : popular_items(m, candidates, excluded, n, items, scores);
    emit_pairs(fcinfo, m, true, items, scores, found);
    PG_RETURN_NULL();
}

}  // namespace

// rec.recommend(user_id, n, model, exclude_seen, candidates, exclude) RETURNS TABLE (item_id bigint, score real)
PGREC_FUNCTION(rec_recommend)
{
    return recommend(fcinfo, 1);
}

// rec.recommend(user_id, item_type, n, model, exclude_seen, candidates, exclude)
//   RETURNS TABLE (item_id <item_type>, score real)
PGREC_FUNCTION(rec_recommend_typed)
{
    return recommend(fcinfo, 2);
}

// rec.similar_items(item_id, n, model) RETURNS TABLE (item_id bigint, similarity real)
PGREC_FUNCTION(rec_similar_items)
{
    return similar(fcinfo, true);
}

// rec.similar_users(user_id, n, model) RETURNS TABLE (user_id bigint, similarity real)
PGREC_FUNCTION(rec_similar_users)
{
    return similar(fcinfo, false);
}

// rec.predict(user_id, item_id, model) RETURNS real
PGREC_FUNCTION(rec_predict)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const char *model_name = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
    const LoadedModel *m = rec::pg::serving_model(model_name);
    const double score = rec::pg::predicted_score(m, rec::pg::user_index_of(m, PG_GETARG_DATUM(0), arg_type(fcinfo, 0)),
                                                  rec::pg::item_index_of(m, PG_GETARG_DATUM(1), arg_type(fcinfo, 1)));
    PG_RETURN_FLOAT4(float(score));
}

// rec.deploy(model, version) RETURNS integer
PGREC_FUNCTION(rec_deploy)
{
    PG_RETURN_INT32(rec::pg::deploy_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_INT32(1)));
}

// rec.rollback(model) RETURNS integer
PGREC_FUNCTION(rec_rollback)
{
    PG_RETURN_INT32(rec::pg::rollback_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

// rec.prune(model, keep) RETURNS integer
PGREC_FUNCTION(rec_prune)
{
    PG_RETURN_INT32(rec::pg::prune_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_INT32(1)));
}

// rec.drop_model(model) RETURNS integer
PGREC_FUNCTION(rec_drop_model)
{
    PG_RETURN_INT32(rec::pg::drop_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

// rec.grant(model, role) RETURNS integer
PGREC_FUNCTION(rec_grant)
{
    PG_RETURN_INT32(rec::pg::grant_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)),
                                         true));
}

// rec.revoke(model, role) RETURNS integer
PGREC_FUNCTION(rec_revoke)
{
    PG_RETURN_INT32(rec::pg::grant_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)),
                                         false));
}
