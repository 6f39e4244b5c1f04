#include <gtest/gtest.h>

#include <stdexcept>

#include "core/interactions.hpp"

using namespace rec::core;

namespace {
Interactions
build(std::vector<int64_t> users, std::vector<int64_t> items, std::vector<float> values,
      DuplicatePolicy policy = DuplicatePolicy::Average, int threads = 2)
{
    NoHostHooks hooks;
    TripletsView view{users.data(), items.data(), values.data(), users.size()};
    return build_interactions(view, policy, threads, hooks);
}
}  // namespace

TEST(Interactions, MapsIdsToAscendingDenseIndexes)
{
    auto d = build({900, -5, 900, 7}, {3, 3, 1, 2}, {1, 2, 3, 4});
    EXPECT_EQ(d.user_ids, (std::vector<int64_t>{-5, 7, 900}));
    EXPECT_EQ(d.item_ids, (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(d.nnz(), 4u);
    // User 900 (index 2) rated item 1 (index 0) with 3 and item 3 (index 2) with 1, sorted by item.
    ASSERT_EQ(d.by_user.row_size(2), 2u);
    EXPECT_EQ(d.by_user.columns[d.by_user.offsets[2]], 0);
    EXPECT_FLOAT_EQ(d.by_user.values[d.by_user.offsets[2]], 3.0f);
    EXPECT_FLOAT_EQ(d.value_mean, 2.5);
}

TEST(Interactions, ItemRowsAreTheTransposeOfUserRows)
{
    auto d = build({1, 1, 2, 3, 3, 3}, {10, 20, 10, 10, 20, 30}, {1, 2, 3, 4, 5, 6});
    ASSERT_EQ(d.by_item.rows(), 3u);
    for (size_t u = 0; u < d.by_user.rows(); ++u)
        for (size_t k = d.by_user.offsets[u]; k < d.by_user.offsets[u + 1]; ++k)
        {
            const size_t i = size_t(d.by_user.columns[k]);
            bool found = false;
            for (size_t j = d.by_item.offsets[i]; j < d.by_item.offsets[i + 1]; ++j)
                if (size_t(d.by_item.columns[j]) == u)
                {
                    EXPECT_FLOAT_EQ(d.by_item.values[j], d.by_user.values[k]);
                    found = true;
                }
            EXPECT_TRUE(found) << "user " << u << " item " << i;
        }
}

TEST(Interactions, DuplicatePairsAreAveragedOrSummed)
{
    auto avg = build({1, 1, 1, 2}, {5, 5, 6, 5}, {2, 4, 1, 3});
    EXPECT_EQ(avg.duplicates_merged, 1u);
    EXPECT_EQ(avg.nnz(), 3u);
    EXPECT_FLOAT_EQ(avg.by_user.values[0], 3.0f);  // (2 + 4) / 2
    auto sum = build({1, 1, 1, 2}, {5, 5, 6, 5}, {2, 4, 1, 3}, DuplicatePolicy::Sum);
    EXPECT_FLOAT_EQ(sum.by_user.values[0], 6.0f);
    EXPECT_EQ(sum.by_item.row_size(0), 2u);  // item 5: users 1 and 2, once each
}

TEST(Interactions, ExtremeIdsSurvive)
{
    const int64_t lo = INT64_MIN, hi = INT64_MAX;
    auto d = build({hi, lo}, {lo, hi}, {1, 2});
    EXPECT_EQ(d.user_ids, (std::vector<int64_t>{lo, hi}));
    EXPECT_EQ(find_id(d.item_ids, hi), 1);
    EXPECT_EQ(find_id(d.item_ids, 0), -1);
}

TEST(Interactions, EmptyInputIsRefused)
{
    EXPECT_THROW(build({}, {}, {}), std::invalid_argument);
}

TEST(Interactions, PollCanAbandonTheBuild)
{
    struct Cancel : HostHooks
    {
        void poll() override { throw std::runtime_error("cancelled"); }
    } cancel;
    std::vector<int64_t> users{1, 2}, items{1, 2};
    std::vector<float> values{1, 1};
    TripletsView view{users.data(), items.data(), values.data(), 2};
    EXPECT_THROW(build_interactions(view, DuplicatePolicy::Average, 1, cancel), std::runtime_error);
}
