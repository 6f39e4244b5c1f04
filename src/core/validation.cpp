#include "core/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
    std::vector<int64_t> user_of(count, -1);
    std::vector<int32_t> item_of(count, -1);
    for (size_t r = 0; r < count; ++r)
        if (values[r] > 0)
        {
            user_of[r] = find_id(train.user_ids, users[r]);
            item_of[r] = int32_t(find_id(train.item_ids, items[r]));
        }
    set.positives = group_positives(train.user_ids.size(), user_of.data(), item_of.data(), count);
    return set;
}

const char *
validation_metric_name(const ValidationSet &set)
{
    return set.explicit_ratings ? "validation RMSE" : "validation ndcg@10";
}

double
validation_metric(const ValidationSet &set, const FactorModel &model, const Interactions &train, int threads,
                  HostHooks &hooks, const ItemWeightsView *weights)
{
    Recommender recommender;
    recommender.factors = model.view();
    if (weights)
        recommender.weights = *weights;
    // The training items (what an item-item model scores by, and what a ranking leaves out), with
    // int64 offsets as the views take them; predicting ratings needs none.
    std::vector<int64_t> offsets;
    if (!set.explicit_ratings || weights)
    {
        offsets.assign(train.by_user.offsets.begin(), train.by_user.offsets.end());
        recommender.seen = {offsets.data(), train.by_user.columns.data(), train.by_user.values.data()};
    }
    return validation_metric(set, recommender, threads, hooks);
}

double
validation_metric(const ValidationSet &set, const Recommender &model, int threads, HostHooks &hooks)
{
    if (set.explicit_ratings)
    {
        Recommender clipped = model;
        clipped.factors.clip = true;
        clipped.factors.rating_min = set.rating_min;
        clipped.factors.rating_max = set.rating_max;
        double squared = 0;
        for (size_t r = 0; r < set.ratings.size(); ++r)
        {
            const double error = clipped.predict(set.users[r], set.items[r]) - set.ratings[r];
            squared += error * error;
        }
        return set.ratings.empty() ? 0.0 : std::sqrt(squared / double(set.ratings.size()));
    }
    return ranking_metrics(model, set.positives, 10, threads, hooks).ndcg;
}

bool
validation_better(const ValidationSet &set, double candidate, double reference)
{
    return set.explicit_ratings ? candidate < reference : candidate > reference;
}

ValidatingHooks::ValidatingHooks(TrainHooks &host, const ValidationSet &set, const Interactions &train,
                                 bool early_stopping, int threads)
    : host_(host), set_(set), train_(train), early_stopping_(early_stopping), threads_(threads)
{}

bool
ValidatingHooks::keep_going(const FactorModel &model, IterationStats &stats)
{
    const double value = validation_metric(set_, model, train_, threads_, *this);
    curve_.push_back({stats.iteration, stats.value, value});
    stats.validation_metric = metric();
    stats.validation_value = value;
    if (curve_.size() == 1 || validation_better(set_, value, best_))
    {
        best_ = value;
        since_best_ = 0;
    }
    else
        ++since_best_;
    const bool host_goes_on = host_.keep_going(model, stats);
    return host_goes_on && !(early_stopping_ && since_best_ >= kPatience);
}

std::string
ValidatingHooks::curve_json() const
{
    const auto number = [](double value) {
        char text[64];
        snprintf(text, sizeof text, "%.17g", std::isfinite(value) ? value : 0.0);
        return std::string(text);
    };
    std::string json = "[";
    for (const Point &p : curve_)
        json += (p.iteration == curve_.front().iteration ? "" : ", ") + std::string("{\"iteration\": ") +
                std::to_string(p.iteration) + ", \"training\": " + number(p.training) +
                ", \"validation\": " + number(p.validation) + "}";
    return json + "]";
}

}  // namespace rec::core
