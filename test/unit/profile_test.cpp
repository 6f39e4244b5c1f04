#include <gtest/gtest.h>

#include <cmath>

#include "core/interactions.hpp"
#include "core/profile.hpp"

using namespace rec::core;

TEST(Profile, GiniOfHandCases)
{
    EXPECT_DOUBLE_EQ(gini({5, 5, 5, 5}), 0.0);
    // One item takes everything of four: (n - 1) / n.
    EXPECT_DOUBLE_EQ(gini({0, 0, 0, 8}), 0.75);
    // 1, 2, 3: Σ(2i − n − 1)x / (n Σx) = (−2·1 + 0·2 + 2·3) / (3·6) = 4/18.
    EXPECT_DOUBLE_EQ(gini({3, 1, 2}), 4.0 / 18.0);
    EXPECT_DOUBLE_EQ(gini({7}), 0.0);
}

TEST(Profile, CountsDuplicatesRareValuesBotsAndBursts)
{
    std::vector<int64_t> users, items;
    std::vector<float> values;
    std::vector<double> times;
    // 2,000 users with 6 items each (ratings 1..5), one bot with 600 items at one time, a duplicate,
    // a NaN and one rating of 70.
    for (int64_t u = 0; u < 2000; ++u)
        for (int64_t i = 0; i < 6; ++i)
        {
            users.push_back(u);
            items.push_back((u + i) % 50);
            values.push_back(float(1 + (u + i) % 5));
            times.push_back(double(u * 10 + i));
        }
    for (int64_t i = 0; i < 600; ++i)
    {
        users.push_back(99999);
        items.push_back(1000 + i);
        values.push_back(3);
        times.push_back(5e8);
    }
    users.push_back(0), items.push_back(0), values.push_back(1), times.push_back(1);        // duplicate
    users.push_back(1), items.push_back(7000), values.push_back(NAN), times.push_back(2);   // NaN
    users.push_back(2), items.push_back(7001), values.push_back(70), times.push_back(4e9);  // typo, future
    ProfileInput in{users.data(), items.data(), values.data(), times.data(), users.size(), 3e9};
    NoHostHooks none;
    const Profile p = profile_interactions(in, none);
    EXPECT_EQ(p.counts.rows, users.size());
    EXPECT_EQ(p.counts.users, 2001u);
    EXPECT_EQ(p.counts.duplicate_rows, 1u);
    EXPECT_EQ(p.counts.non_finite, 1u);
    EXPECT_EQ(p.counts.out_of_range, 1u);
    ASSERT_EQ(p.out_of_range_values.size(), 1u);
    EXPECT_EQ(p.out_of_range_values[0].value, 70.0f);
    EXPECT_EQ(p.histogram.size(), 6u);  // 1..5 and 70
    ASSERT_EQ(p.bots.size(), 1u);
    EXPECT_EQ(p.bots[0].user, 99999);
    EXPECT_EQ(p.bots[0].at_one_time, 600u);
    ASSERT_EQ(p.bursts.size(), 1u);
    EXPECT_EQ(p.counts.future, 1u);
    EXPECT_EQ(p.counts.items_below, 602u);  // the bot's 600 items, and the NaN's and the typo's
    EXPECT_EQ(p.counts.users_below, 0u);
}

TEST(Cleaning, KCoreIsStableAndMaxUserDropsBots)
{
    // A chain: user 1 has items 1..5; user 2 has items 1..4 and 9; user 3 has item 9 only; user 9 (a bot)
    // has items 1..20.
    std::vector<int64_t> users, items;
    for (int64_t i = 1; i <= 5; ++i)
        users.push_back(1), items.push_back(i);
    for (int64_t i : {1, 2, 3, 4, 9})
        users.push_back(2), items.push_back(i);
    users.push_back(3), items.push_back(9);
    for (int64_t i = 1; i <= 20; ++i)
        users.push_back(9), items.push_back(i);
    std::vector<float> values(users.size(), 1.0f);
    NoHostHooks none;
    Interactions data =
        build_interactions({users.data(), items.data(), values.data(), users.size()}, DuplicatePolicy::Sum, 1, none);
    CleaningOptions options;
    options.max_user = 10;
    options.min_user = 2;
    options.min_item = 2;
    const CleaningReport report = clean_interactions(data, options, 1, none);
    EXPECT_EQ(report.above_max_user.users, 1u);
    EXPECT_EQ(report.above_max_user.interactions, 20u);
    EXPECT_EQ(report.above_max_user.items, 14u);  // items 6..20 but 9 had only the bot
    // Item 5 (one user) and 9 (users 2 and 3) ... then user 3 (one item) drops, then item 9 has one user.
    EXPECT_EQ(data.user_ids, (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(data.item_ids, (std::vector<int64_t>{1, 2, 3, 4}));
    EXPECT_EQ(data.nnz(), 8u);
    EXPECT_GE(report.rounds, 2);
    options.min_item = 100;
    EXPECT_THROW(clean_interactions(data, options, 1, none), std::invalid_argument);
}
