#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/item_item.hpp"
#include "core/random.hpp"

using namespace rec::core;

namespace {

// A random users x items matrix of small counts, about `density` of it filled; every item and user
// has at least one entry (so the ids are 0..n-1).
struct Counts
{
    size_t users, items;
    Eigen::MatrixXd dense;
    Interactions data;
};

Counts
random_counts(size_t users, size_t items, double density, uint64_t seed)
{
    Counts c{users, items, Eigen::MatrixXd::Zero(Eigen::Index(users), Eigen::Index(items)), {}};
    std::vector<int64_t> u, i;
    std::vector<float> v;
    RowRandom random(seed, 1, 0);
    for (size_t a = 0; a < users; ++a)
        for (size_t b = 0; b < items; ++b)
            if (random.uniform() < density || a == b % users || b == a % items)
            {
                const float value = float(1 + int(random.uniform() * 4));
                u.push_back(int64_t(a));
                i.push_back(int64_t(b));
                v.push_back(value);
                c.dense(Eigen::Index(a), Eigen::Index(b)) = value;
            }
    NoHostHooks none;
    c.data = build_interactions({u.data(), i.data(), v.data(), u.size()}, DuplicatePolicy::Sum, 1, none);
    EXPECT_EQ(c.data.item_ids.size(), items);
    EXPECT_EQ(c.data.user_ids.size(), users);
    return c;
}

// Steck's closed form in double precision, written as the paper writes it.
Eigen::MatrixXd
ease_reference(const Eigen::MatrixXd &x, double lambda)
{
    Eigen::MatrixXd g = x.transpose() * x;
    g.diagonal().array() += lambda;
    const Eigen::MatrixXd p = g.inverse();
    Eigen::MatrixXd b = -p * p.diagonal().cwiseInverse().asDiagonal();
    b.diagonal().setZero();
    return b;
}

struct CountingHooks : HostHooks
{
    int polls = 0;
    void poll() override { ++polls; }
};

}  // namespace

// More items than one Cholesky panel (256) and one row block (128), so every blocked path runs, on one
// and on two threads: the weights equal the double-precision closed form.
TEST(Ease, EqualsTheClosedForm)
{
    const Counts c = random_counts(120, 300, 0.05, 7);
    const Eigen::MatrixXd reference = ease_reference(c.dense, 20.0);
    for (int threads : {1, 2})
    {
        CountingHooks hooks;
        const ItemWeights w = train_ease(c.data, {20.0, 0, threads}, hooks);
        ASSERT_TRUE(w.dense);
        ASSERT_EQ(w.items, 300u);
        double largest = 0;
        for (size_t i = 0; i < 300; ++i)
            for (size_t j = 0; j < 300; ++j)
                largest =
                    std::max(largest, std::fabs(w.weights[i * 300 + j] - reference(Eigen::Index(i), Eigen::Index(j))));
        EXPECT_LT(largest, 1e-5) << threads << " threads";
        EXPECT_GT(hooks.polls, 3);
        EXPECT_EQ(w.view().weight(5, 5), 0.0f);
    }
}

// A case small enough to check by hand: two items always seen together by one user, λ = 1.
// XᵀX = [[1, 1], [1, 1]]; P = (XᵀX + I)⁻¹ = [[2, -1], [-1, 2]] / 3; W_01 = -P_01 / P_11 = 1/2.
TEST(Ease, HandCheckedTwoItems)
{
    const int64_t users[] = {0, 0};
    const int64_t items[] = {0, 1};
    const float values[] = {1, 1};
    NoHostHooks none;
    const Interactions data = build_interactions({users, items, values, 2}, DuplicatePolicy::Sum, 1, none);
    const ItemWeights w = train_ease(data, {1.0, 0, 1}, none);
    EXPECT_FLOAT_EQ(w.weights[0], 0.0f);
    EXPECT_FLOAT_EQ(w.weights[1], 0.5f);
    EXPECT_FLOAT_EQ(w.weights[2], 0.5f);
    EXPECT_FLOAT_EQ(w.weights[3], 0.0f);
}

