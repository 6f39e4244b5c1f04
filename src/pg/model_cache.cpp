#include "pg/model_cache.hpp"

#include <algorithm>

namespace rec::pg {

namespace {

constexpr int kCachedModels = 4;

struct Entry
{
    LoadedModel *model;
    uint64 last_used;
};

Entry entries[kCachedModels];
uint64 use_clock = 0;

}  // namespace

const LoadedModel *
serving_model(const char *name)
{
    const int64 model_id = find_model(name);
    ++use_clock;
    int victim = 0;
    for (int e = 0; e < kCachedModels; ++e)
    {
        if (entries[e].model && entries[e].model->model_id == model_id)
        {
            entries[e].last_used = use_clock;
            return entries[e].model;
        }
        if (entries[victim].model && (!entries[e].model || entries[e].last_used < entries[victim].last_used))
            victim = e;
    }
    // Loaded under the current (transaction) context so that an error mid-load frees it; kept for the
    // session only once complete.
    LoadedModel *loaded = load_model(model_id, CurrentMemoryContext);
    MemoryContextSetParent(loaded->context, CacheMemoryContext);
    if (entries[victim].model)
        MemoryContextDelete(entries[victim].model->context);
    entries[victim] = Entry{loaded, use_clock};
    return loaded;
}

int64
user_index(const LoadedModel *m, int64 user_id)
{
    const int64 *at = std::lower_bound(m->user_ids, m->user_ids + m->n_users, user_id);
    return (at != m->user_ids + m->n_users && *at == user_id) ? at - m->user_ids : -1;
}

int64
item_index(const LoadedModel *m, int64 item_id)
{
    const int64 *at = std::lower_bound(m->item_ids, m->item_ids + m->n_items, item_id);
    return (at != m->item_ids + m->n_items && *at == item_id) ? at - m->item_ids : -1;
}

double
predicted_score(const LoadedModel *m, int64 user, int64 item)
{
    // Unknown users and items contribute nothing beyond the mean: the baseline estimate.
    double score = m->global_mean;
    if (user >= 0)
        score += m->user_bias[user];
    if (item >= 0)
        score += m->item_bias[item];
    if (user >= 0 && item >= 0)
    {
        const float *p = m->user_factors + size_t(user) * size_t(m->k);
        const float *q = m->item_factors + size_t(item) * size_t(m->k);
        for (int f = 0; f < m->k; ++f)
            score += double(p[f]) * double(q[f]);
    }
    // Ratings are clipped to the range of the training ratings, as Surprise and LIBMF do; implicit
    // models' scores are preferences, not ratings, and are returned as they are.
    if (m->clip_predictions)
        score = std::clamp(score, double(m->rating_min), double(m->rating_max));
    return score;
}

}  // namespace rec::pg
