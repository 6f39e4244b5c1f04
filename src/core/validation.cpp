#include "core/validation.hpp"

#include <algorithm>
#include <cmath>

#include "core/pure_cpp.hpp"

namespace rec::core {

ValidationSet
make_validation_set(const Interactions &train, const int64_t *users, const int64_t *items, const float *values,
                    size_t count, bool explicit_ratings, float rating_min, float rating_max)
{
    ValidationSet set;
    set.explicit_ratings = explicit_ratings;
    set.rating_min = rating_min;
    set.rating_max = rating_max;
    if (explicit_ratings)
    {
        set.users.reserve(count);
        set.items.reserve(count);
        set.ratings.assign(values, values + count);
        for (size_t r = 0; r < count; ++r)
        {
            set.users.push_back(int32_t(find_id(train.user_ids, users[r])));
            set.items.push_back(int32_t(find_id(train.item_ids, items[r])));
        }
        return set;
    }
    const size_t n_users = train.user_ids.size();
    std::vector<int64_t> user_of(count, -1);
    set.positives.offsets.assign(n_users + 1, 0);
    for (size_t r = 0; r < count; ++r)
        if (values[r] > 0)
        {
            user_of[r] = find_id(train.user_ids, users[r]);
            if (user_of[r] >= 0)
                ++set.positives.offsets[size_t(user_of[r]) + 1];
        }
    for (size_t u = 0; u < n_users; ++u)
        set.positives.offsets[u + 1] += set.positives.offsets[u];
    set.positives.items.resize(set.positives.offsets[n_users]);
    std::vector<size_t> next(set.positives.offsets.begin(), set.positives.offsets.end() - 1);
    for (size_t r = 0; r < count; ++r)
        if (user_of[r] >= 0)
            set.positives.items[next[size_t(user_of[r])]++] = int32_t(find_id(train.item_ids, items[r]));
    return set;
}

const char *
validation_metric_name(const ValidationSet &set)
{
    return set.explicit_ratings ? "validation RMSE" : "validation ndcg@10";
}

double
validation_metric(const ValidationSet &set, const BiasedFactors &model, const Interactions &train, int threads,
                  HostHooks &hooks)
{
    const int k = model.factors;
    if (set.explicit_ratings)
    {
        double squared = 0;
        for (size_t r = 0; r < set.ratings.size(); ++r)
        {
            const int32_t u = set.users[r], i = set.items[r];
            double prediction = model.global_mean;
            if (u >= 0)
                prediction += model.user_bias[size_t(u)];
            if (i >= 0)
                prediction += model.item_bias[size_t(i)];
            if (u >= 0 && i >= 0)
                for (int f = 0; f < k; ++f)
                    prediction += double(model.user_factors[size_t(u) * size_t(k) + size_t(f)]) *
                                  model.item_factors[size_t(i) * size_t(k) + size_t(f)];
            prediction = std::clamp(prediction, double(set.rating_min), double(set.rating_max));
            squared += (prediction - set.ratings[r]) * (prediction - set.ratings[r]);
        }
        return set.ratings.empty() ? 0.0 : std::sqrt(squared / double(set.ratings.size()));
    }
    const FactorModelView view{{model.item_factors.data(), model.item_bias.data(), train.item_ids.size(), k},
                               model.user_factors.data(), train.user_ids.size()};
    // The training items, left out of each user's ranking, as SeenItemsView wants them.
    std::vector<int64_t> offsets(train.by_user.offsets.begin(), train.by_user.offsets.end());
    const RankingMetrics metrics =
        ranking_metrics(view, {offsets.data(), train.by_user.columns.data()}, set.positives, 10, threads, hooks);
    return metrics.ndcg;
}

bool
validation_better(const ValidationSet &set, double candidate, double reference)
{
    return set.explicit_ratings ? candidate < reference : candidate > reference;
}

}  // namespace rec::core