// What rec.max_memory is checked against: two n x n fp32 matrices and the threads' column blocks.
TEST(Ease, TrainingBytesAreTwoSquareMatrices)
{
    EXPECT_EQ(ease_training_bytes(1000, 0, 2), 2 * 4 * 1000000u + 2 * 1000 * 128 * 4u);
    EXPECT_GT(ease_training_bytes(1000, 10, 2), ease_training_bytes(1000, 0, 2));  // and the kept rows
    EXPECT_EQ(ease_training_bytes(size_t(1) << 40, 0, 1), SIZE_MAX);               // saturates
    EXPECT_EQ(item_weights_bytes(1000, 0), 4 * 1000000u);
}

TEST(Ease, RefusesANonPositiveRegularization)
{
    const Counts c = random_counts(10, 12, 0.3, 3);
    NoHostHooks none;
    EXPECT_THROW(train_ease(c.data, {0.0, 0, 1}, none), std::invalid_argument);
    EXPECT_THROW(train_ease(c.data, {-1.0, 0, 1}, none), std::invalid_argument);
    EXPECT_THROW(train_ease(c.data, {std::nan(""), 0, 1}, none), std::invalid_argument);
}

// Sparsified: each row keeps its `neighbours` weights of largest magnitude, with the dense values.
TEST(Ease, SparsifiedKeepsTheLargestWeightsOfEachRow)
{
    const Counts c = random_counts(60, 80, 0.1, 11);
    NoHostHooks none;
    const ItemWeights dense = train_ease(c.data, {5.0, 0, 2}, none);
    const ItemWeights sparse = train_ease(c.data, {5.0, 7, 2}, none);
    ASSERT_FALSE(sparse.dense);
    for (size_t i = 0; i < 80; ++i)
    {
        ASSERT_EQ(sparse.offsets[i + 1] - sparse.offsets[i], 7);
        std::vector<float> magnitudes;
        for (size_t j = 0; j < 80; ++j)
            if (j != i)
                magnitudes.push_back(std::fabs(dense.weights[i * 80 + j]));
        std::sort(magnitudes.rbegin(), magnitudes.rend());
        float smallest_kept = INFINITY;
        for (int64_t e = sparse.offsets[i]; e < sparse.offsets[i + 1]; ++e)
        {
            const int32_t j = sparse.neighbours[size_t(e)];
            EXPECT_EQ(sparse.weights[size_t(e)], dense.weights[i * 80 + size_t(j)]);
            if (e > sparse.offsets[i])
            {
                EXPECT_LT(sparse.neighbours[size_t(e) - 1], j);  // ascending
            }
            smallest_kept = std::min(smallest_kept, std::fabs(sparse.weights[size_t(e)]));
        }
        EXPECT_EQ(smallest_kept, magnitudes[6]);
    }
}

