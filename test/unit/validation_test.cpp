#include <gtest/gtest.h>

#include <cmath>

#include "core/als.hpp"
#include "core/validation.hpp"

using namespace rec::core;

namespace {
Interactions
two_by_two()
{
    const int64_t u[] = {10, 10, 20};
    const int64_t i[] = {1, 2, 1};
    const float v[] = {4, 2, 5};
    NoHostHooks none;
    return build_interactions({u, i, v, 3}, DuplicatePolicy::Average, 1, none);
}

// Stops after `last` iterations and counts the reports.
struct StopAt : TrainHooks
{
    int last, reports = 0;
    explicit StopAt(int l) : last(l) {}
    void poll() override {}
    bool keep_going(const FactorModel &, IterationStats &stats) override { return stats.iteration < last; }
    void iteration_done(const IterationStats &) override { ++reports; }
};
}  // namespace

// RMSE as rec.predict would predict: baseline for unseen users and items, clipped to the training range.
TEST(Validation, ExplicitRmseByHand)
{
    const Interactions train = two_by_two();
    FactorModel model;
    model.factors = 1;
    model.global_mean = 3.0;
    model.user_factors = {1.0f, 0.5f};   // users 10, 20
    model.item_factors = {2.0f, -1.0f};  // items 1, 2
    model.user_bias = {0.5f, -0.5f};
    model.item_bias = {0.25f, 0.0f};
    const int64_t users[] = {10, 20, 99, 10};
    const int64_t items[] = {2, 2, 1, 1};
    const float ratings[] = {3, 2, 4, 5};
    const ValidationSet set = make_validation_set(train, users, items, ratings, 4, true, 1.0f, 5.0f);
    // (10,2): 3 + .5 + 0 - 1 = 2.5; (20,2): 3 - .5 + 0 - .5 = 2; (99,1): 3 + .25 = 3.25; (10,1): 5.75 -> 5.
    const double expected = std::sqrt((0.25 + 0.0 + 0.5625 + 0.0) / 4);
    NoHostHooks none;
    EXPECT_NEAR(validation_metric(set, model, train, 1, none), expected, 1e-9);
    EXPECT_STREQ(validation_metric_name(set), "validation RMSE");
    EXPECT_TRUE(validation_better(set, 0.8, 0.9));
}

// Implicit: ndcg@10 of the held-out positives, training items left out; a perfect model scores 1.
TEST(Validation, ImplicitNdcgOfAPerfectRanking)
{
    const Interactions train = two_by_two();
    FactorModel model;
    model.kind = ModelKind::ImplicitAls;
    model.factors = 1;
    model.user_factors = {1.0f, 1.0f};
    model.item_factors = {0.0f, 1.0f};  // item 2 ranks above item 1
    model.user_bias = {0, 0};
    model.item_bias = {0, 0};
    const int64_t users[] = {20, 10, 77};
    const int64_t items[] = {2, 1, 2};
    const float values[] = {1, 0, 1};  // user 10's row is not a positive; user 77 is unknown
    const ValidationSet set = make_validation_set(train, users, items, values, 3, false, 0, 0);
    NoHostHooks none;
    EXPECT_NEAR(validation_metric(set, model, train, 1, none), 1.0, 1e-9);
    EXPECT_TRUE(validation_better(set, 0.5, 0.4));
}

TEST(Validation, HooksStopTrainingEarly)
{
    const Interactions train = two_by_two();
    AlsParams p;
    p.factors = 2;
    p.iterations = 10;
    StopAt hooks(3);
    const FactorModel model = train_explicit_als(train, p, hooks);
    EXPECT_EQ(model.iterations, 3);
    EXPECT_EQ(hooks.reports, 3);
}
