// rec.evaluate: a model's quality on held-out rows, read from a table like training rows.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/model_cache.hpp"
#include "pg/settings.hpp"
#include "pg/source_reader.hpp"
#include "pg/worker_threads.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include "core/evaluate.hpp"

namespace {

using rec::pg::LoadedModel;

enum Arg
{
    ModelArg, TestSourceArg, KArg, UserColumnArg, ItemColumnArg, RatingColumnArg, ThresholdArg
};

void
emit(FunctionCallInfo fcinfo, const char *metric, double value, bool is_null = false)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    Datum values[2] = {CStringGetTextDatum(metric), Float8GetDatum(value)};
    bool nulls[2] = {false, is_null};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

// Ranks every test user's items: builds the core's inputs, runs it, and returns plain numbers, so no
// C++ object outlives this call. user_of[r] is the dense user of test row r, or -1 to skip it.
rec::core::RankingMetrics
rank_test_rows(const LoadedModel *m, const rec::pg::SourceRows &rows, const int64 *user_of, size_t kept, int k)
{
    rec::core::TestPositives positives;
    positives.offsets.assign(size_t(m->n_users) + 1, 0);
    for (size_t r = 0; r < rows.count; ++r)
        if (user_of[r] >= 0)
            ++positives.offsets[size_t(user_of[r]) + 1];
    for (size_t u = 0; u < size_t(m->n_users); ++u)
        positives.offsets[u + 1] += positives.offsets[u];
    positives.items.resize(kept);
    std::vector<size_t> next(positives.offsets.begin(), positives.offsets.end() - 1);
    for (size_t r = 0; r < rows.count; ++r)
        if (user_of[r] >= 0)
            positives.items[next[size_t(user_of[r])]++] = int32_t(rec::pg::item_index(m, rows.items[r]));
    rec::pg::BackendHooks hooks;
    const rec::core::FactorModelView model{{m->item_factors, m->item_bias, size_t(m->n_items), m->k},
                                           m->user_factors, size_t(m->n_users)};
    const rec::pg::WorkerThreads workers;
    return rec::core::ranking_metrics(model, {m->seen_offsets, m->seen_items}, positives, k, workers.threads(),
                                      hooks);
}

}  // namespace

// rec.evaluate(model, test_source, k, user_column, item_column, rating_column, relevance_threshold)
//   RETURNS TABLE (metric text, value float8)
PGREC_FUNCTION(rec_evaluate)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    if (PG_ARGISNULL(KArg) || PG_GETARG_INT32(KArg) < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k must be a number >= 1"),
                        errhint("k is the length of the ranked list each user is judged on.")));
    const int k = PG_GETARG_INT32(KArg);
    const bool has_threshold = !PG_ARGISNULL(ThresholdArg);
    const double threshold = has_threshold ? PG_GETARG_FLOAT8(ThresholdArg) : 0.0;
    if (has_threshold && std::isnan(threshold))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("relevance_threshold must not be NaN")));
    const char *model_name = PG_ARGISNULL(ModelArg) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(ModelArg));
    rec::pg::SourceSpec spec;
    for (auto [arg, field] : {std::pair{TestSourceArg, &spec.relation}, std::pair{UserColumnArg, &spec.user_column},
                              std::pair{ItemColumnArg, &spec.item_column}, std::pair{RatingColumnArg, &spec.rating_column}})
        *field = PG_ARGISNULL(arg) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(arg));
    spec.rating_optional = true;

    const LoadedModel *m = rec::pg::serving_model(model_name);
    // The test rows' ids must be of the kind the model was trained on, or none would match.
    spec.expect_user_type = m->user_type;
    spec.expect_item_type = m->item_type;
    spec.model_name = model_name ? model_name : "(the latest deployed)";
    const rec::pg::SourceRows rows = rec::pg::read_source(spec, rec::pg::memory_budget_bytes());

    // Rows of users the model never saw are skipped; the others' positives are ranked.
    int64 *user_of = (int64 *) palloc(sizeof(int64) * rows.count);
    size_t unknown_users = 0, kept = 0;
    double squared_error = 0, absolute_error = 0;
    for (size_t r = 0; r < rows.count; ++r)
    {
        const int64 user = rec::pg::user_index(m, rows.users[r]);
        const int64 item = rec::pg::item_index(m, rows.items[r]);
        if (spec.rating_column)
        {
            const double error = rec::pg::predicted_score(m, user, item) - rows.ratings[r];
            squared_error += error * error;
            absolute_error += std::fabs(error);
        }
        const bool positive = has_threshold ? rows.ratings[r] >= threshold : rows.ratings[r] > 0;
        user_of[r] = (user >= 0 && positive) ? user : -1;
        unknown_users += user < 0;
        kept += user_of[r] >= 0;
        if ((r & 0xffff) == 0)
            CHECK_FOR_INTERRUPTS();
    }
    const rec::core::RankingMetrics metrics = rank_test_rows(m, rows, user_of, kept, k);

    if (spec.rating_column && m->clip_predictions)
    {
        emit(fcinfo, "rmse", std::sqrt(squared_error / double(rows.count)));
        emit(fcinfo, "mae", absolute_error / double(rows.count));
    }
    const bool none = metrics.users == 0;
    emit(fcinfo, "precision", metrics.precision, none);
    emit(fcinfo, "recall", metrics.recall, none);
    emit(fcinfo, "map", metrics.map, none);
    emit(fcinfo, "ndcg", metrics.ndcg, none);
    emit(fcinfo, "auc", metrics.auc, none);
    emit(fcinfo, "coverage", metrics.coverage, none);
    emit(fcinfo, "users", double(metrics.users));
    emit(fcinfo, "unknown_user_rows", double(unknown_users));
    PG_RETURN_NULL();
}
