#include "core/online_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace {

using rec::core::mean_interval;
using rec::core::proportion_interval;
using rec::core::two_proportion_test;

// Wilson intervals: 10 of 100, z = 1.96: center (0.1 + 0.019208) / 1.038416 = 0.114798, half-width
// 1.96 / 1.038416 · √(0.0009 + 0.00009604) = 0.059569 (computed apart, in Python): 0.05523 .. 0.17437.
TEST(OnlineStats, WilsonIntervalMatchesTheFormula)
{
    const auto ci = proportion_interval(10, 100, 1.96);
    EXPECT_DOUBLE_EQ(ci.estimate, 0.1);
    EXPECT_NEAR(ci.low, 0.05523, 1e-5);
    EXPECT_NEAR(ci.high, 0.17437, 1e-5);
    // No clicks: the interval starts at 0 and is not empty; every click: it ends at 1.
    const auto none = proportion_interval(0, 50);
    EXPECT_EQ(none.low, 0.0);
    EXPECT_GT(none.high, 0.05);
    EXPECT_EQ(proportion_interval(50, 50).high, 1.0);
    EXPECT_TRUE(std::isnan(proportion_interval(0, 0).estimate));
}

TEST(OnlineStats, MeanIntervalIsTheNormalApproximation)
{
    // Values 0, 0.5, 1: mean 0.5, sample sd 0.5, half-width 1.96 · 0.5 / √3.
    const auto ci = mean_interval(1.5, 1.25, 3, 1.96);
    EXPECT_DOUBLE_EQ(ci.estimate, 0.5);
    EXPECT_NEAR(ci.high - ci.estimate, 1.96 * 0.5 / std::sqrt(3.0), 1e-12);
    EXPECT_NEAR(ci.estimate - ci.low, 1.96 * 0.5 / std::sqrt(3.0), 1e-12);
    const auto one = mean_interval(0.25, 0.0625, 1);
    EXPECT_EQ(one.low, 0.25);
    EXPECT_EQ(one.high, 0.25);
}

// 100/1000 against 130/1000: pooled p 0.115, se √(0.115·0.885·0.002) = 0.014267, z = 2.1028,
// two-sided p = 0.03548 (normal tables); unpooled se √(0.09/1000 + 0.1131/1000) = 0.014252.
TEST(OnlineStats, TwoProportionZTestMatchesTheTables)
{
    const auto t = two_proportion_test(100, 1000, 130, 1000, 1.96);
    EXPECT_NEAR(t.difference.estimate, 0.03, 1e-12);
    EXPECT_NEAR(t.z, 2.1028, 1e-4);
    EXPECT_NEAR(t.p_value, 0.03548, 5e-5);
    EXPECT_NEAR(t.difference.low, 0.03 - 1.96 * 0.014252, 1e-5);
    EXPECT_EQ(std::string(rec::core::verdict(t, 100, 1000, 130, 1000)), "challenger better");
    const auto worse = two_proportion_test(130, 1000, 100, 1000);
    EXPECT_EQ(std::string(rec::core::verdict(worse, 130, 1000, 100, 1000)), "challenger worse");
    EXPECT_NEAR(worse.p_value, t.p_value, 1e-12);
    const auto same = two_proportion_test(100, 1000, 105, 1000);
    EXPECT_EQ(std::string(rec::core::verdict(same, 100, 1000, 105, 1000)), "no significant difference");
    // Too few clicks for the normal approximation, and nothing shown at all.
    const auto few = two_proportion_test(1, 20, 9, 20);
    EXPECT_EQ(std::string(rec::core::verdict(few, 1, 20, 9, 20)), "not enough data");
    EXPECT_TRUE(std::isnan(two_proportion_test(0, 0, 5, 10).p_value));
    EXPECT_EQ(std::string(rec::core::verdict(two_proportion_test(0, 0, 5, 10), 0, 0, 5, 10)), "not enough data");
}

}  // namespace
