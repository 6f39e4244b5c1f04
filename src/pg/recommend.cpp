// Serving a trained model in queries, one user or item at a time: rec.recommend (both forms),
// rec.recommend_for_items (a new user folded in), rec.similar_items, rec.similar_users, rec.predict and
// rec.explain. Every filter is applied before the top n are chosen, so n rows come back whenever n
// items are eligible. Scores are the model's own (for explicit models μ + b_u + b_i + p_uᵀq_i, which
// may exceed the rating scale; rec.predict clips it to the training range, as Surprise and LIBMF do),
// so that ORDER BY score gives the model's order.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/ids.hpp"
#include "pg/impressions.hpp"
#include "pg/page_rules.hpp"
#include "pg/replicas.hpp"
#include "pg/serving.hpp"
#include "pg/worker_threads.hpp"

#include <algorithm>
#include <cmath>

#include "core/rerank.hpp"
#include "core/topn.hpp"

namespace {

using rec::core::ModelKind;
using rec::pg::item_list_arg;
using rec::pg::ItemList;
using rec::pg::ServedModel;

// The type of the result's first column (the ids returned), resolved for polymorphic results.
Oid
result_id_type(FunctionCallInfo fcinfo)
{
    return TupleDescAttr(((ReturnSetInfo *) fcinfo->resultinfo)->setDesc, 0)->atttypid;
}

const ServedModel *
model_arg(FunctionCallInfo fcinfo, int arg)
{
    return rec::pg::serving_model(rec::pg::text_arg(fcinfo, arg));
}

size_t
copy_out(const std::vector<rec::core::Scored> &best, int32 *items, float *scores)
{
    for (size_t r = 0; r < best.size(); ++r)
    {
        items[r] = int32(best[r].item);
        scores[r] = best[r].score;
    }
    return best.size();
}

// The best n items for a known user (user >= 0) or for a new user given by their items, filtered
// first, then the rules applied, into caller-provided arrays; returns how many. Whatever the model's
// kind (core/recommender.hpp). Pure C++: the vectors are gone before the caller touches PostgreSQL again.
size_t
rank_items(const ServedModel *m, int64 user, rec::core::UserItems given, const ItemList &candidates,
           const ItemList &excluded, size_t n, const rec::core::RerankOptions &rules, int32 *items, float *scores)
{
    const rec::core::Recommender model = rec::pg::recommender_of(m);
    rec::pg::BackendHooks hooks;
    const rec::pg::ScoringThreads threads(
        model.scoring_runs_in_parallel(user >= 0 ? model.seen.of(size_t(user)).count : given.count));
    const rec::core::IndexList among{candidates.indexes, candidates.count};
    const rec::core::IndexList without{excluded.indexes, excluded.count};
    return copy_out(rec::pg::best_with_rules(m, n, rules,
                                             [&](size_t count) {
                                                 const rec::core::IndexList *only = candidates.given ? &among : nullptr;
                                                 return user >= 0
                                                            ? model.top_n_for_user(size_t(user), without, only, count,
                                                                                   threads.threads(), &hooks)
                                                            : model.top_n_for_items(given, without, only, count,
                                                                                    threads.threads(), &hooks);
                                             }),
                    items, scores);
}

size_t
score_known_user(const ServedModel *m, int64 user, const ItemList &candidates, const ItemList &excluded, size_t n,
                 const rec::core::RerankOptions &rules, int32 *items, float *scores)
{
    return rank_items(m, user, {}, candidates, excluded, n, rules, items, scores);
}

// A user the model does not know: the eligible items with the most training interactions, each scored
// by that number, so that the rows are best first by their score as for a known user.
size_t
score_unknown_user(const ServedModel *m, const ItemList &candidates, const ItemList &excluded, size_t n,
                   const rec::core::RerankOptions &rules, int32 *items, float *scores)
{
    const char *allowed = rec::pg::allowed_items(m, candidates, excluded);
    return copy_out(rec::pg::best_with_rules(m, n, rules,
                                             [&](size_t count) {
                                                 std::vector<rec::core::Scored> best;
                                                 for (int32 rank = 0; rank < m->n_items && best.size() < count; ++rank)
                                                 {
                                                     const int32 i = m->items_by_popularity[rank];
                                                     if (allowed[i])
                                                         best.push_back({i, float(m->item_counts[i])});
                                                 }
                                                 return best;
                                             }),
                    items, scores);
}

// Rows (id, value) for dense user or item indexes, the ids in the result column's type.
void
emit_pairs(FunctionCallInfo fcinfo, const ServedModel *m, bool items, const int32 *indexes, const float *values,
           size_t count)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    const Oid type = result_id_type(fcinfo);
    for (size_t r = 0; r < count; ++r)
    {
        Datum row[2] = {items ? rec::pg::item_id_value(m, indexes[r], type)
                              : rec::pg::user_id_value(m, indexes[r], type),
                        Float4GetDatum(values[r])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    }
}

// The n items (or users) most similar to `row`, filtered first, into caller-provided arrays; returns how
// many. Pure C++.
size_t
similar_rows(const ServedModel *m, bool items, int64 row, size_t n, const ItemList &candidates,
             const ItemList &excluded, int32 *out_rows, float *similarities)
{
    const rec::core::IndexList among{candidates.indexes, candidates.count};
    const rec::core::IndexList without{excluded.indexes, excluded.count};
    const auto best =
        items ? rec::pg::recommender_of(m).similar_items(size_t(row), n, candidates.given ? &among : nullptr, without)
              : rec::core::most_similar(m->model.user_factors, m->model.users, m->model.k, size_t(row), n, nullptr,
                                        without);
    for (size_t r = 0; r < best.size(); ++r)
    {
        out_rows[r] = int32(best[r].item);
        similarities[r] = best[r].score;
    }
    return best.size();
}

// rec.similar_items(item_id, n, model, candidates, exclude) and rec.similar_users(user_id, n, model):
// (id, cosine similarity), most similar first.
Datum
similar(FunctionCallInfo fcinfo, bool items)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = rec::pg::checked_n(fcinfo, 1);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const ServedModel *m = model_arg(fcinfo, 2);
    if (!items && !rec::pg::recommender_of(m).has_user_factors())
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("similar_users does not apply to item-item models"),
                 errhint("An ease or itemknn model has no user factors to compare; train 'als', 'ials' or "
                         "'bpr' for rec.similar_users.")));
    rec::pg::check_id_result_type(
        m, items, result_id_type(fcinfo),
        "Pass the id as text or uuid, as the model's ids are: the results have the id's type.");
    const int64 row = items ? rec::pg::item_index_of(m, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0))
                            : rec::pg::user_index_of(m, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    if (row < 0)
        PG_RETURN_NULL();  // an id the model never saw has no factors: no rows
    const bool filtered = items && PG_NARGS() > 4;
    const ItemList candidates = filtered ? item_list_arg(fcinfo, 3, "candidates", m) : ItemList{nullptr, 0, false};
    const ItemList excluded = filtered ? item_list_arg(fcinfo, 4, "exclude", m) : ItemList{nullptr, 0, false};
    const size_t count = items ? m->model.items : m->model.users;
    const size_t n = Min(size_t(n_arg), count - 1);
    int32 *rows = (int32 *) palloc(sizeof(int32) * (n + 1));
    float *similarities = (float *) palloc(sizeof(float) * (n + 1));
    const size_t found = similar_rows(m, items, row, n, candidates, excluded, rows, similarities);
    emit_pairs(fcinfo, m, items, rows, similarities, found);
    PG_RETURN_NULL();
}

