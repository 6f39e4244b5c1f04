#include "core/recommender.hpp"

#include <algorithm>

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

// Best n of an item-item model's scores for a user with these items.
std::vector<Scored>
item_item_top_n(const ItemWeightsView &weights, UserItems user, IndexList excluded, const IndexList *candidates,
                size_t n, int threads = 1, HostHooks *hooks = nullptr)
{
    const std::vector<float> scores = weights.score_all(user.items, user.values, user.count, threads, hooks);
    return top_n_of_scores(scores.data(), weights.items, excluded, candidates, n);
}

// Best n of a factor model for a user's factors and the part of the score that does not depend on
// the item.
std::vector<Scored>
factor_top_n(const FactorModelView &model, const float *user, float offset, IndexList excluded,
             const IndexList *candidates, size_t n, int threads, HostHooks *hooks)
{
    if (candidates)
        return top_n_among(model.item_view(), user, offset, *candidates, excluded, n);
    return top_n(model.item_view(), user, offset, excluded.indexes, excluded.count, n, threads, hooks);
}

}  // namespace

std::vector<Scored>
Recommender::top_n_for_user(size_t user, IndexList excluded, const IndexList *candidates, size_t n, int threads,
                            HostHooks *hooks) const
{
    if (item_item())
        return item_item_top_n(weights, seen.of(user), excluded, candidates, n, threads, hooks);
    return factor_top_n(factors, factors.user_factors + user * size_t(factors.k), factors.user_offset(user), excluded,
                        candidates, n, threads, hooks);
}

std::vector<Scored>
Recommender::rank_for_user(size_t user, IndexList excluded, size_t n) const
{
    if (item_item())
        return item_item_top_n(weights, seen.of(user), excluded, nullptr, n);
    return top_n(factors.item_view(), factors.user_factors + user * size_t(factors.k), 0.0f, excluded.indexes,
                 excluded.count, n);
}

bool
Recommender::scoring_runs_in_parallel(size_t user_items) const
{
    return item_item() ? weights.scoring_runs_in_parallel(user_items) : top_n_runs_in_parallel(items(), factors.k);
}

std::vector<Scored>
Recommender::top_n_for_items(UserItems user, IndexList excluded, const IndexList *candidates, size_t n, int threads,
                             HostHooks *hooks) const
{
    if (item_item())
        return item_item_top_n(weights, user, excluded, candidates, n, threads, hooks);
    const FoldedUser folded = factors.fold_in(user.items, user.values, user.count);
    return factor_top_n(factors, folded.factors.data(), float(factors.global_mean) + folded.bias, excluded, candidates,
                        n, threads, hooks);
}

double
Recommender::predict(int64_t user, int64_t item) const
{
    if (!item_item())
        return factors.predict(user, item);
    if (user < 0 || item < 0)
        return 0.0;
    const UserItems mine = seen.of(size_t(user));
    return weights.score(mine.items, mine.values, mine.count, int32_t(item));
}

std::vector<float>
Recommender::explain(UserItems user, int32_t target) const
{
    if (item_item())
        return weights.explain(user.items, user.values, user.count, target);
    return factors.explain(user.items, user.values, user.count, target);
}

std::vector<Scored>
Recommender::similar_items(size_t item, size_t n, const IndexList *candidates, IndexList excluded) const
{
    if (!item_item())
        return most_similar(factors.item_factors, factors.items, factors.k, item, n, candidates, excluded);
    // The row's weights, among the items it has one for (every item for dense weights).
    const size_t count = weights.items;
    std::vector<char> allowed(count, candidates ? 0 : 1);
    if (candidates)
        for (size_t c = 0; c < candidates->count; ++c)
            if (candidates->indexes[c] >= 0 && size_t(candidates->indexes[c]) < count)
                allowed[size_t(candidates->indexes[c])] = 1;
    for (size_t e = 0; e < excluded.count; ++e)
        if (excluded.indexes[e] >= 0 && size_t(excluded.indexes[e]) < count)
            allowed[size_t(excluded.indexes[e])] = 0;
    allowed[item] = 0;
    std::vector<Scored> row;
    if (weights.dense())
    {
        for (size_t j = 0; j < count; ++j)
            if (allowed[j])
                row.push_back({int32_t(j), weights.weights[item * count + j]});
    }
    else
        for (int64_t e = weights.offsets[item]; e < weights.offsets[item + 1]; ++e)
            if (allowed[size_t(weights.neighbours[e])])
                row.push_back({weights.neighbours[e], weights.weights[e]});
    return best_of(std::move(row), n);
}

}  // namespace rec::core
