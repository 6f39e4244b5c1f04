#include "core/key_id.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace {

int64_t
id_of(const std::string &s)
{
    return rec::core::key_id(s.data(), s.size());
}

// Stored models hold these values: a change of the function would orphan every text-keyed model,
// so the exact values are pinned.
TEST(KeyId, ValuesArePinnedAcrossBuilds)
{
    EXPECT_EQ(id_of(""), id_of(std::string()));
    const int64_t empty = id_of(""), a = id_of("a"), uuid = id_of("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EXPECT_NE(empty, a);
    EXPECT_NE(a, uuid);
    // Recorded from this implementation; see key_id.hpp before changing them.
    EXPECT_EQ(empty, INT64_C(-1166397803181037274));
    EXPECT_EQ(a, INT64_C(-9033471704281723301));
    EXPECT_EQ(uuid, INT64_C(-9218954033756510930));
}

TEST(KeyId, DependsOnEveryByteAndTheLength)
{
    EXPECT_NE(id_of("ab"), id_of("ba"));
    EXPECT_NE(id_of("a"), id_of(std::string("a\0", 2)));
    EXPECT_NE(id_of("user-1"), id_of("user-2"));
    EXPECT_NE(id_of("\xff"), id_of("\x7f"));  // high bytes are not sign-extended away
}

TEST(KeyId, NoCollisionAmongAMillionSimilarIds)
{
    std::unordered_set<int64_t> seen;
    for (int i = 0; i < 1000000; ++i)
        ASSERT_TRUE(seen.insert(id_of("user-" + std::to_string(i))).second) << i;
}

}  // namespace

namespace {

uint64_t
name_hash(const std::string &name)
{
    return uint64_t(id_of(name));
}

// A share t of users falls below t, for any t, and the split of one model says nothing about another's.
TEST(TrafficPosition, SplitsUsersInProportionAndIndependentlyPerModel)
{
    const uint64_t movies = name_hash("movies"), music = name_hash("music");
    const int users = 100000;
    int below_tenth = 0, below_half = 0, both_below_half = 0;
    for (int64_t u = 1; u <= users; ++u)
    {
        const double p = rec::core::traffic_position(u, movies);
        ASSERT_GE(p, 0.0);
        ASSERT_LT(p, 1.0);
        below_tenth += p < 0.1;
        below_half += p < 0.5;
        both_below_half += p < 0.5 && rec::core::traffic_position(u, music) < 0.5;
    }
    // Binomial standard deviations at n = 100,000: 95 (t = 0.1), 158 (t = 0.5); bounds are 5 of them.
    EXPECT_NEAR(below_tenth, 10000, 475);
    EXPECT_NEAR(below_half, 50000, 790);
    EXPECT_NEAR(both_below_half, 25000, 690);
}

// Servers and standbys must agree on who is in a test: the positions are pinned.
TEST(TrafficPosition, ValuesArePinnedAcrossBuilds)
{
    const uint64_t movies = name_hash("movies");
    EXPECT_EQ(rec::core::traffic_position(42, movies), rec::core::traffic_position(42, movies));
    EXPECT_NE(rec::core::traffic_position(42, movies), rec::core::traffic_position(43, movies));
    EXPECT_NE(rec::core::traffic_position(42, movies), rec::core::traffic_position(42, name_hash("movies2")));
    // Recorded from this implementation; see key_id.hpp before changing them.
    EXPECT_DOUBLE_EQ(rec::core::traffic_position(42, movies), 0.83330559657854475);
    EXPECT_DOUBLE_EQ(rec::core::traffic_position(-7, movies), 0.28665313228075795);
}

}  // namespace