// The terms of the user's score for `target`, one per training item of the user, into `terms`. Pure C++.
void
explain_terms(const ServedModel *m, int64 user, int32 target, float *terms)
{
    const rec::core::Recommender model = rec::pg::recommender_of(m);
    const std::vector<float> out = model.explain(model.seen.of(size_t(user)), target);
    std::copy(out.begin(), out.end(), terms);
}

// bpr has no closed-form user solve: functions that score a user from their items refuse it.
void
refuse_without_user_solve(const ServedModel *m, const char *function)
{
    if (!rec::pg::recommender_of(m).scores_new_users())
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s does not support bpr models", function),
                        errhint("A BPR model's user factors are not a closed-form function of the user's items; "
                                "%s works for 'als', 'ials', 'ease' and 'itemknn' models.",
                                function)));
}

// rec.recommend(user_id, [item_type,] n, model, exclude_seen, candidates, exclude)
//   RETURNS TABLE (item_id bigint | <item_type>, score real)
// `first` is the position of n: 1, or 2 in the form that names the result's type with item_type.
Datum
recommend(FunctionCallInfo fcinfo, int first)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = rec::pg::checked_n(fcinfo, first);
    if (first == 2 && !PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("item_type must be a NULL of the items' type"),
                        errhint("item_type only names the type of the results, as in item_type => NULL::text; "
                                "n is an integer.")));
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();  // no user, no rows: what a STRICT function would give
    const int model_arg_at = first + 1, exclude_seen_arg = first + 2, candidates_arg = first + 3,
              exclude_arg = first + 4;
    if (PG_ARGISNULL(exclude_seen_arg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("exclude_seen must not be NULL")));
    const bool exclude_seen = PG_GETARG_BOOL(exclude_seen_arg);
    const int log_arg = first + 8;
    const bool log_impressions = PG_NARGS() > log_arg && !PG_ARGISNULL(log_arg) && PG_GETARG_BOOL(log_arg);
    // During an A/B test, the version this user is assigned to.
    const rec::pg::ServedVersion served = rec::pg::serving_model_for_user(
        rec::pg::text_arg(fcinfo, model_arg_at), PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    const ServedModel *m = served.model;
    // The results' type: bigint in the first form, item_type's in the second.
    rec::pg::check_id_result_type(m, true, first == 1 ? INT8OID : result_id_type(fcinfo),
                                  "Name the type of the results: rec.recommend(user_id, item_type => NULL::%s).");
    const size_t n = Min(size_t(n_arg), size_t(m->n_items));
    const int64 user = rec::pg::user_index_of(m, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    // On a Citus coordinator whose version is installed on the workers, a known user is answered by the
    // worker holding the user's shard (rec.distribute_model); the list is the same. Logging impressions
    // and the typed form stay here.
    rec::pg::ReplicaRoute route;
    if (first == 1 && user >= 0 && !served.challenger && served.name[0] != '\0' && !log_impressions &&
        rec::pg::replica_route(m->model_id, &route))
    {
        const int group_table_arg = first + 6, limit_arg = first + 7;
        const rec::pg::RecommendCall call{m->user_ids[user],
                                          n_arg,
                                          served.name,
                                          exclude_seen,
                                          PG_ARGISNULL(candidates_arg) ? (Datum) 0 : PG_GETARG_DATUM(candidates_arg),
                                          PG_ARGISNULL(exclude_arg) ? (Datum) 0 : PG_GETARG_DATUM(exclude_arg),
                                          PG_ARGISNULL(first + 5) ? 0.0f : PG_GETARG_FLOAT4(first + 5),
                                          PG_ARGISNULL(group_table_arg) ? nullptr
                                                                        : rec::pg::text_arg(fcinfo, group_table_arg),
                                          PG_ARGISNULL(limit_arg) ? (Datum) 0 : PG_GETARG_DATUM(limit_arg),
                                          PG_ARGISNULL(limit_arg)};
        ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
        rec::pg::recommend_on_worker(route, call, rsinfo->setResult, rsinfo->setDesc);
        PG_RETURN_NULL();
    }

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
    const rec::core::RerankOptions rules =
        rec::pg::page_rules_arg(fcinfo, first + 5, first + 6, first + 7, m, "rec.recommend");
    const size_t found = user >= 0 ? score_known_user(m, user, candidates, excluded, n, rules, items, scores)
                                   : score_unknown_user(m, candidates, excluded, n, rules, items, scores);
    emit_pairs(fcinfo, m, true, items, scores, found);
    if (log_impressions)
        rec::pg::log_served_list(served, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0), items, found, "recommend");
    PG_RETURN_NULL();
}

