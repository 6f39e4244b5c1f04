#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/als.hpp"
#include "core/random.hpp"
#include "row_subset.hpp"

using namespace rec::core;

namespace {

struct Synthetic
{
    std::vector<int64_t> users, items;
    std::vector<float> values;
};

// Ratings from rank-3 factors plus biases, on a random 30% of a 60 x 40 grid.
Synthetic
low_rank(uint64_t seed)
{
    const int m = 60, n = 40, rank = 3;
    std::vector<double> p(m * rank), q(n * rank), bu(m), bi(n);
    RowRandom rng(seed, 0, 0);
    for (auto &x : p)
        x = rng.normal();
    for (auto &x : q)
        x = rng.normal();
    for (auto &x : bu)
        x = 0.5 * rng.normal();
    for (auto &x : bi)
        x = 0.5 * rng.normal();
    Synthetic s;
    for (int u = 0; u < m; ++u)
        for (int i = 0; i < n; ++i)
            if (rng.uniform() < 0.3)
            {
                double r = 3.0 + bu[u] + bi[i];
                for (int f = 0; f < rank; ++f)
                    r += p[u * rank + f] * q[i * rank + f];
                s.users.push_back(1000 + u);
                s.items.push_back(7 * i);
                s.values.push_back(float(r));
            }
    return s;
}

struct Recorder : TrainHooks
{
    std::vector<double> rmse;
    int polls = 0;
    void poll() override { ++polls; }
    void iteration_done(const IterationStats &s) override { rmse.push_back(s.value); }
};

FactorModel
train(const Synthetic &s, AlsParams p, Recorder &hooks, Interactions *out = nullptr)
{
    NoHostHooks none;
    TripletsView view{s.users.data(), s.items.data(), s.values.data(), s.users.size()};
    Interactions data = build_interactions(view, DuplicatePolicy::Average, p.threads, none);
    auto model = train_explicit_als(data, p, hooks);
    if (out)
        *out = std::move(data);
    return model;
}

}  // namespace

TEST(Als, FitsLowRankDataAndReportsEveryIteration)
{
    AlsParams p;
    p.factors = 5;
    p.iterations = 12;
    p.regularization = 0.001;
    Recorder hooks;
    auto model = train(low_rank(1), p, hooks);
    ASSERT_EQ(hooks.rmse.size(), 12u);
    EXPECT_LT(hooks.rmse.back(), 0.1);
    EXPECT_LT(hooks.rmse.back(), hooks.rmse.front());
    EXPECT_DOUBLE_EQ(model.train_value, hooks.rmse.back());
    EXPECT_GT(hooks.polls, 2 * p.iterations);  // at least once per half-step
}

TEST(Als, SameSeedGivesBitIdenticalFactorsForAnyThreadCount)
{
    const auto data = low_rank(2);
    AlsParams p;
    p.factors = 8;
    p.iterations = 5;
    p.threads = 1;
    Recorder h1, h2, h3;
    auto one = train(data, p, h1);
    p.threads = 2;
    auto two = train(data, p, h2);
    p.threads = 3;
    auto three = train(data, p, h3);
    EXPECT_EQ(one.user_factors, two.user_factors);
    EXPECT_EQ(one.item_factors, two.item_factors);
    EXPECT_EQ(one.item_bias, two.item_bias);
    EXPECT_EQ(one.user_factors, three.user_factors);
    EXPECT_EQ(h1.rmse, h3.rmse);
    p.seed = 43;
    Recorder h4;
    EXPECT_NE(train(data, p, h4).item_factors, one.item_factors);
}

TEST(Als, RegularizationShrinksFactors)
{
    const auto data = low_rank(3);
    AlsParams p;
    p.factors = 4;
    p.iterations = 5;
    Recorder a, b;
    p.regularization = 0.01;
    auto loose = train(data, p, a);
    p.regularization = 5.0;
    auto tight = train(data, p, b);
    double norm_loose = 0, norm_tight = 0;
    for (float x : loose.item_factors)
        norm_loose += x * x;
    for (float x : tight.item_factors)
        norm_tight += x * x;
    EXPECT_LT(norm_tight, 0.1 * norm_loose);
    EXPECT_GT(b.rmse.back(), a.rmse.back());
}

TEST(Als, BiasAndUnweightedPenaltiesActWhereTheySay)
{
    const auto data = low_rank(5);
    AlsParams p;
    p.factors = 4;
    p.iterations = 5;
    p.regularization = 0.01;
    auto sum_squares = [](const LargeVector<float> &v) {
        double s = 0;
        for (float x : v)
            s += double(x) * x;
        return s;
    };
    Recorder a, b, c;
    auto plain = train(data, p, a);
    p.bias_regularization = 100.0;  // biases pinned near zero, factors free
    auto no_bias = train(data, p, b);
    EXPECT_LT(sum_squares(no_bias.item_bias), 0.01 * sum_squares(plain.item_bias));
    EXPECT_GT(sum_squares(no_bias.item_factors), 0.5 * sum_squares(plain.item_factors));
    p.bias_regularization.reset();
    p.unweighted_regularization = 1000.0;  // everything pinned near zero
    auto shrunk = train(data, p, c);
    EXPECT_LT(sum_squares(shrunk.item_factors), 0.01 * sum_squares(plain.item_factors));
    EXPECT_LT(sum_squares(shrunk.item_bias), 0.01 * sum_squares(plain.item_bias));
}

