// Item features (cold-start items): reading a feature table, fitting the map from features to item
// factors after training (core/item_features.hpp), storing it with the version in rec.feature_weights,
// and giving items added later their factors from it (rec.refresh_items).
#pragma once
#include "pg/postgres_headers.hpp"

#include <cstdint>

#include "core/interactions.hpp"
#include "core/training.hpp"

namespace rec::pg {

// How much an item's features count against its interactions in the blend: κ in
// (n·q_cf + κ·q_features) / (n + κ). One interaction's worth: an item rated once is half features.
constexpr double kFeaturePrior = 1.0;
// λ of the ridge from unit-length feature vectors to factors: the best of 0.1, 1, 10 and 30 for the
// cold-start AUC on two splits of MovieLens latest-small (docs/benchmarks.md).
constexpr double kFeatureRegularization = 10;

// A fitted map, palloc'd: feature names and (count + 1) x (k + 1) weights, the intercept last.
struct StoredFeatureMap
{
    int32 count = 0;
    int k = 0;
    const char **names = nullptr;
    float *weights = nullptr;
};

// Reads `table` (first column: item id, second: feature text, optional third: weight; NULL ids or
// features skipped) as the caller, adds its items that have no interactions to `data` and `model`,
// fits the map on the items with interactions, gives the new items their factors and blends the
// others'. Reports what it did in a NOTICE. Integer item ids only (0A000 otherwise).
StoredFeatureMap attach_item_features(const char *table, Oid item_type, rec::core::Interactions &data,
                                      rec::core::FactorModel &model);

// Writes the map of a stored version (as the extension owner).
void store_feature_map(int64 model_id, const StoredFeatureMap &map);

// Factors and bias from the stored map of `model_id` for those of `ids` (count) that have rows in the
// version's feature table; returns how many, their ids, factors (k each) and biases in the out arrays
// (palloc'd, `count` long). 0 when the version has no item features.
size_t factors_from_features(int64 model_id, const int64 *ids, size_t count, int64 *out_ids, float *out_factors,
                             float *out_bias);

}  // namespace rec::pg
