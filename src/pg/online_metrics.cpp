// rec.online_metrics and rec.compare_versions: how each served version of a model does with real
// users, from rec.impressions joined with a feedback source, and an A/B test's verdict. An impression
// is one item of a logged list at position <= k; it is clicked when the feedback source has a row for
// its user and item within click_window after it was shown. The statistics are core/online_stats.hpp.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/model_store.hpp"
#include "pg/safe_sql.hpp"
#include "pg/source_reader.hpp"
#include "pg/spi_session.hpp"

#include "core/online_stats.hpp"

#include <cmath>

namespace {

// One version's counts over the impressions logged since `since`.
struct VersionCounts
{
    int32 version;
    int64 users, lists, impressions, clicks, hit_lists;
    double reciprocal_rank_sum, reciprocal_rank_squares;
};

struct OnlineArgs
{
    const char *model;
    const char *source;
    Datum since;
    int32 k;
    const char *user_column, *item_column, *time_column;
    double window_seconds;
    const char *function;
};

// Arguments (model, feedback_source, since, k, user_column, item_column, time_column, click_window), as
// both functions take them.
OnlineArgs
online_args(FunctionCallInfo fcinfo, const char *function)
{
    OnlineArgs a;
    a.function = function;
    a.model = rec::pg::required_text_arg(fcinfo, 0, "model");
    a.source = rec::pg::required_text_arg(fcinfo, 1, "feedback_source");
    if (PG_ARGISNULL(2))
        ereport(ERROR,
                (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("since must not be NULL"),
                 errhint("%s counts the impressions shown since then, as in now() - interval '7 days'.", function)));
    a.since = PG_GETARG_DATUM(2);
    if (PG_ARGISNULL(3) || PG_GETARG_INT32(3) < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k must be a number >= 1"),
                        errhint("%s counts the first k items of each list shown.", function)));
    a.k = PG_GETARG_INT32(3);
    a.user_column = rec::pg::required_text_arg(fcinfo, 4, "user_column");
    a.item_column = rec::pg::required_text_arg(fcinfo, 5, "item_column");
    a.time_column = rec::pg::required_text_arg(fcinfo, 6, "time_column");
    if (PG_ARGISNULL(7))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("click_window must not be NULL"),
                        errhint("A click counts when it comes within click_window after the item was shown.")));
    a.window_seconds = rec::pg::interval_seconds_arg(fcinfo, 7, "click_window", function);
    return a;
}

// A column of the feedback source, quoted; *type its base type.
const char *
feedback_column(Oid relid, const char *quoted_source, const char *column, const char *argument, Oid *type,
                const char *function)
{
    const AttrNumber attnum = get_attnum(relid, column);
    if (attnum == InvalidAttrNumber || attnum < 0)
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("column \"%s\" does not exist in %s", column, quoted_source),
                 errhint("Name the feedback source's column in the %s argument of %s.", argument, function)));
    *type = getBaseType(get_atttype(relid, attnum));
    return quote_identifier(get_attname(relid, attnum, false));
}

// Every version's counts, in version order (palloc'd); *count how many. The model must be readable by
// the caller (rec.impressions shows only such models' rows), and the feedback source is read as the
// caller.
VersionCounts *
online_counts(const OnlineArgs &a, int *count)
{
    const char *quoted;
    const Oid relid = rec::pg::readable_relation(a.source, &quoted);
    Oid id_type, time_type;  // ids of any type are compared as text
    const char *user = feedback_column(relid, quoted, a.user_column, "user_column", &id_type, a.function);
    const char *item = feedback_column(relid, quoted, a.item_column, "item_column", &id_type, a.function);
    const char *time_name = feedback_column(relid, quoted, a.time_column, "time_column", &time_type, a.function);
    const char *time = rec::pg::time_expression(quoted, time_name, time_type, a.function);
    // Ids are compared as text, the form rec.impressions keeps them in (integer digits, a text or
    // uuid id's text).
    const char *query =
        psprintf("WITH lists AS (SELECT row_number() OVER () AS list, i.version, i.user_id, i.items, "
                 "EXTRACT(EPOCH FROM i.shown_at)::float8 AS shown_at FROM rec.impressions i "
                 "WHERE i.model = $1 AND i.shown_at >= $2), "
                 "shown AS (SELECT l.list, l.version, l.user_id, s.item, s.position, l.shown_at "
                 "FROM lists l, unnest(l.items[1:$3]) WITH ORDINALITY AS s(item, position)), "
                 "feedback AS (SELECT CAST(%s AS text) AS user_id, CAST(%s AS text) AS item, %s AS at FROM %s), "
                 "clicked AS (SELECT DISTINCT s.list, s.position FROM shown s JOIN feedback f "
                 "ON f.user_id = s.user_id AND f.item = s.item WHERE f.at >= s.shown_at AND f.at < s.shown_at + $4), "
                 "per_list AS (SELECT s.list, s.version, s.user_id, count(*) AS shown, count(c.list) AS clicks, "
                 "min(c.position) AS first_click FROM shown s LEFT JOIN clicked c USING (list, position) "
                 "GROUP BY s.list, s.version, s.user_id) "
                 "SELECT version, count(DISTINCT user_id), count(*), sum(shown)::int8, sum(clicks)::int8, "
                 "count(first_click), coalesce(sum(1.0::float8 / first_click), 0), "
                 "coalesce(sum(1.0::float8 / (first_click * first_click)), 0) "
                 "FROM per_list GROUP BY version ORDER BY version",
                 user, item, time, quoted);
    MemoryContext caller_context = CurrentMemoryContext;
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    Oid types[] = {TEXTOID, TIMESTAMPTZOID, INT4OID, FLOAT8OID};
    Datum values[] = {CStringGetTextDatum(a.model), a.since, Int32GetDatum(a.k), Float8GetDatum(a.window_seconds)};
    rec::pg::run_sql(spi, query, 4, types, values, SPI_OK_SELECT);
    *count = int(SPI_processed);
    VersionCounts *rows = (VersionCounts *) MemoryContextAlloc(caller_context, sizeof(VersionCounts) * (*count + 1));
    for (int r = 0; r < *count; ++r)
    {
        VersionCounts &v = rows[r];
        v.version = DatumGetInt32(rec::pg::result_value(r, 1));
        v.users = DatumGetInt64(rec::pg::result_value(r, 2));
        v.lists = DatumGetInt64(rec::pg::result_value(r, 3));
        v.impressions = DatumGetInt64(rec::pg::result_value(r, 4));
        v.clicks = DatumGetInt64(rec::pg::result_value(r, 5));
        v.hit_lists = DatumGetInt64(rec::pg::result_value(r, 6));
        v.reciprocal_rank_sum = DatumGetFloat8(rec::pg::result_value(r, 7));
        v.reciprocal_rank_squares = DatumGetFloat8(rec::pg::result_value(r, 8));
    }
    rec::pg::end_spi(spi);
    return rows;
}

