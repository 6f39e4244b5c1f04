#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <limits>

#include <cmath>
#include <stdexcept>

#include "core/bpr.hpp"
#include "core/evaluate.hpp"
#include "core/ials.hpp"
#include "core/random.hpp"
#include "row_subset.hpp"

using namespace rec::core;

namespace {

// Two communities of users, each liking mostly its own half of the items; values are play counts.
Interactions
communities(uint64_t seed, int users = 80, int items = 40)
{
    std::vector<int64_t> u, i;
    std::vector<float> v;
    RowRandom rng(seed, 9, 0);
    for (int a = 0; a < users; ++a)
        for (int b = 0; b < items; ++b)
        {
            const bool own = (a % 2) == (b * 2 / items);
            if (rng.uniform() < (own ? 0.5 : 0.03))
            {
                u.push_back(a);
                i.push_back(100 + b);
                v.push_back(float(1 + int(rng.uniform() * 4)));
            }
        }
    NoHostHooks none;
    return build_interactions({u.data(), i.data(), v.data(), u.size()}, DuplicatePolicy::Sum, 2, none);
}

struct Losses : TrainHooks
{
    std::vector<double> values;
    void poll() override {}
    void iteration_done(const IterationStats &s) override { values.push_back(s.value); }
};

}  // namespace

TEST(ImplicitAls, ConjugateGradientReachesTheExactSolversLoss)
{
    const auto data = communities(1);
    ImplicitParams p;
    p.factors = 8;
    p.iterations = 15;
    p.alpha = 2.0;
    Losses cg, exact;
    auto a = train_implicit_als(data, p, cg);
    p.solver = Solver::Cholesky;
    auto b = train_implicit_als(data, p, exact);
    ASSERT_EQ(cg.values.size(), 15u);
    EXPECT_LT(cg.values.back(), cg.values.front());
    EXPECT_NEAR(cg.values.back() / exact.values.back(), 1.0, 0.01);
    // The loss reported during training (summed in the item half-step) is the loss of the returned
    // factors, as an independent full computation gives it.
    NoHostHooks none;
    EXPECT_NEAR(implicit_loss(data, b, p, none) / exact.values.back(), 1.0, 1e-5);
    p.solver = Solver::ConjugateGradient;
    EXPECT_NEAR(implicit_loss(data, a, p, none) / cg.values.back(), 1.0, 1e-5);
    EXPECT_DOUBLE_EQ(a.train_value, cg.values.back());
}

TEST(ImplicitAls, SameSeedGivesBitIdenticalFactorsForAnyThreadCount)
{
    const auto data = communities(2);
    ImplicitParams p;
    p.factors = 6;
    p.iterations = 4;
    p.threads = 1;
    Losses h1, h2;
    auto one = train_implicit_als(data, p, h1);
    p.threads = 2;
    auto two = train_implicit_als(data, p, h2);
    EXPECT_EQ(one.user_factors, two.user_factors);
    EXPECT_EQ(one.item_factors, two.item_factors);
    EXPECT_EQ(h1.values, h2.values);
}

TEST(ImplicitAls, LearnsTheCommunities)
{
    const auto data = communities(3);
    ImplicitParams p;
    p.factors = 4;
    p.iterations = 10;
    Losses h;
    auto m = train_implicit_als(data, p, h);
    // User 0 (community 0) prefers an unseen item of its own half to one of the other half.
    const int k = p.factors;
    auto score = [&](size_t u, size_t i) {
        double s = 0;
        for (int f = 0; f < k; ++f)
            s += double(m.user_factors[u * k + f]) * m.item_factors[i * k + f];
        return s;
    };
    double own = 0, other = 0;
    for (size_t i = 0; i < 20; ++i)
        own += score(0, i);
    for (size_t i = 20; i < 40; ++i)
        other += score(0, i);
    EXPECT_GT(own, other);
}

TEST(ImplicitAls, BadParametersAreRefused)
{
    ImplicitParams p;
    p.alpha = -1;
    EXPECT_THROW(check_implicit_params(p), std::invalid_argument);
    p = ImplicitParams();
    p.cg_steps = 0;
    EXPECT_THROW(check_implicit_params(p), std::invalid_argument);
    p = ImplicitParams();
    p.regularization = NAN;
    EXPECT_THROW(check_implicit_params(p), std::invalid_argument);
}

