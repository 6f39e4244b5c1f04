#include <gtest/gtest.h>

#include <map>

#include "core/random.hpp"
#include "core/rerank.hpp"

using namespace rec::core;

namespace {

// 40 items in k = 4: items come in 4 tight clusters (i % 4), scores falling with the index, so the
// best-scored items alternate clusters only by chance of the index.
struct Catalogue
{
    std::vector<float> factors;
    std::vector<Scored> pool;
};

Catalogue
clustered(int items)
{
    Catalogue c;
    RowRandom rng(3, 0, 0);
    c.factors.resize(size_t(items) * 4);
    for (int i = 0; i < items; ++i)
    {
        // Items 0..9 share cluster 0 (the best scores), then clusters 1, 2, 3.
        const int cluster = i / 10;
        for (int f = 0; f < 4; ++f)
            c.factors[size_t(i) * 4 + size_t(f)] = (f == cluster ? 1.0f : 0.0f) + 0.05f * float(rng.normal());
        c.pool.push_back(Scored{i, 10.0f - 0.1f * float(i)});
    }
    return c;
}

std::vector<int32_t>
items_of(const std::vector<Scored> &list)
{
    std::vector<int32_t> out;
    for (const Scored &s : list)
        out.push_back(s.item);
    return out;
}

}  // namespace

TEST(Rerank, NoDiversityNoCapsKeepsThePoolOrder)
{
    const Catalogue c = clustered(40);
    const auto out = rerank(c.factors.data(), 4, c.pool, 10, RerankOptions{});
    ASSERT_EQ(out.size(), 10u);
    for (size_t r = 0; r < out.size(); ++r)
    {
        EXPECT_EQ(out[r].item, c.pool[r].item);
        EXPECT_EQ(out[r].score, c.pool[r].score);
    }
}

TEST(Rerank, DiversityLowersTheListsSimilarityAndKeepsTheBestFirst)
{
    const Catalogue c = clustered(40);
    RerankOptions diverse;
    diverse.diversity = 0.5;
    const auto plain = rerank(c.factors.data(), 4, c.pool, 8, RerankOptions{});
    const auto mixed = rerank(c.factors.data(), 4, c.pool, 8, diverse);
    ASSERT_EQ(mixed.size(), 8u);
    EXPECT_EQ(mixed[0].item, 0);  // nothing chosen yet: relevance alone
    const double before = mean_pairwise_cosine(c.factors.data(), 4, items_of(plain));
    const double after = mean_pairwise_cosine(c.factors.data(), 4, items_of(mixed));
    EXPECT_GT(before, 0.9);  // all of cluster 0
    EXPECT_LT(after, 0.5 * before);
    std::map<int, int> clusters;
    for (const Scored &s : mixed)
        ++clusters[s.item / 10];
    EXPECT_EQ(clusters.size(), 4u);
}

TEST(Rerank, GroupCapsHoldAndItemsWithoutGroupsAreNotCapped)
{
    const Catalogue c = clustered(40);
    // Item i is in group i / 10, and items 0..9 also in group 4; item 39 in none.
    ItemGroups groups;
    groups.group_count = 5;
    groups.offsets.push_back(0);
    for (int i = 0; i < 40; ++i)
    {
        if (i != 39)
            groups.groups.push_back(i / 10);
        if (i < 10)
            groups.groups.push_back(4);
        groups.offsets.push_back(int64_t(groups.groups.size()));
    }
    RerankOptions capped;
    capped.groups = &groups;
    capped.per_group_limit = 2;
    const auto out = rerank(c.factors.data(), 4, c.pool, 10, capped);
    // Two of each of the four groups, then only item 39 (no group) is left: 9 in all, never more than 2.
    ASSERT_EQ(out.size(), 9u);
    std::map<int, int> counts;
    for (const Scored &s : out)
        if (s.item != 39)
            ++counts[s.item / 10];
    for (const auto &[group, count] : counts)
        EXPECT_EQ(count, 2) << "group " << group;
    EXPECT_EQ(out.back().item, 39);
    EXPECT_EQ(out[0].item, 0);
    EXPECT_EQ(out[1].item, 1);
    EXPECT_EQ(out[2].item, 10);  // group 0 full: the next best of group 1
}

TEST(Rerank, EmptyPoolAndZeroRowsAreHarmless)
{
    const Catalogue c = clustered(4);
    EXPECT_TRUE(rerank(c.factors.data(), 4, {}, 5, RerankOptions{}).empty());
    EXPECT_TRUE(rerank(c.factors.data(), 4, c.pool, 0, RerankOptions{}).empty());
    std::vector<float> zeros(16, 0.0f);
    RerankOptions diverse;
    diverse.diversity = 1;
    EXPECT_EQ(rerank(zeros.data(), 4, c.pool, 4, diverse).size(), 4u);
    EXPECT_EQ(mean_pairwise_cosine(zeros.data(), 4, {0, 1}), 0.0);
}