// Item-kNN against a plain computation over the dense matrix: each weighting as implicit defines it,
// each row's K best (the item itself among them), values equal within float rounding.
TEST(ItemKnn, SimilaritiesEqualAPlainComputation)
{
    const Counts c = random_counts(70, 90, 0.08, 5);
    const Eigen::Index n = 90, m = 70;
    for (ItemSimilarity similarity : {ItemSimilarity::Cosine, ItemSimilarity::Bm25, ItemSimilarity::TfIdf})
    {
        // Items as rows ("documents"), users as columns ("terms").
        Eigen::MatrixXd w = c.dense.transpose();
        Eigen::VectorXd idf(m);
        for (Eigen::Index u = 0; u < m; ++u)
            idf(u) = std::log(double(n)) - std::log1p(double((c.dense.row(u).array() != 0).count()));
        if (similarity == ItemSimilarity::Bm25)
        {
            const Eigen::VectorXd sums = w.rowwise().sum();
            const double average = sums.mean();
            for (Eigen::Index i = 0; i < n; ++i)
                for (Eigen::Index u = 0; u < m; ++u)
                    if (w(i, u) != 0)
                    {
                        const double norm = 0.25 + 0.75 * sums(i) / average;
                        w(i, u) = w(i, u) * 2.2 / (1.2 * norm + w(i, u)) * idf(u);
                    }
        }
        if (similarity == ItemSimilarity::TfIdf)
            for (Eigen::Index i = 0; i < n; ++i)
                for (Eigen::Index u = 0; u < m; ++u)
                    w(i, u) = std::sqrt(w(i, u)) * idf(u);
        if (similarity != ItemSimilarity::Bm25)
            w = w.rowwise().normalized();
        const Eigen::MatrixXd similar = w * w.transpose();
        NoHostHooks none;
        ItemKnnParams p;
        p.neighbours = 10;
        p.similarity = similarity;
        p.threads = 2;
        const ItemWeights knn = train_itemknn(c.data, p, none);
        ASSERT_FALSE(knn.dense);
        for (Eigen::Index i = 0; i < n; ++i)
        {
            std::vector<double> values;
            for (Eigen::Index j = 0; j < n; ++j)
                values.push_back(similar(i, j));
            std::sort(values.rbegin(), values.rend());
            const int64_t begin = knn.offsets[size_t(i)], end = knn.offsets[size_t(i) + 1];
            ASSERT_EQ(end - begin, std::min<int64_t>(10, int64_t((similar.row(i).array() != 0).count())));
            bool has_itself = false;
            for (int64_t e = begin; e < end; ++e)
            {
                const int32_t j = knn.neighbours[size_t(e)];
                has_itself = has_itself || j == i;
                EXPECT_NEAR(knn.weights[size_t(e)], similar(i, j), 1e-5 * std::max(1.0, std::fabs(similar(i, j))));
                EXPECT_GE(knn.weights[size_t(e)], values[size_t(end - begin - 1)] - 1e-5);  // among the K best
            }
            if (similarity != ItemSimilarity::Bm25)
            {
                EXPECT_TRUE(has_itself) << "cosine of an item with itself is the largest";
            }
        }
    }
}

// Scores are x_u · W; explain's terms are the per-item parts and sum to the score.
TEST(ItemWeightsView, ScoresAndTermsOfDenseAndSparseWeights)
{
    const Counts c = random_counts(40, 50, 0.1, 9);
    NoHostHooks none;
    ItemKnnParams p;
    p.neighbours = 8;
    for (const ItemWeights &w : {train_ease(c.data, {3.0, 0, 1}, none), train_itemknn(c.data, p, none)})
    {
        const ItemWeightsView view = w.view();
        Eigen::MatrixXd full = Eigen::MatrixXd::Zero(50, 50);
        for (int32_t i = 0; i < 50; ++i)
            for (int32_t j = 0; j < 50; ++j)
                full(i, j) = view.weight(i, j);
        const int32_t items[] = {1, 4, 30};
        const float values[] = {2, 1, 3};
        const std::vector<float> scores = view.score_all(items, values, 3);
        for (int32_t j = 0; j < 50; ++j)
        {
            const double expected = 2 * full(1, j) + full(4, j) + 3 * full(30, j);
            EXPECT_NEAR(scores[size_t(j)], expected, 1e-5);
            EXPECT_NEAR(view.score(items, values, 3, j), expected, 1e-5);
            const std::vector<float> terms = view.explain(items, values, 3, j);
            EXPECT_NEAR(terms[0], 2 * full(1, j), 1e-6);
            EXPECT_NEAR(terms[2], 3 * full(30, j), 1e-6);
        }
    }
}

TEST(TopNOfScores, FiltersBeforeChoosingAndBreaksTiesByIndex)
{
    const float scores[] = {1, 5, 5, 3, 9, 0};
    const int32_t excluded[] = {4, 4};
    auto best = top_n_of_scores(scores, 6, {excluded, 2}, nullptr, 3);
    ASSERT_EQ(best.size(), 3u);
    EXPECT_EQ(best[0].item, 1);
    EXPECT_EQ(best[1].item, 2);
    EXPECT_EQ(best[2].item, 3);
    const int32_t candidates[] = {0, 4, 5, 0, 17, -1};
    const IndexList among{candidates, 6};
    best = top_n_of_scores(scores, 6, {excluded, 2}, &among, 10);
    ASSERT_EQ(best.size(), 2u);  // 4 excluded, 17 and -1 out of range, 0 listed twice
    EXPECT_EQ(best[0].item, 0);
    EXPECT_EQ(best[1].item, 5);
    EXPECT_TRUE(top_n_of_scores(scores, 6, {nullptr, 0}, nullptr, 0).empty());
}