TEST(Bpr, RanksLikedItemsAboveOthersAndIsDeterministicOnOneThread)
{
    const auto data = communities(4);
    BprParams p;
    p.factors = 8;
    p.iterations = 60;
    p.learning_rate = 0.05;
    p.threads = 1;
    Losses a, b;
    auto one = train_bpr(data, p, a);
    auto again = train_bpr(data, p, b);
    EXPECT_EQ(one.item_factors, again.item_factors);
    EXPECT_EQ(one.item_bias, again.item_bias);
    EXPECT_GT(a.values.back(), 0.8);
    EXPECT_GT(a.values.back(), a.values.front());
    p.learning_rate = 0;
    EXPECT_THROW(check_bpr_params(p), std::invalid_argument);
}

TEST(RankingMetrics, MatchAHandComputedCase)
{
    // One factor; item scores 5, 4, 3, 2, 1 for items 0..4. User 0 saw item 0, so its top 2 is (1, 2).
    // Test positives {2, 4}: rank 2 is a hit. precision 1/2, recall 1/2, map (1/2)/2,
    // ndcg (1/log2 3) / (1 + 1/log2 3); AUC: hits 1, misses 1 in the list, 3 negatives:
    // auc = (0 + (1 + 2)/2 * (3 - 1)) / (2 * 3) = 0.5.
    const float items[] = {5, 4, 3, 2, 1};
    const float user[] = {1};
    const float no_bias[] = {0, 0, 0, 0, 0};
    FactorModelView model;
    model.kind = ModelKind::ImplicitAls;
    model.k = 1;
    model.item_factors = items;
    model.item_bias = no_bias;
    model.items = 5;
    model.user_factors = user;
    model.users = 1;
    const int64_t offsets[] = {0, 1};
    const int32_t seen[] = {0};
    TestPositives test;
    test.offsets = {0, 2};
    test.items = {4, 2};
    NoHostHooks none;
    const auto m = ranking_metrics(model, {offsets, seen}, test, 2, 1, none);
    EXPECT_EQ(m.users, 1u);
    EXPECT_DOUBLE_EQ(m.precision, 0.5);
    EXPECT_DOUBLE_EQ(m.recall, 0.5);
    EXPECT_DOUBLE_EQ(m.map, 0.25);
    EXPECT_NEAR(m.ndcg, (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0)), 1e-12);
    EXPECT_DOUBLE_EQ(m.auc, 0.5);
    EXPECT_DOUBLE_EQ(m.coverage, 2.0 / 5.0);
    EXPECT_THROW(ranking_metrics(model, {offsets, seen}, test, 0, 1, none), std::invalid_argument);

    // A k far beyond the catalogue costs no more than the catalogue (it once allocated k gains): the
    // same metrics as a list of every item (precision divides by min(k, positives), as implicit's).
    const auto all = ranking_metrics(model, {offsets, seen}, test, 5, 1, none);
    const auto huge = ranking_metrics(model, {offsets, seen}, test, std::numeric_limits<int>::max(), 1, none);
    EXPECT_DOUBLE_EQ(all.recall, 1.0);
    EXPECT_DOUBLE_EQ(huge.recall, all.recall);
    EXPECT_DOUBLE_EQ(huge.map, all.map);
    EXPECT_DOUBLE_EQ(huge.ndcg, all.ndcg);
    EXPECT_DOUBLE_EQ(huge.precision, all.precision);
}