TEST(Als, BadParametersAreRefused)
{
    AlsParams p;
    p.factors = 0;
    EXPECT_THROW(check_als_params(p), std::invalid_argument);
    p = AlsParams();
    p.iterations = 0;
    EXPECT_THROW(check_als_params(p), std::invalid_argument);
    p = AlsParams();
    p.regularization = -1;
    EXPECT_THROW(check_als_params(p), std::invalid_argument);
    p.regularization = std::nan("");
    EXPECT_THROW(check_als_params(p), std::invalid_argument);
    p = AlsParams();
    p.bias_regularization = -1;
    EXPECT_THROW(check_als_params(p), std::invalid_argument);
    p = AlsParams();
    p.unweighted_regularization = INFINITY;
    EXPECT_THROW(check_als_params(p), std::invalid_argument);
}

TEST(Als, HostCanStopTrainingBetweenChunks)
{
    struct StopAfter : TrainHooks
    {
        int left = 3;
        void poll() override
        {
            if (--left < 0)
                throw std::runtime_error("cancelled");
        }
    } hooks;
    const auto s = low_rank(4);
    NoHostHooks none;
    TripletsView view{s.users.data(), s.items.data(), s.values.data(), s.users.size()};
    auto data = build_interactions(view, DuplicatePolicy::Average, 2, none);
    AlsParams p;
    p.iterations = 1000;
    EXPECT_THROW(train_explicit_als(data, p, hooks), std::runtime_error);
}

TEST(Als, MemoryEstimateSaturatesInsteadOfOverflowing)
{
    EXPECT_EQ(estimate_training_bytes(size_t(1) << 40, size_t(1) << 40, 1 << 30, 64), SIZE_MAX);
    EXPECT_EQ(interactions_bytes(SIZE_MAX / 2, 1, 1), SIZE_MAX);
    const size_t small = estimate_training_bytes(610, 9724, 64, 2);
    EXPECT_GT(small, size_t(10334) * 64 * 4);
    EXPECT_LT(small, size_t(64) << 20);
}

// The conjugate-gradient solver (the default) reaches the exact solver's training error: a few
// warm-started steps per row per half-step track the exact solution.
TEST(Als, ConjugateGradientReachesTheExactSolversError)
{
    const auto data = low_rank(6);
    AlsParams p;
    p.factors = 6;
    p.iterations = 20;
    p.regularization = 0.02;
    p.unweighted_regularization = 0.5;
    Recorder cg, exact;
    train(data, p, cg);
    p.solver = Solver::Cholesky;
    train(data, p, exact);
    ASSERT_EQ(cg.rmse.size(), 20u);
    EXPECT_LT(cg.rmse.back(), cg.rmse.front());
    EXPECT_NEAR(cg.rmse.back(), exact.rmse.back(), 0.01 * exact.rmse.back() + 1e-3);
}

// The peak counted while indexing stays near the index's own size once the caller's rows are handed
// back as they are read; a budget below it is refused before the allocation.
TEST(Interactions, MemoryIsCountedAndRowsAreHandedBack)
{
    const Synthetic s = low_rank(7);
    const size_t rows = s.users.size();
    std::vector<const void *> released;
    TripletsView view{s.users.data(), s.items.data(), s.values.data(), rows, [&](const void *array) {
                          released.push_back(array);
                      }};
    MemoryBudget budget(size_t(64) << 20);
    budget.take(rows * kBytesPerTriplet, "reading");
    NoHostHooks none;
    const Interactions data = build_interactions(view, DuplicatePolicy::Average, 2, none, budget);
    EXPECT_EQ(released.size(), 3u);
    // What stays counted is the index itself.
    EXPECT_EQ(budget.used(), interactions_bytes(data.nnz(), data.user_ids.size(), data.item_ids.size()));
    EXPECT_GE(budget.peak(), rows * kBytesPerTriplet);
    EXPECT_LT(budget.peak(), rows * 40 + (size_t(64) << 10));
    MemoryBudget tiny(rows * kBytesPerTriplet + 100);
    tiny.take(rows * kBytesPerTriplet, "reading");
    TripletsView kept{s.users.data(), s.items.data(), s.values.data(), rows, nullptr};
    EXPECT_THROW(build_interactions(kept, DuplicatePolicy::Average, 1, none, tiny), MemoryLimitExceeded);
}

