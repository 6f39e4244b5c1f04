// A validation metric computed during training, from held-out rows: RMSE of the predicted ratings for
// explicit models, ndcg@10 of the ranking for implicit ones (rec.evaluate's definitions), for learning
// curves, early stopping and choosing among trained versions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/als.hpp"
#include "core/evaluate.hpp"
#include "core/interactions.hpp"

namespace rec::core {

struct ValidationSet
{
    bool explicit_ratings = true;  // RMSE (lower is better), else ndcg@10 (higher is better)
    float rating_min = 0, rating_max = 0;  // explicit predictions are clipped to the training range
    // Explicit: every held-out row, as dense indexes of the training data (-1: unseen there).
    std::vector<int32_t> users, items;
    std::vector<float> ratings;
    // Implicit: positive held-out items of each training user.
    TestPositives positives;
};

// Maps held-out rows onto the training data's users and items. Implicit: rows with a value > 0 are
// the positives; rows of users the training data lacks are left out.
ValidationSet make_validation_set(const Interactions &train, const int64_t *users, const int64_t *items,
                                  const float *values, size_t count, bool explicit_ratings, float rating_min,
                                  float rating_max);

const char *validation_metric_name(const ValidationSet &set);

// The metric for the model as it is now. Explicit: as rec.predict (baseline for unseen ids, clipped).
double validation_metric(const ValidationSet &set, const BiasedFactors &model, const Interactions &train,
                         int threads, HostHooks &hooks);

// Whether `candidate` is strictly better than `reference` for this set's metric.
bool validation_better(const ValidationSet &set, double candidate, double reference);

}  // namespace rec::core
