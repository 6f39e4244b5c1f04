// rec.profile(source, user_column, item_column, rating_column, time_column): what a source looks like
// before training, as rows (finding, severity, value, detail). The source is read once, as the
// caller, with the training reader (NULLs counted instead of refused); the figures come from
// core/profile.cpp. Severities: 'info' (a fact), 'ok' (a check that passed), 'warning' (worth a look
// before training), 'error' (rec.train would refuse the source as it is).
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/settings.hpp"
#include "pg/source_reader.hpp"

#include "core/profile.hpp"

namespace {

struct Emitter
{
    ReturnSetInfo *rsinfo;

    void row(const char *finding, const char *severity, double value, const char *detail) const
    {
        Datum values[4] = {CStringGetTextDatum(finding), CStringGetTextDatum(severity), Float8GetDatum(value),
                           detail ? CStringGetTextDatum(detail) : (Datum) 0};
        bool nulls[4] = {false, false, false, detail == nullptr};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    // A check: 'ok' when count is 0, else `severity`.
    void check(const char *finding, const char *severity, size_t count, const char *detail) const
    {
        row(finding, count == 0 ? "ok" : severity, double(count), detail);
    }
};

template <typename T>
struct Copied
{
    size_t count = 0;
    T *values = nullptr;
};
using CountedValues = Copied<rec::core::CountedValue>;
using ActiveUsers = Copied<rec::core::ActiveUser>;

template <typename T>
Copied<T>
copied(const std::vector<T> &from)
{
    Copied<T> out{from.size(), nullptr};
    rec::pg::pg_call([&] { out.values = (T *) palloc(sizeof(T) * (from.size() + 1)); });
    std::copy(from.begin(), from.end(), out.values);
    return out;
}

const char *
timestamp_text(double seconds)
{
    const TimestampTz t =
        TimestampTz((seconds - double(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * double(USECS_PER_SEC));
    return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

}  // namespace

// rec.profile(source, user_column, item_column, rating_column, time_column)
//   RETURNS TABLE (finding text, severity text, value float8, detail text)
PGREC_FUNCTION(rec_profile)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    rec::pg::SourceDefects defects;
    rec::pg::SourceSpec spec;
    spec.relation = rec::pg::required_text_arg(fcinfo, 0, "source");
    spec.user_column = rec::pg::required_text_arg(fcinfo, 1, "user_column");
    spec.item_column = rec::pg::required_text_arg(fcinfo, 2, "item_column");
    spec.rating_column = rec::pg::text_arg(fcinfo, 3);
    spec.rating_optional = true;
    spec.time_column = rec::pg::text_arg(fcinfo, 4);
    spec.function = "rec.profile";
    spec.defects = &defects;
    const rec::pg::SourceRows rows = rec::pg::read_source(spec, rec::pg::memory_budget_bytes());
    const double now =
        double(GetCurrentTimestamp()) / USECS_PER_SEC + double(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    // Computed in C++ and copied into plain palloc'd arrays: no C++ object outlives this block.
    rec::core::ProfileCounts f;
    CountedValues histogram, rare;
    ActiveUsers bots, bursts;
    rec::pg::cpp_call([&] {
        rec::core::ProfileInput input;
        input.users = rows.users;
        input.items = rows.items;
        input.values = rows.ratings;
        input.times = rows.times;
        input.count = rows.count;
        input.now = now;
        rec::pg::BackendHooks hooks;
        const rec::core::Profile p = rec::core::profile_interactions(input, hooks);
        f = p.counts;
        histogram = copied(p.histogram);
        rare = copied(p.out_of_range_values);
        bots = copied(p.bots);
        bursts = copied(p.bursts);
    });

    const Emitter out{(ReturnSetInfo *) fcinfo->resultinfo};
    out.row("rows", "info", double(f.rows), psprintf("rows read from %s", rows.qualified_name));
    out.row("users", "info", double(f.users), nullptr);
    out.row("items", "info", double(f.items), nullptr);
    out.row("density", "info", f.density,
            psprintf("%zu distinct (user, item) pairs of %zu x %zu", f.rows - f.duplicate_rows, f.users, f.items));
    out.check("NULL ids", "error", defects.null_users + defects.null_items,
              psprintf("%zu rows with a NULL user, %zu with a NULL item (skipped here; rec.train refuses them: "
                       "filter them out in a view)",
                       defects.null_users, defects.null_items));
    if (spec.rating_column)
    {
        out.check("NULL values", "error", defects.null_values,
                  psprintf("rows with a NULL %s (skipped here; rec.train refuses them)", spec.rating_column));
        out.check("NaN or infinite values", "error", f.non_finite, "rec.train refuses them: filter them out in a view");
    }
    out.check("duplicate (user, item) rows", "warning", f.duplicate_rows,
              "rows repeating an earlier pair: rec.train averages them (als) or adds them up (ials, bpr)");
    if (spec.rating_column)
    {
        if (f.continuous)
            out.row("value range", "info", double(f.value_max) - double(f.value_min),
                    psprintf("from %g to %g (more than 32 distinct values)", double(f.value_min), double(f.value_max)));
        for (size_t v = 0; v < histogram.count; ++v)
            out.row("value histogram", "info", double(histogram.values[v].rows),
                    psprintf("value %g", double(histogram.values[v].value)));
        StringInfoData rare_text;
        initStringInfo(&rare_text);
        appendStringInfo(&rare_text, "rows outside [%g, %g], where 99.9%% of the values lie, with a rare value",
                         double(f.common_low), double(f.common_high));
        for (size_t v = 0; v < rare.count; ++v)
            appendStringInfo(&rare_text, "%s %g (%zu rows)", v == 0 ? ":" : ",", double(rare.values[v].value),
                             rare.values[v].rows);
        out.check("out-of-range values", "warning", f.out_of_range, rare_text.data);
    }
    out.check("users with fewer than 5 interactions", "warning", f.users_below,
              "min_user_interactions => 5 in rec.train leaves them out");
    out.check("items with fewer than 5 interactions", "warning", f.items_below,
              "min_item_interactions => 5 in rec.train leaves them out");
    StringInfoData bot_text;
    initStringInfo(&bot_text);
    appendStringInfo(&bot_text, "users with more than 50 times the median user's %g interactions, in the top 0.1%%",
                     f.median_user_interactions);
    for (size_t b = 0; b < Min(bots.count, (size_t) 5); ++b)
        appendStringInfo(&bot_text, "%s user %s: %zu", b == 0 ? ":" : ",",
                         rec::pg::display_id(rows, false, bots.values[b].user), bots.values[b].interactions);
    if (bots.count > 0)
        appendStringInfo(&bot_text, "; max_user_interactions => %zu in rec.train leaves them out",
                         bots.values[bots.count - 1].interactions - 1);
    out.check("suspected bots", "warning", bots.count, bot_text.data);
    out.row("item popularity Gini", "info", f.item_gini,
            "Gini coefficient of interactions per item: 0 all equal, towards 1 a few items take all");
    if (spec.time_column)
    {
        out.check("NULL times", "error", defects.null_times, "rows with a NULL time (skipped here)");
        StringInfoData burst_text;
        initStringInfo(&burst_text);
        appendStringInfo(&burst_text, "users with more than %zu interactions at one timestamp", rec::core::kBurstLimit);
        for (size_t b = 0; b < Min(bursts.count, (size_t) 5); ++b)
            appendStringInfo(&burst_text, "%s user %s: %zu at one time", b == 0 ? ":" : ",",
                             rec::pg::display_id(rows, false, bursts.values[b].user), bursts.values[b].at_one_time);
        out.check("timestamp bursts", "warning", bursts.count, burst_text.data);
        if (f.rows > 0)
            out.row("time span", "info", (f.time_max - f.time_min) / SECS_PER_DAY,
                    psprintf("days from %s to %s", timestamp_text(f.time_min), timestamp_text(f.time_max)));
        out.check("future timestamps", "warning", f.future, "rows with a time after now()");
    }
    PG_RETURN_NULL();
}