// Recency weights: weights of 1 change nothing, and down-weighted entries pull the model less. Half
// of the entries are replaced by noise with weight 0.01: the weighted model fits the clean half far
// better than the unweighted one does, with either solver.
TEST(Als, WeightsOfOneChangeNothingAndSmallWeightsPullLess)
{
    Synthetic s = low_rank(8);
    const size_t rows = s.users.size();
    std::vector<float> ones(rows, 1.0f), weights(rows, 1.0f), clean = s.values;
    RowRandom rng(8, 1, 0);
    for (size_t r = 0; r < rows; r += 2)
    {
        s.values[r] = float(3.0 + 3.0 * rng.normal());
        weights[r] = 0.01f;
    }
    for (Solver solver : {Solver::ConjugateGradient, Solver::Cholesky})
    {
        AlsParams p;
        p.factors = 4;
        p.iterations = 15;
        p.regularization = 0.02;
        p.unweighted_regularization = 0.5;
        p.solver = solver;
        NoHostHooks none;
        Recorder hooks;
        const auto fit = [&](const float *w) {
            TripletsView view{s.users.data(), s.items.data(), s.values.data(), rows, nullptr, w};
            Interactions data = build_interactions(view, DuplicatePolicy::Average, 1, none);
            EXPECT_EQ(data.by_user.weighted(), w != nullptr);
            EXPECT_EQ(data.by_item.weighted(), w != nullptr);
            FactorModel model = train_explicit_als(data, p, hooks);
            double error = 0;  // RMSE on the clean half
            size_t count = 0;
            for (size_t r = 1; r < rows; r += 2, ++count)
            {
                const double e =
                    model.view().predict(find_id(data.user_ids, s.users[r]), find_id(data.item_ids, s.items[r])) -
                    clean[r];
                error += e * e;
            }
            return std::make_pair(std::sqrt(error / double(count)), model.user_factors[0]);
        };
        const auto unweighted = fit(nullptr);
        const auto weighted_ones = fit(ones.data());
        EXPECT_EQ(unweighted.second, weighted_ones.second);  // bit-identical
        EXPECT_EQ(unweighted.first, weighted_ones.first);
        const auto weighted = fit(weights.data());
        EXPECT_LT(weighted.first, 0.6 * unweighted.first);
    }
}

namespace {

LargeVector<float>
slice(const LargeVector<float> &v, size_t begin, size_t end, size_t width)
{
    return LargeVector<float>(v.begin() + std::ptrdiff_t(begin * width), v.begin() + std::ptrdiff_t(end * width));
}

}  // namespace

// The invariant distributed training rests on (issue 15): an explicit half-step solved in pieces, each
// with the whole other side and the global mean, equals the whole half-step bit for bit (factors,
// biases, covariances, squared errors), for CG, Cholesky and variational Bayes, on any thread count.
TEST(Als, AHalfStepSolvedInPiecesEqualsTheWholeBitForBit)
{
    const Synthetic s = low_rank(11);
    for (int variant = 0; variant < 3; ++variant)
    {
        AlsParams p;
        p.factors = 4;
        p.iterations = 2;
        p.threads = 2;
        p.solver = variant == 0 ? Solver::ConjugateGradient : Solver::Cholesky;
        p.noise_variance = variant == 2 ? 0.5 : 0;
        Recorder recorder;
        Interactions data;
        const FactorModel trained = train(s, p, recorder, &data);
        const size_t users = data.user_ids.size(), items = data.item_ids.size(), k = size_t(p.factors);
        const size_t cov = variant == 2 ? (k + 1) * (k + 1) : 0;
        LargeVector<float> item_cov(items * cov, 0.0f);
        for (size_t i = 0; i < item_cov.size(); i += cov + 1)
            item_cov[i] = 0.01f;  // some uncertainty on each item's bias and factors
        NoHostHooks hooks;
        const ExplicitHalfStep::Side items_side{&trained.item_factors, &trained.item_bias, &item_cov};
        LargeVector<float> whole = trained.user_factors, whole_bias = trained.user_bias, whole_cov(users * cov);
        std::vector<double> whole_error(users);
        ExplicitHalfStep(p, trained.global_mean)
            .solve(data.by_user, items_side, {&whole, &whole_bias, &whole_cov}, whole_error.data(), hooks);
        AlsParams one_thread = p;
        one_thread.threads = 1;
        const ExplicitHalfStep step(one_thread, trained.global_mean);
        const size_t cuts[] = {0, 5, 33, users};
        for (int piece = 0; piece < 3; ++piece)
        {
            const size_t begin = cuts[piece], end = cuts[piece + 1];
            LargeVector<float> own = slice(trained.user_factors, begin, end, k),
                               bias = slice(trained.user_bias, begin, end, 1), own_cov((end - begin) * cov);
            std::vector<double> error(end - begin);
            step.solve(row_subset(data.by_user, begin, end), items_side, {&own, &bias, &own_cov}, error.data(), hooks);
            for (size_t i = 0; i < own.size(); ++i)
                ASSERT_EQ(own[i], whole[begin * k + i]) << "variant " << variant << ", piece " << piece;
            for (size_t r = 0; r < bias.size(); ++r)
            {
                ASSERT_EQ(bias[r], whole_bias[begin + r]);
                ASSERT_EQ(error[r], whole_error[begin + r]);
            }
            for (size_t i = 0; i < own_cov.size(); ++i)
                ASSERT_EQ(own_cov[i], whole_cov[begin * cov + i]);
        }
        EXPECT_NE(whole_bias[0], trained.user_bias[0]);  // the half-step did change something
    }
}
