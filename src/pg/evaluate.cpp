// rec.evaluate: a model's quality on held-out rows, read from a table like training rows.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/ids.hpp"
#include "pg/serving.hpp"
#include "pg/safe_sql.hpp"
#include "pg/settings.hpp"
#include "pg/spi_session.hpp"
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
    ThresholdArg,
    GroupColumnArg
};

void
emit(FunctionCallInfo fcinfo, const char *metric, double value, bool is_null = false, const char *group = nullptr)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    Datum values[3] = {CStringGetTextDatum(metric), Float8GetDatum(value), group ? CStringGetTextDatum(group) : 0};
    bool nulls[3] = {false, is_null, group == nullptr};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

// The ranking and beyond-accuracy metrics of one evaluation (all users, or one group's).
void
emit_ranking(FunctionCallInfo fcinfo, const rec::core::RankingMetrics &metrics, const char *group)
{
    const bool none = metrics.users == 0;
    const std::pair<const char *, double> values[] = {{"precision", metrics.precision},
                                                      {"recall", metrics.recall},
                                                      {"map", metrics.map},
                                                      {"ndcg", metrics.ndcg},
                                                      {"auc", metrics.auc},
                                                      {"coverage", metrics.coverage},
                                                      {"novelty", metrics.novelty},
                                                      {"popularity", metrics.popularity},
                                                      {"long_tail", metrics.long_tail},
                                                      {"exposure_gini", metrics.exposure_gini},
                                                      {"diversity", metrics.diversity}};
    for (const auto &[metric, value] : values)
        emit(fcinfo, metric, value, none || std::isnan(value),
             group);  // NaN: does not apply (diversity of item-item models)
}

// The group of each model user from `column` of the test source (as the caller; a user in several
// groups takes the first by the group's text): group_of[user] indexes *names, or -1.
int32 *
user_groups(const ServedModel *m, const char *relation, const char *user_column, const char *column,
            const char ***names, int32 *count)
{
    const char *quoted;
    const Oid relid = rec::pg::readable_relation(relation, &quoted);
    const char *columns[2] = {user_column, column};
    const char *quoted_columns[2];
    for (int c = 0; c < 2; ++c)
    {
        const AttrNumber attnum = columns[c] ? get_attnum(relid, columns[c]) : InvalidAttrNumber;
        if (attnum == InvalidAttrNumber || attnum < 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("column \"%s\" does not exist in \"%s\"", columns[c] ? columns[c] : "", relation),
                            errhint("Name the column with the %s argument of rec.evaluate.",
                                    c == 0 ? "user_column" : "group_column")));
        quoted_columns[c] = quote_identifier(get_attname(relid, attnum, false));
    }
    MemoryContext caller = CurrentMemoryContext;
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    rec::pg::run_sql(spi,
                     psprintf("SELECT DISTINCT ON (1) %s, CAST(%s AS pg_catalog.text) FROM %s WHERE %s IS NOT NULL "
                              "AND %s IS NOT NULL ORDER BY 1, CAST(%s AS pg_catalog.text) COLLATE \"C\"",
                              quoted_columns[0], quoted_columns[1], quoted, quoted_columns[0], quoted_columns[1],
                              quoted_columns[1]),
                     0, nullptr, nullptr, SPI_OK_SELECT);
    const Oid user_type = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
    int32 *group_of = (int32 *) MemoryContextAlloc(caller, sizeof(int32) * (size_t(m->n_users) + 1));
    for (int32 u = 0; u < m->n_users; ++u)
        group_of[u] = -1;
    const size_t rows = size_t(SPI_processed);
    const char **all = (const char **) MemoryContextAlloc(caller, sizeof(char *) * (rows + 1));
    int32 *user_index = (int32 *) MemoryContextAlloc(caller, sizeof(int32) * (rows + 1));
    for (size_t r = 0; r < rows; ++r)
    {
        bool null;
        const Datum id = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &null);
        user_index[r] = int32(rec::pg::user_index_of(m, id, user_type));
        all[r] = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2));
    }
    rec::pg::end_spi(spi);
    // Group names sorted (byte order) and numbered.
    const char **sorted = (const char **) palloc(sizeof(char *) * (rows + 1));
    memcpy(sorted, all, sizeof(char *) * rows);
    std::sort(sorted, sorted + rows, [](const char *a, const char *b) { return strcmp(a, b) < 0; });
    const size_t distinct = size_t(
        std::unique(sorted, sorted + rows, [](const char *a, const char *b) { return strcmp(a, b) == 0; }) - sorted);
    for (size_t r = 0; r < rows; ++r)
        if (user_index[r] >= 0)
            group_of[user_index[r]] =
                int32(std::lower_bound(sorted, sorted + distinct, all[r],
                                       [](const char *a, const char *b) { return strcmp(a, b) < 0; }) -
                      sorted);
    *names = sorted;
    *count = int32(distinct);
    return group_of;
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
    return rec::core::ranking_metrics(rec::pg::recommender_of(m), positives, k, workers.threads(), hooks,
                                      m->item_counts);
}

}  // namespace

// rec.evaluate(model, test_source, k, user_column, item_column, rating_column, relevance_threshold,
//              group_column) RETURNS TABLE (metric text, value float8, group_value text)
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
    emit_ranking(fcinfo, metrics, nullptr);
    emit(fcinfo, "user_coverage", test_users > 0 ? double(metrics.users) / double(test_users) : 0.0, test_users == 0);
    emit(fcinfo, "users", double(metrics.users));
    emit(fcinfo, "unknown_user_rows", double(unknown_users));

    // Per group: the same metrics over the group's users (users the model knows, by the test source's
    // group_column), so unequal quality across groups shows.
    const char *group_column = PG_NARGS() > GroupColumnArg ? rec::pg::text_arg(fcinfo, GroupColumnArg) : nullptr;
    if (group_column == nullptr)
        PG_RETURN_NULL();
    const char **names;
    int32 groups;
    const int32 *group_of = user_groups(m, spec.relation, spec.user_column, group_column, &names, &groups);
    int64 *group_user_of = (int64 *) palloc(sizeof(int64) * (rows.count + 1));
    for (int32 g = 0; g < groups; ++g)
    {
        double group_squared = 0, group_absolute = 0;
        size_t group_rows = 0;
        for (size_t r = 0; r < rows.count; ++r)
        {
            const int64 user = rec::pg::user_index(m, rows.users[r]);
            const bool in_group = user >= 0 && group_of[user] == g;
            group_user_of[r] = in_group ? user_of[r] : -1;
            if (in_group && spec.rating_column)
            {
                const double error = m->model.predict(user, rec::pg::item_index(m, rows.items[r])) - rows.ratings[r];
                group_squared += error * error;
                group_absolute += std::fabs(error);
                ++group_rows;
            }
        }
        if (spec.rating_column && m->model.clip && group_rows > 0)
        {
            emit(fcinfo, "rmse", std::sqrt(group_squared / double(group_rows)), false, names[g]);
            emit(fcinfo, "mae", group_absolute / double(group_rows), false, names[g]);
        }
        const rec::core::RankingMetrics group_metrics = rank_test_rows(m, rows, group_user_of, k);
        emit_ranking(fcinfo, group_metrics, names[g]);
        emit(fcinfo, "users", double(group_metrics.users), false, names[g]);
    }
    PG_RETURN_NULL();
}
