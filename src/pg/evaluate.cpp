// rec.evaluate: a model's quality on held-out rows, read from a table like training rows.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/serving.hpp"
#include "pg/settings.hpp"
#include "pg/source_reader.hpp"
#include "pg/worker_threads.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/evaluate.hpp"

namespace {

using rec::pg::ServedModel;

enum Arg
{
    ModelArg,
    TestSourceArg,
    KArg,
    UserColumnArg,
    ItemColumnArg,
    RatingColumnArg,
    ThresholdArg
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
rank_test_rows(const ServedModel *m, const rec::pg::SourceRows &rows, const int64 *user_of, int k)
{
    std::vector<int32_t> item_of(rows.count);
    for (size_t r = 0; r < rows.count; ++r)
        item_of[r] = int32_t(rec::pg::item_index(m, rows.items[r]));
    const rec::core::TestPositives positives =
        rec::core::group_positives(size_t(m->n_users), user_of, item_of.data(), rows.count);
    rec::pg::BackendHooks hooks;
    const rec::pg::WorkerThreads workers;
    return rec::core::ranking_metrics(m->model, {m->seen_offsets, m->seen_items}, positives, k, workers.threads(),
                                      hooks, m->item_counts);
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
    const char *model_name = rec::pg::text_arg(fcinfo, ModelArg);
    rec::pg::SourceSpec spec;
    spec.relation = rec::pg::text_arg(fcinfo, TestSourceArg);
    spec.user_column = rec::pg::text_arg(fcinfo, UserColumnArg);
    spec.item_column = rec::pg::text_arg(fcinfo, ItemColumnArg);
    spec.rating_column = rec::pg::text_arg(fcinfo, RatingColumnArg);
    spec.rating_optional = true;
    spec.function = "rec.evaluate";

    const ServedModel *m = rec::pg::serving_model(model_name);
    // The test rows' ids must be of the kind the model was trained on, or none would match.
    spec.expect_user_type = m->user_type;
    spec.expect_item_type = m->item_type;
    spec.model_name = model_name ? model_name : "(the latest deployed)";
    const rec::pg::SourceRows rows = rec::pg::read_source(spec, rec::pg::memory_budget_bytes());

    // Rows of users the model never saw are skipped; the others' positives are ranked.
    int64 *user_of = (int64 *) palloc(sizeof(int64) * rows.count);
    size_t unknown_users = 0;
    double squared_error = 0, absolute_error = 0;
    for (size_t r = 0; r < rows.count; ++r)
    {
        const int64 user = rec::pg::user_index(m, rows.users[r]);
        const int64 item = rec::pg::item_index(m, rows.items[r]);
        if (spec.rating_column)
        {
            const double error = m->model.predict(user, item) - rows.ratings[r];
            squared_error += error * error;
            absolute_error += std::fabs(error);
        }
        const bool positive = has_threshold ? rows.ratings[r] >= threshold : rows.ratings[r] > 0;
        user_of[r] = (user >= 0 && positive) ? user : -1;
        unknown_users += user < 0;
        if ((r & 0xffff) == 0)
            CHECK_FOR_INTERRUPTS();
    }
    const rec::core::RankingMetrics metrics = rank_test_rows(m, rows, user_of, k);
    // User coverage: the share of test users with a positive (known to the model or not) who got a
    // personal list.
    int64 *positive_users = (int64 *) palloc(sizeof(int64) * (rows.count + 1));
    size_t positive_rows = 0;
    for (size_t r = 0; r < rows.count; ++r)
        if (has_threshold ? rows.ratings[r] >= threshold : rows.ratings[r] > 0)
            positive_users[positive_rows++] = rows.users[r];
    std::sort(positive_users, positive_users + positive_rows);
    const size_t test_users = size_t(std::unique(positive_users, positive_users + positive_rows) - positive_users);

    if (spec.rating_column && m->model.clip)
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
    emit(fcinfo, "novelty", metrics.novelty, none);
    emit(fcinfo, "popularity", metrics.popularity, none);
    emit(fcinfo, "long_tail", metrics.long_tail, none);
    emit(fcinfo, "exposure_gini", metrics.exposure_gini, none);
    emit(fcinfo, "diversity", metrics.diversity, none);
    emit(fcinfo, "user_coverage", test_users > 0 ? double(metrics.users) / double(test_users) : 0.0, test_users == 0);
    emit(fcinfo, "users", double(metrics.users));
    emit(fcinfo, "unknown_user_rows", double(unknown_users));
    PG_RETURN_NULL();
}
