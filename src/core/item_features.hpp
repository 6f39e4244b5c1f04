// Factors for items from their metadata (cold start): a ridge regression from item features (genres,
// tags, year, ...) to the item factors and bias an interaction model learned, fitted over the items that
// have interactions. An item with features but no interactions then gets W's prediction; an item with
// both blends the two by its evidence, (n·q_cf + κ·q_features) / (n + κ) for n interactions.
//
// Why a map learned after the interaction model, not a LightFM-style joint model: it works unchanged
// for als, ials and bpr, costs a few conjugate-gradient passes over the feature rows (seconds where
// training takes minutes), leaves the warm items' model as trained, and the same W gives a title
// added after training its factors at once (rec.refresh_items) without touching the rest.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/interactions.hpp"
#include "core/parallel.hpp"
#include "core/training.hpp"

namespace rec::core {

// Each item's features, compressed by item: item i has features[offsets[i] .. offsets[i+1]) with
// their weights (as given; normalized by item_feature_vector).
struct ItemFeatureRows
{
    std::vector<int64_t> offsets;  // items + 1
    std::vector<int32_t> features;
    std::vector<float> weights;
    int32_t feature_count = 0;
};

struct FeatureMapParams
{
    double regularization = 1.0;  // λ of the ridge, on weights of unit-length feature vectors
    int iterations = 100;         // conjugate-gradient steps (stops early when converged)
};

// W: (feature_count + 1) rows (the last one the intercept, every item's constant feature) of k + 1
// values (the factors, then the bias).
struct FeatureMap
{
    int k = 0;
    int32_t feature_count = 0;
    std::vector<float> weights;

    const float *row(int32_t feature) const { return weights.data() + size_t(feature) * size_t(k + 1); }
    const float *intercept() const { return row(feature_count); }
};

// Fits W over the items with learn_from[i] != 0: minimises Σ_i ‖x_i W − [q_i, b_i]‖² + λ‖W‖², x_i the
// item's feature weights scaled to unit length plus the intercept 1. item_bias may be null (0).
// Calls hooks.poll() between steps.
FeatureMap learn_feature_map(const ItemFeatureRows &rows, const std::vector<uint8_t> &learn_from,
                             const float *item_factors, const float *item_bias, int k, const FeatureMapParams &params,
                             HostHooks &hooks);

// An item's predicted factors (k) and bias from its features (indexes into the map; unknown ones, -1,
// are skipped) and weights, as learn_feature_map saw them.
void predict_from_features(const FeatureMap &map, const int32_t *features, const float *weights, size_t count,
                           float *factors, float *bias);

// The evidence blend: (n·cf + κ·features) / (n + κ), written over `cf` (k values and a bias).
void blend_with_features(float *cf_factors, float *cf_bias, const float *feature_factors, float feature_bias, int k,
                         double interactions, double prior);

// Adds the ids of `ids` the model does not have as items with no interactions (zero factors and bias,
// to be filled from their features), keeping item indexes in ascending id order: the interactions and
// the item-side arrays are renumbered. Returns how many were added.
size_t add_items(Interactions &data, FactorModel &model, const std::vector<int64_t> &ids);

}  // namespace rec::core
