#include <gtest/gtest.h>

#include <cmath>

#include "core/als.hpp"
#include "core/factor_model.hpp"
#include "core/ials.hpp"
#include "core/random.hpp"

using namespace rec::core;

namespace {
Interactions
random_ratings(uint64_t seed)
{
    std::vector<int64_t> u, i;
    std::vector<float> v;
    RowRandom rng(seed, 0, 0);
    for (int a = 0; a < 40; ++a)
        for (int b = 0; b < 30; ++b)
            if (rng.uniform() < 0.4)
            {
                u.push_back(a);
                i.push_back(b);
                v.push_back(float(1 + int(rng.uniform() * 5)));
            }
    NoHostHooks none;
    return build_interactions({u.data(), i.data(), v.data(), u.size()}, DuplicatePolicy::Average, 1, none);
}
struct Quiet : TrainHooks
{
    void poll() override {}
};

// |a - b| / |b|
double
relative_difference(const float *a, const float *b, int k)
{
    double difference = 0, norm = 0;
    for (int f = 0; f < k; ++f)
    {
        difference += double(a[f] - b[f]) * double(a[f] - b[f]);
        norm += double(b[f]) * b[f];
    }
    return std::sqrt(difference / norm);
}
}  // namespace

// Folding in a training user against the final item factors solves that user's last half-step again,
// so it must give (nearly) the stored factors when items barely move in the last iteration.
TEST(FoldIn, ExplicitReproducesATrainedUser)
{
    const auto data = random_ratings(1);
    AlsParams p;
    p.factors = 4;
    p.iterations = 30;
    p.regularization = 0.1;
    p.unweighted_regularization = 1.0;
    Quiet hooks;
    const auto model = train_explicit_als(data, p, hooks);
    const size_t u = 5, begin = data.by_user.offsets[u], count = data.by_user.row_size(u);
    const auto folded =
        model.view().fold_in(data.by_user.columns.data() + begin, data.by_user.values.data() + begin, count);
    EXPECT_NEAR(folded.bias, model.user_bias[u], 1e-2);
    EXPECT_LT(relative_difference(folded.factors.data(), model.user_factors.data() + u * 4, 4), 0.03);
}

// The stored factors were solved against the previous iteration's item factors, which still move a
// little: compare the vectors relatively.
TEST(FoldIn, ImplicitReproducesATrainedUser)
{
    const auto data = random_ratings(2);
    ImplicitParams p;
    p.factors = 4;
    p.iterations = 30;
    p.solver = Solver::Cholesky;
    Quiet hooks;
    const auto model = train_implicit_als(data, p, hooks);
    const size_t u = 7, begin = data.by_user.offsets[u], count = data.by_user.row_size(u);
    const auto folded =
        model.view().fold_in(data.by_user.columns.data() + begin, data.by_user.values.data() + begin, count);
    EXPECT_LT(relative_difference(folded.factors.data(), model.user_factors.data() + u * 4, 4), 0.03);
}

// explain's terms add up to the folded-in user's score: the explicit one without μ and b_target.
TEST(Explain, ExplicitTermsSumToTheFoldedInScore)
{
    const auto data = random_ratings(3);
    AlsParams p;
    p.factors = 4;
    p.iterations = 10;
    Quiet hooks;
    const auto model = train_explicit_als(data, p, hooks);
    const size_t u = 3, begin = data.by_user.offsets[u], count = data.by_user.row_size(u);
    const int32_t *items = data.by_user.columns.data() + begin;
    const float *ratings = data.by_user.values.data() + begin;
    FactorModelView view = model.view();
    view.solve.regularization = 0.05;
    view.solve.bias_regularization = 0.02;
    view.solve.unweighted_regularization = 0.5;
    const auto folded = view.fold_in(items, ratings, count);
    for (int32_t target : {0, 11, 29})
    {
        const auto terms = view.explain(items, ratings, count, target);
        ASSERT_EQ(terms.size(), count);
        double sum = 0, expected = folded.bias;
        for (float t : terms)
            sum += t;
        for (int f = 0; f < 4; ++f)
            expected += double(folded.factors[size_t(f)]) * model.item_factors[size_t(target) * 4 + size_t(f)];
        EXPECT_NEAR(sum, expected, 1e-3 * (1 + std::fabs(expected)));
    }
}

TEST(Explain, ImplicitTermsSumToTheScoreAndFavourSimilarItems)
{
    const auto data = random_ratings(4);
    ImplicitParams p;
    p.factors = 4;
    p.iterations = 10;
    Quiet hooks;
    const auto model = train_implicit_als(data, p, hooks);
    const auto gram = gram_of(model.item_factors.data(), data.item_ids.size(), 4);
    FactorModelView view = model.view();
    view.item_gram = gram.data();  // as served: the image holds YᵀY
    const size_t u = 9, begin = data.by_user.offsets[u], count = data.by_user.row_size(u);
    const int32_t *items = data.by_user.columns.data() + begin;
    const float *values = data.by_user.values.data() + begin;
    const auto folded = view.fold_in(items, values, count);
    const int32_t target = items[0];
    const auto terms = view.explain(items, values, count, target);
    double sum = 0, expected = 0;
    for (float t : terms)
        sum += t;
    for (int f = 0; f < 4; ++f)
        expected += double(folded.factors[size_t(f)]) * model.item_factors[size_t(target) * 4 + size_t(f)];
    EXPECT_NEAR(sum, expected, 1e-3 * (1 + std::fabs(expected)));
    // An item explains itself more than the average of the others does.
    double others = 0;
    for (size_t j = 1; j < count; ++j)
        others += terms[j];
    EXPECT_GT(terms[0], others / double(count - 1));
}

// One prediction formula: μ + b_u + b_i + pᵀq, the baseline for unknown ids, clipped when asked.
TEST(FactorModel, PredictsWithBiasesAndClips)
{
    const float user_factors[] = {1, 2}, user_bias[] = {0.5f};
    const float item_factors[] = {1, 1, -1, 0}, item_bias[] = {0.25f, 0};
    FactorModelView m;
    m.k = 2;
    m.global_mean = 3;
    m.user_factors = user_factors;
    m.user_bias = user_bias;
    m.users = 1;
    m.item_factors = item_factors;
    m.item_bias = item_bias;
    m.items = 2;
    EXPECT_DOUBLE_EQ(m.predict(0, 0), 3 + 0.5 + 0.25 + 3);
    EXPECT_DOUBLE_EQ(m.predict(0, 1), 3 + 0.5 - 1);
    EXPECT_DOUBLE_EQ(m.predict(-1, 0), 3.25);
    EXPECT_DOUBLE_EQ(m.predict(0, -1), 3.5);
    EXPECT_DOUBLE_EQ(m.predict(-1, -1), 3);
    m.clip = true;
    m.rating_min = 1;
    m.rating_max = 5;
    EXPECT_DOUBLE_EQ(m.predict(0, 0), 5);
    EXPECT_DOUBLE_EQ(m.clipped(-7), 1);
    // The transposed model scores the same cells.
    const FactorModelView t = m.transposed();
    EXPECT_EQ(t.users, 2u);
    EXPECT_DOUBLE_EQ(t.predict(1, 0), m.predict(0, 1));
}