// Appends an interval's three values (NULL where NaN).
void
put_interval(const rec::core::Interval &i, Datum *values, bool *nulls, int *at)
{
    for (double x : {i.estimate, i.low, i.high})
    {
        nulls[*at] = std::isnan(x);
        values[(*at)++] = Float8GetDatum(x);
    }
}

// The metrics of one version: users, lists, impressions, clicks, CTR, hit rate and MRR with intervals.
int
put_metrics(const VersionCounts &v, Datum *values, bool *nulls, int at)
{
    for (int64 n : {v.users, v.lists, v.impressions, v.clicks})
    {
        nulls[at] = false;
        values[at++] = Int64GetDatum(n);
    }
    put_interval(rec::core::proportion_interval(v.clicks, v.impressions), values, nulls, &at);
    put_interval(rec::core::proportion_interval(v.hit_lists, v.lists), values, nulls, &at);
    put_interval(rec::core::mean_interval(v.reciprocal_rank_sum, v.reciprocal_rank_squares, v.lists), values, nulls,
                 &at);
    return at;
}

constexpr int kMetricColumns = 13;  // users .. mrr_high

}  // namespace

// rec.online_metrics(model, feedback_source, since, k, user_column, item_column, time_column, click_window)
//   RETURNS TABLE (version, users, lists, impressions, clicks, ctr, ctr_low, ctr_high, hit_rate,
//                  hit_rate_low, hit_rate_high, mrr, mrr_low, mrr_high)
PGREC_FUNCTION(rec_online_metrics)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const OnlineArgs args = online_args(fcinfo, "rec.online_metrics");
    rec::pg::find_deployment(args.model);  // 42704 or 42501 rather than no rows for a model the caller may not read
    int count;
    const VersionCounts *versions = online_counts(args, &count);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    for (int r = 0; r < count; ++r)
    {
        Datum values[1 + kMetricColumns];
        bool nulls[1 + kMetricColumns];
        values[0] = Int32GetDatum(versions[r].version);
        nulls[0] = false;
        put_metrics(versions[r], values, nulls, 1);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    PG_RETURN_NULL();
}

// rec.compare_versions(model, feedback_source, since, k, user_column, item_column, time_column, click_window)
//   RETURNS TABLE (version, role, <the online metrics>, ctr_difference, difference_low, difference_high,
//                  p_value, verdict)
// The served version (deployed to everyone) first, then every other version with impressions since
// `since`, each against the served one.
PGREC_FUNCTION(rec_compare_versions)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const OnlineArgs args = online_args(fcinfo, "rec.compare_versions");
    const rec::pg::Deployment deployment = rec::pg::find_deployment(args.model);
    int count;
    const VersionCounts *versions = online_counts(args, &count);
    VersionCounts served{deployment.main.version, 0, 0, 0, 0, 0, 0, 0};
    for (int r = 0; r < count; ++r)
        if (versions[r].version == served.version)
            served = versions[r];
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    constexpr int kColumns = 2 + kMetricColumns + 5;
    auto emit = [&](const VersionCounts &v, const char *role, bool compared) {
        Datum values[kColumns];
        bool nulls[kColumns];
        values[0] = Int32GetDatum(v.version);
        values[1] = CStringGetTextDatum(role);
        nulls[0] = nulls[1] = false;
        int at = put_metrics(v, values, nulls, 2);
        if (compared)
        {
            const rec::core::ProportionTest test =
                rec::core::two_proportion_test(served.clicks, served.impressions, v.clicks, v.impressions);
            put_interval(test.difference, values, nulls, &at);
            nulls[at] = std::isnan(test.p_value);
            values[at++] = Float8GetDatum(test.p_value);
            nulls[at] = false;
            values[at++] = CStringGetTextDatum(
                rec::core::verdict(test, served.clicks, served.impressions, v.clicks, v.impressions));
        }
        else
        {
            for (int c = 0; c < 4; ++c)
                nulls[at++] = true;
            nulls[at] = false;
            values[at++] = CStringGetTextDatum("served");
        }
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    };
    emit(served, "served", false);
    for (int r = 0; r < count; ++r)
        if (versions[r].version != served.version)
            emit(versions[r],
                 deployment.challenger.model_id != 0 && versions[r].version == deployment.challenger.version
                     ? "challenger"
                     : "other",
                 true);
    PG_RETURN_NULL();
}
