// rec.recommend and rec.predict: serving a trained model in queries.
#include "pg/bridge.hpp"
#include "pg/model_cache.hpp"

#include <algorithm>

#include "core/topn.hpp"

namespace {

using rec::pg::LoadedModel;
using rec::pg::item_index;
using rec::pg::user_index;

// Best n items for a known user into caller-provided arrays; returns how many. Pure C++: the scores
// vector is gone before the caller touches PostgreSQL again.
size_t
score_known_user(const LoadedModel *m, int64 user, bool exclude_seen, size_t n, int64 *items, float *scores)
{
    rec::core::ItemFactorsView view{m->item_factors, m->item_bias, size_t(m->n_items), m->k};
    const int32 *seen = m->seen_items + m->seen_offsets[user];
    const size_t seen_count = exclude_seen ? size_t(m->seen_offsets[user + 1] - m->seen_offsets[user]) : 0;
    const float offset = float(m->global_mean) + m->user_bias[user];
    const auto best = rec::core::top_n(view, m->user_factors + size_t(user) * size_t(m->k), offset, seen, seen_count, n);
    for (size_t r = 0; r < best.size(); ++r)
    {
        items[r] = m->item_ids[best[r].item];
        scores[r] = best[r].score;
    }
    return best.size();
}

}  // namespace

// rec.recommend(user_id, n, model, exclude_seen) RETURNS TABLE (item_id bigint, score real)
PGREC_FUNCTION(rec_recommend)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();  // no user, no rows: what a STRICT function would give
    if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must be a number >= 0"),
                        errhint("n is how many items to return.")));
    if (PG_ARGISNULL(3))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("exclude_seen must not be NULL")));
    const int64 user_id = PG_GETARG_INT64(0);
    const char *model_name = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
    const bool exclude_seen = PG_GETARG_BOOL(3);
    const LoadedModel *m = rec::pg::serving_model(model_name);
    const size_t n = Min(size_t(PG_GETARG_INT32(1)), size_t(m->n_items));

    int64 *items = (int64 *) palloc(sizeof(int64) * Max(n, (size_t) 1));
    float *scores = (float *) palloc(sizeof(float) * Max(n, (size_t) 1));
    size_t found = 0;
    const int64 user = user_index(m, user_id);
    if (user >= 0)
        found = score_known_user(m, user, exclude_seen, n, items, scores);
    else
    {
        // Unknown user: the most rated items, scored as for an average user (μ + b_i).
        for (; found < n; ++found)
        {
            const int32 i = m->items_by_popularity[found];
            items[found] = m->item_ids[i];
            scores[found] = float(m->global_mean) + m->item_bias[i];
        }
    }
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    for (size_t r = 0; r < found; ++r)
    {
        Datum values[2] = {Int64GetDatum(items[r]), Float4GetDatum(scores[r])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    PG_RETURN_NULL();
}

// rec.predict(user_id, item_id, model) RETURNS real
PGREC_FUNCTION(rec_predict)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        PG_RETURN_NULL();
    const char *model_name = PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2));
    const LoadedModel *m = rec::pg::serving_model(model_name);
    const double score = rec::pg::predicted_score(m, user_index(m, PG_GETARG_INT64(0)), item_index(m, PG_GETARG_INT64(1)));
    PG_RETURN_FLOAT4(float(score));
}

// rec.drop_model(model) RETURNS integer
PGREC_FUNCTION(rec_drop_model)
{
    PG_RETURN_INT32(rec::pg::drop_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}
