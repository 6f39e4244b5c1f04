#include <gtest/gtest.h>

#include "core/parallel.hpp"
#include "core/topn.hpp"

using namespace rec::core;

TEST(TopN, ReturnsBestFirstWithBiasAndOffset)
{
    // Four items, k = 2; user (1, 0): scores = offset + bias + first factor.
    const float factors[] = {1, 0, 3, 0, 2, 0, 0, 9};
    const float bias[] = {0, 0, 0.5f, 0};
    const float user[] = {1, 0};
    ItemFactorsView items{factors, bias, 4, 2};
    auto best = top_n(items, user, 10.0f, nullptr, 0, 2);
    ASSERT_EQ(best.size(), 2u);
    EXPECT_EQ(best[0].item, 1);
    EXPECT_FLOAT_EQ(best[0].score, 13.0f);
    EXPECT_EQ(best[1].item, 2);
    EXPECT_FLOAT_EQ(best[1].score, 12.5f);
}

TEST(TopN, ExclusionsNeverShortenTheList)
{
    std::vector<float> factors(100);
    for (int i = 0; i < 100; ++i)
        factors[i] = float(i);
    ItemFactorsView items{factors.data(), nullptr, 100, 1};
    const float user[] = {1};
    std::vector<int32_t> excluded;
    for (int i = 50; i < 100; ++i)
        excluded.push_back(i);  // the 50 best items
    excluded.push_back(50);     // duplicates are harmless
    auto best = top_n(items, user, 0, excluded.data(), excluded.size(), 10);
    ASSERT_EQ(best.size(), 10u);
    EXPECT_EQ(best.front().item, 49);
    EXPECT_EQ(best.back().item, 40);
    // Fewer eligible items than asked for: all of them, no more.
    EXPECT_EQ(top_n(items, user, 0, excluded.data(), excluded.size(), 1000).size(), 50u);
}

TEST(TopN, TiesAreBrokenByItemIndex)
{
    const float factors[] = {1, 1, 1};
    const float user[] = {2};
    ItemFactorsView items{factors, nullptr, 3, 1};
    auto best = top_n(items, user, 0, nullptr, 0, 3);
    EXPECT_EQ(best[0].item, 0);
    EXPECT_EQ(best[2].item, 2);
}

TEST(Parallel, ChunksCoverEveryRowOnce)
{
    std::vector<double> costs{5, 1, 1, 1, 10, 1};
    auto bounds = chunk_boundaries(costs, 3);
    EXPECT_EQ(bounds.front(), 0u);
    EXPECT_EQ(bounds.back(), costs.size());
    for (size_t c = 1; c < bounds.size(); ++c)
        EXPECT_LT(bounds[c - 1], bounds[c]);
    std::vector<int> seen(costs.size(), 0);
    NoHostHooks hooks;
    parallel_rows(bounds, 2, hooks, [&](size_t row, int) { seen[row] += 1; });
    EXPECT_EQ(seen, std::vector<int>(costs.size(), 1));
}

TEST(Parallel, AnExceptionInAWorkerReachesTheCaller)
{
    NoHostHooks hooks;
    auto bounds = even_boundaries(100, 10);
    EXPECT_THROW(parallel_rows(bounds, 2, hooks,
                               [](size_t row, int) {
                                   if (row == 57)
                                       throw std::runtime_error("row 57");
                               }),
                 std::runtime_error);
}