// The version serving the user of argument `user_arg` (an A/B test's challenger or the main version).
const ServedModel *
model_for_user(FunctionCallInfo fcinfo, int model_arg_at, int user_arg)
{
    return rec::pg::serving_model_for_user(rec::pg::text_arg(fcinfo, model_arg_at), PG_GETARG_DATUM(user_arg),
                                           rec::pg::arg_type(fcinfo, user_arg))
        .model;
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

// rec.recommend_for_items(items, ratings, n, model, candidates, exclude)
//     RETURNS TABLE (item_id anycompatible, score real)
PGREC_FUNCTION(rec_recommend_for_items)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = rec::pg::checked_n(fcinfo, 2);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    const ServedModel *m = model_arg(fcinfo, 3);
    refuse_without_user_solve(m, "recommend_for_items");
    rec::pg::check_id_result_type(
        m, true, result_id_type(fcinfo),
        "Pass items as a text[] or uuid[], as the model's ids are: the results have their type.");
    Datum *item_datums, *rating_datums = nullptr;
    bool *item_nulls, *rating_nulls = nullptr;
    int item_count, rating_count = 0;
    const Oid item_type = get_element_type(rec::pg::arg_type(fcinfo, 0));
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
    const bool explicit_model = m->model.kind == ModelKind::ExplicitAls;
    const float default_value = explicit_model ? m->model.rating_max : 1.0f;
    int32 *items = (int32 *) palloc(sizeof(int32) * (size_t(item_count) + 1));
    float *values = (float *) palloc(sizeof(float) * (size_t(item_count) + 1));
    size_t known = 0;
    for (int e = 0; e < item_count; ++e)
    {
        if (item_nulls[e] || (rating_datums && rating_nulls[e]))
            continue;
        const float value = rating_datums ? DatumGetFloat4(rating_datums[e]) : default_value;
        if (!std::isfinite(value) || (!explicit_model && value < 0))
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("rating %g cannot be folded in", double(value)),
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
    // The exclusions: the `exclude` argument, then the given items themselves.
    const ItemList candidates = item_list_arg(fcinfo, 4, "candidates", m);
    ItemList excluded = item_list_arg(fcinfo, 5, "exclude", m, known);
    memcpy(excluded.indexes + excluded.count, items, sizeof(int32) * known);
    excluded.count += known;
    const rec::core::RerankOptions rules = rec::pg::page_rules_arg(fcinfo, 6, 7, 8, m, "rec.recommend_for_items");
    const size_t found =
        known > 0 ? rank_items(m, -1, {items, values, known}, candidates, excluded, n, rules, out_items, out_scores)
                  : score_unknown_user(m, candidates, excluded, n, rules, out_items, out_scores);
    emit_pairs(fcinfo, m, true, out_items, out_scores, found);
    PG_RETURN_NULL();
}

// rec.similar_items(item_id, n, model, candidates, exclude) RETURNS TABLE (item_id anycompatible, similarity real)
PGREC_FUNCTION(rec_similar_items)
{
    return similar(fcinfo, true);
}

// rec.similar_users(user_id, n, model) RETURNS TABLE (user_id anycompatible, similarity real)
PGREC_FUNCTION(rec_similar_users)
{
    return similar(fcinfo, false);
}

// rec.predict(user_id, item_id, model) RETURNS real
PGREC_FUNCTION(rec_predict)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const ServedModel *m = model_for_user(fcinfo, 2, 0);
    const int64 user = rec::pg::user_index_of(m, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    const int64 item = rec::pg::item_index_of(m, PG_GETARG_DATUM(1), rec::pg::arg_type(fcinfo, 1));
    PG_RETURN_FLOAT4(float(rec::pg::recommender_of(m).predict(user, item)));
}

// rec.explain(user_id, item_id, n, model) RETURNS TABLE (item_id anycompatible, contribution real)
// The user's own training items that contribute most to their score for item_id, largest first.
PGREC_FUNCTION(rec_explain)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = rec::pg::checked_n(fcinfo, 2);
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const ServedModel *m = model_for_user(fcinfo, 3, 0);
    refuse_without_user_solve(m, "explain");
    rec::pg::check_id_result_type(m, true, result_id_type(fcinfo),
                                  "Pass item_id as text or uuid, as the model's ids are: the results have its type.");
    const int64 user = rec::pg::user_index_of(m, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    const int64 target = rec::pg::item_index_of(m, PG_GETARG_DATUM(1), rec::pg::arg_type(fcinfo, 1));
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
