// A validation metric computed during training, from held-out rows: RMSE of the predicted ratings for
// explicit models, ndcg@10 of the ranking for implicit ones (rec.evaluate's definitions), for learning
// curves, early stopping and choosing among trained versions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/evaluate.hpp"
#include "core/interactions.hpp"
#include "core/training.hpp"

namespace rec::core {

struct ValidationSet
{
    bool explicit_ratings = true;          // RMSE (lower is better), else ndcg@10 (higher is better)
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
// `weights`: an item-item model's (model then holds only its kind and counts).
double validation_metric(const ValidationSet &set, const FactorModel &model, const Interactions &train, int threads,
                         HostHooks &hooks, const ItemWeightsView *weights = nullptr);

// The same for any kind of model (core/recommender.hpp), its `seen` the training items.
double validation_metric(const ValidationSet &set, const Recommender &model, int threads, HostHooks &hooks);

// Whether `candidate` is strictly better than `reference` for this set's metric.
bool validation_better(const ValidationSet &set, double candidate, double reference);

// Hooks around the host's that compute the validation metric after every iteration, record the
// learning curve and, with early stopping, end training once the metric has not improved on its best
// for kPatience iterations in a row. Polls and reports go to the host's hooks.
class ValidatingHooks : public TrainHooks
{
public:
    static constexpr int kPatience = 2;

    struct Point
    {
        int iteration;
        double training, validation;
    };

    ValidatingHooks(TrainHooks &host, const ValidationSet &set, const Interactions &train, bool early_stopping,
                    int threads);

    void poll() override { host_.poll(); }
    bool keep_going(const FactorModel &model, IterationStats &stats) override;
    void iteration_done(const IterationStats &stats) override { host_.iteration_done(stats); }

    const char *metric() const { return validation_metric_name(set_); }
    bool lower_is_better() const { return set_.explicit_ratings; }
    const std::vector<Point> &curve() const { return curve_; }
    // [{"iteration": 1, "training": .., "validation": ..}, ...], numbers exact to the last digit.
    std::string curve_json() const;

private:
    TrainHooks &host_;
    const ValidationSet &set_;
    const Interactions &train_;
    bool early_stopping_;
    int threads_;
    std::vector<Point> curve_;
    double best_ = 0;
    int since_best_ = 0;
};

}  // namespace rec::core
