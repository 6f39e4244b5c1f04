#include <gtest/gtest.h>

#include <cmath>

#include "core/item_features.hpp"
#include "core/random.hpp"

using namespace rec::core;

namespace {

// 200 items, 10 features, each item 2 or 3 features of weight 1; targets (k = 3 and a bias) an exact
// linear function of the unit-scaled features: a light ridge recovers it.
struct Linear
{
    ItemFeatureRows rows;
    std::vector<float> factors, bias;
};

Linear
linear_items(size_t items)
{
    Linear out;
    RowRandom rng(5, 0, 0);
    std::vector<float> truth(11 * 4);
    for (auto &t : truth)
        t = float(rng.normal());
    out.rows.feature_count = 10;
    out.rows.offsets.push_back(0);
    for (size_t i = 0; i < items; ++i)
    {
        const int count = 2 + int(i % 2);
        std::vector<int32_t> mine;
        for (int c = 0; c < count; ++c)
            mine.push_back(int32_t((i * 7 + size_t(c) * 3) % 10));
        const float scale = 1.0f / std::sqrt(float(count));
        float target[4];
        for (int d = 0; d < 4; ++d)
            target[d] = truth[10 * 4 + size_t(d)];  // the intercept
        for (int32_t f : mine)
        {
            out.rows.features.push_back(f);
            out.rows.weights.push_back(1.0f);
            for (int d = 0; d < 4; ++d)
                target[d] += scale * truth[size_t(f) * 4 + size_t(d)];
        }
        out.rows.offsets.push_back(int64_t(out.rows.features.size()));
        out.factors.insert(out.factors.end(), target, target + 3);
        out.bias.push_back(target[3]);
    }
    return out;
}

}  // namespace

TEST(ItemFeatures, RidgeMapRecoversALinearMapAndPredictsUnseenItems)
{
    const Linear data = linear_items(200);
    std::vector<uint8_t> learn_from(200, 1);
    for (size_t i = 150; i < 200; ++i)
        learn_from[i] = 0;  // held out: predicted from features alone
    NoHostHooks none;
    FeatureMapParams params;
    params.regularization = 1e-4;
    params.iterations = 200;
    const FeatureMap map =
        learn_feature_map(data.rows, learn_from, data.factors.data(), data.bias.data(), 3, params, none);
    ASSERT_EQ(map.weights.size(), size_t(11 * 4));
    for (size_t i = 150; i < 200; ++i)
    {
        float factors[3], bias;
        const int64_t begin = data.rows.offsets[i], count = data.rows.offsets[i + 1] - begin;
        predict_from_features(map, &data.rows.features[size_t(begin)], &data.rows.weights[size_t(begin)], size_t(count),
                              factors, &bias);
        for (int f = 0; f < 3; ++f)
            EXPECT_NEAR(factors[f], data.factors[i * 3 + size_t(f)], 1e-2) << "item " << i;
        EXPECT_NEAR(bias, data.bias[i], 1e-2);
    }
    // A larger λ shrinks the map towards zero.
    params.regularization = 1000;
    const FeatureMap shrunk =
        learn_feature_map(data.rows, learn_from, data.factors.data(), data.bias.data(), 3, params, none);
    double big = 0, small = 0;
    for (size_t w = 0; w < map.weights.size(); ++w)
    {
        big += std::abs(map.weights[w]);
        small += std::abs(shrunk.weights[w]);
    }
    EXPECT_LT(small, 0.5 * big);
    params.regularization = 0;
    EXPECT_THROW(learn_feature_map(data.rows, learn_from, data.factors.data(), nullptr, 3, params, none),
                 std::invalid_argument);
}

TEST(ItemFeatures, AddedItemsKeepIdsAscendingAndInteractionsFollow)
{
    const int64_t users[] = {1, 1, 2};
    const int64_t items[] = {10, 30, 30};
    const float values[] = {5, 3, 4};
    NoHostHooks none;
    Interactions data = build_interactions({users, items, values, 3}, DuplicatePolicy::Average, 1, none);
    FactorModel model;
    model.factors = 2;
    model.item_factors = {1, 1, 3, 3};  // items 10 and 30
    model.item_bias = {0.1f, 0.3f};
    EXPECT_EQ(add_items(data, model, {20, 30, 40, 20}), 2u);  // 30 exists; 20 asked twice
    ASSERT_EQ(data.item_ids, (std::vector<int64_t>{10, 20, 30, 40}));
    EXPECT_EQ(model.item_factors[2 * 2], 3.0f);  // item 30 is now index 2
    EXPECT_EQ(model.item_factors[1 * 2], 0.0f);  // item 20: zero until its features fill it
    EXPECT_EQ(model.item_bias[2], 0.3f);
    // User 1's items 10 and 30 are columns 0 and 2; item 30's two users stay with it.
    EXPECT_EQ(data.by_user.columns[0], 0);
    EXPECT_EQ(data.by_user.columns[1], 2);
    EXPECT_EQ(data.by_item.row_size(1), 0u);
    EXPECT_EQ(data.by_item.row_size(2), 2u);
    EXPECT_EQ(data.by_item.row_size(3), 0u);
    EXPECT_EQ(add_items(data, model, {10}), 0u);
}

TEST(ItemFeatures, BlendWeighsByEvidence)
{
    float cf[2] = {1, 1}, bias = 1;
    const float from_features[2] = {0, 0};
    blend_with_features(cf, &bias, from_features, 0, 2, 1, 1);  // one interaction, κ = 1: half and half
    EXPECT_FLOAT_EQ(cf[0], 0.5f);
    EXPECT_FLOAT_EQ(bias, 0.5f);
    float many[2] = {1, 1}, many_bias = 1;
    blend_with_features(many, &many_bias, from_features, 0, 2, 99, 1);
    EXPECT_FLOAT_EQ(many[1], 0.99f);
}