// confidence 'implicit' trains the model of the `implicit` library: the same per-row normal equations
// as its least_squares (implicit/cpu/_als.pyx: A = YᵀY + λI + Σ (c - 1) y yᵀ, b = Σ c y, with
// c = alpha * value), users first, from the same starting factors. The reference below is that
// algorithm written out in double precision; the factors agree to float rounding.
TEST(ImplicitAls, ConfidenceOfTheImplicitLibraryMatchesItsAlgorithm)
{
    const auto data = communities(3, 30, 20);
    ImplicitParams p;
    p.factors = 5;
    p.iterations = 4;
    p.regularization = 0.05;
    p.alpha = 3.0;
    p.confidence = Confidence::Alpha;
    p.solver = Solver::Cholesky;
    Losses hooks;
    const FactorModel ours = train_implicit_als(data, p, hooks);

    const int k = p.factors;
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    // Our starting factors (uniform in [0, 0.01), users stream 1, items stream 2), as implicit draws
    // random((n, factors)) * 0.01 with its own generator.
    auto start = [&](size_t rows, uint64_t stream) {
        Eigen::MatrixXd m(Eigen::Index(rows), k);
        for (size_t r = 0; r < rows; ++r)
        {
            RowRandom rng(p.seed, stream, r);
            for (int f = 0; f < k; ++f)
                m(Eigen::Index(r), f) = double(float(rng.uniform() * 0.01));
        }
        return m;
    };
    Eigen::MatrixXd X = start(users, 1), Y = start(items, 2);
    // implicit's least_squares for one side: Cui holds the confidences alpha * value.
    auto least_squares = [&](const SparseRows &Cui, Eigen::MatrixXd &own, const Eigen::MatrixXd &other) {
        const Eigen::MatrixXd YtY = other.transpose() * other;
        for (size_t u = 0; u < Cui.rows(); ++u)
        {
            Eigen::MatrixXd A = YtY + p.regularization * Eigen::MatrixXd::Identity(k, k);
            Eigen::VectorXd b = Eigen::VectorXd::Zero(k);
            for (size_t e = Cui.offsets[u]; e < Cui.offsets[u + 1]; ++e)
            {
                double confidence = p.alpha * Cui.values[e];
                const Eigen::VectorXd y = other.row(Cui.columns[e]).transpose();
                if (confidence > 0)
                    b += confidence * y;
                else
                    confidence = -confidence;
                A += (confidence - 1) * y * y.transpose();
            }
            own.row(Eigen::Index(u)) = A.ldlt().solve(b).transpose();
        }
    };
    for (int it = 0; it < p.iterations; ++it)
    {
        least_squares(data.by_user, X, Y);
        least_squares(data.by_item, Y, X);
    }
    double worst = 0;
    for (size_t i = 0; i < items; ++i)
        for (int f = 0; f < k; ++f)
            worst = std::max(worst,
                             std::fabs(double(ours.item_factors[i * size_t(k) + size_t(f)]) - Y(Eigen::Index(i), f)) /
                                 (1e-3 + Y.row(Eigen::Index(i)).norm()));
    EXPECT_LT(worst, 1e-3);
    // The default confidence (1 + alpha * value) is another model: its factors differ.
    p.confidence = Confidence::OnePlusAlpha;
    const FactorModel hu = train_implicit_als(data, p, hooks);
    EXPECT_NE(hu.item_factors, ours.item_factors);
}

// The invariant distributed training rests on (issue 15): a half-step solved in pieces, each piece
// with the whole other side, gives the whole half-step's factors bit for bit, for both solvers and any
// thread count.
TEST(ImplicitAls, AHalfStepSolvedInPiecesEqualsTheWholeBitForBit)
{
    const auto data = communities(5, 90, 50);
    for (Solver solver : {Solver::ConjugateGradient, Solver::Cholesky})
    {
        ImplicitParams p;
        p.factors = 6;
        p.iterations = 2;
        p.alpha = 2.0;
        p.solver = solver;
        p.threads = 2;
        Losses none;
        const FactorModel trained = train_implicit_als(data, p, none);
        const size_t users = data.user_ids.size(), items = data.item_ids.size(), k = size_t(p.factors);
        NoHostHooks hooks;
        // The next user half-step, whole.
        LargeVector<float> whole = trained.user_factors;
        std::vector<double> whole_losses(users);
        ImplicitHalfStep(trained.item_factors, items, p, hooks).solve(data.by_user, whole, &whole_losses, hooks);
        // The same in three pieces of uneven size, each on one thread.
        ImplicitParams one_thread = p;
        one_thread.threads = 1;
        const ImplicitHalfStep step(trained.item_factors, items, one_thread, hooks);
        const size_t cuts[] = {0, 7, 61, users};
        for (int piece = 0; piece < 3; ++piece)
        {
            const size_t begin = cuts[piece], end = cuts[piece + 1];
            LargeVector<float> own(trained.user_factors.begin() + std::ptrdiff_t(begin * k),
                                   trained.user_factors.begin() + std::ptrdiff_t(end * k));
            std::vector<double> losses(end - begin);
            step.solve(row_subset(data.by_user, begin, end), own, &losses, hooks);
            for (size_t i = 0; i < own.size(); ++i)
                ASSERT_EQ(own[i], whole[begin * k + i]) << "piece " << piece << ", entry " << i;
            for (size_t r = 0; r < losses.size(); ++r)
                ASSERT_EQ(losses[r], whole_losses[begin + r]);
        }
        EXPECT_NE(whole[0], trained.user_factors[0]);  // the half-step did change the factors
    }
}
