// rec.because_you_watched(user_id, rows, n, model, candidates, exclude, diversity, group_table,
// per_group_limit): the rows "Because you watched X" of a home page. Anchors are the user's strongest
// training interactions (highest rating or count; equal ones: the title with more interactions, whose
// name the viewer more likely knows); each row holds the items most similar to its anchor by cosine
// of the item factors, as rec.similar_items ranks them, with the user's own items, `exclude` and the
// items of earlier rows left out, filtered first and then re-ranked by the rules. An anchor whose row
// would be empty is skipped for the next one.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/ids.hpp"
#include "pg/impressions.hpp"
#include "pg/page_rules.hpp"
#include "pg/serving.hpp"

#include <algorithm>
#include <numeric>

#include "core/topn.hpp"

namespace {

using rec::pg::ItemList;
using rec::pg::ServedModel;

// One row's items for `anchor` into caller-provided arrays; returns how many. Pure C++.
size_t
similar_row(const ServedModel *m, int32 anchor, size_t n, const ItemList &candidates, const int32 *excluded,
            size_t excluded_count, const rec::core::RerankOptions &rules, int32 *items, float *scores)
{
    const rec::core::IndexList among{candidates.indexes, candidates.count};
    const auto best = rec::pg::best_with_rules(m, n, rules, [&](size_t count) {
        return rec::pg::recommender_of(m).similar_items(size_t(anchor), count, candidates.given ? &among : nullptr,
                                                        {excluded, excluded_count});
    });
    for (size_t r = 0; r < best.size(); ++r)
    {
        items[r] = best[r].item;
        scores[r] = best[r].score;
    }
    return best.size();
}

}  // namespace

// rec.because_you_watched(...) RETURNS TABLE (anchor_item bigint, rank integer, item_id bigint, score real)
PGREC_FUNCTION(rec_because_you_watched)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("rows must be a number >= 0"),
                        errhint("rows is how many \"because you watched\" rows rec.because_you_watched returns.")));
    const int rows = PG_GETARG_INT32(1);
    const int n_arg = rec::pg::checked_n(fcinfo, 2);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    // During an A/B test, the version this user is assigned to.
    const rec::pg::ServedVersion served =
        rec::pg::serving_model_for_user(rec::pg::text_arg(fcinfo, 3), PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    const ServedModel *m = served.model;
    const bool log_impressions = PG_NARGS() > 9 && !PG_ARGISNULL(9) && PG_GETARG_BOOL(9);
    rec::pg::check_id_result_type(m, true, INT8OID,
                                  "rec.because_you_watched returns bigint item ids: it serves models with integer "
                                  "item ids.");
    const int64 user = rec::pg::user_index_of(m, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0));
    const ItemList candidates = rec::pg::item_list_arg(fcinfo, 4, "candidates", m);
    const rec::core::RerankOptions rules = rec::pg::page_rules_arg(fcinfo, 6, 7, 8, m, "rec.because_you_watched");
    if (user < 0 || rows == 0 || n_arg == 0)
        PG_RETURN_NULL();  // a user the model does not know has watched nothing it knows
    const size_t n = Min(size_t(n_arg), size_t(m->n_items));
    const int64 seen_begin = m->seen_offsets[user];
    const size_t seen_count = size_t(m->seen_offsets[user + 1] - seen_begin);
    const int32 *seen = m->seen_items + seen_begin;
    const float *values = m->seen_values + seen_begin;
    // Exclusions grow row by row: `exclude`, the user's items, then each row's items.
    // Room for the rows' items: each item is shown at most once, so never more than the catalogue.
    const size_t shown_room = Min(size_t(rows) * n, size_t(m->n_items));
    ItemList excluded = rec::pg::item_list_arg(fcinfo, 5, "exclude", m, seen_count + shown_room);
    memcpy(excluded.indexes + excluded.count, seen, sizeof(int32) * seen_count);
    excluded.count += seen_count;

    int32 *anchors = (int32 *) palloc(sizeof(int32) * (seen_count + 1));
    std::iota(anchors, anchors + seen_count, 0);
    std::sort(anchors, anchors + seen_count, [&](int32 a, int32 b) {
        if (values[a] != values[b])
            return values[a] > values[b];
        if (m->item_counts[seen[a]] != m->item_counts[seen[b]])
            return m->item_counts[seen[a]] > m->item_counts[seen[b]];
        return seen[a] < seen[b];
    });
    int32 *items = (int32 *) palloc(sizeof(int32) * (n + 1));
    float *scores = (float *) palloc(sizeof(float) * (n + 1));
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    int done = 0;
    for (size_t a = 0; a < seen_count && done < rows; ++a)
    {
        CHECK_FOR_INTERRUPTS();
        const int32 anchor = seen[anchors[a]];
        const size_t found =
            similar_row(m, anchor, n, candidates, excluded.indexes, excluded.count, rules, items, scores);
        if (found == 0)
            continue;
        for (size_t r = 0; r < found; ++r)
        {
            Datum row[4] = {Int64GetDatum(m->item_ids[anchor]), Int32GetDatum(int32(r + 1)),
                            Int64GetDatum(m->item_ids[items[r]]), Float4GetDatum(scores[r])};
            bool nulls[4] = {false, false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
            excluded.indexes[excluded.count++] = items[r];
        }
        if (log_impressions)  // each row is a list shown
            rec::pg::log_served_list(served, PG_GETARG_DATUM(0), rec::pg::arg_type(fcinfo, 0), items, found,
                                     "because_you_watched");
        ++done;
    }
    PG_RETURN_NULL();
}
