// The one place that reads and writes pg_recommend's model tables (rec.model_versions,
// rec.user_factors, rec.item_factors). PostgreSQL-style code: errors are raised with ereport, so call
// it only where no C++ object with a destructor is alive (see bridge.hpp).
//
// Writes run as the extension's owner (the tables grant users SELECT only), after the caller's own
// rights were checked: anyone may train a model, only its owner may drop it.
#pragma once
#include "pg/postgres_headers.hpp"

#include "core/als.hpp"
#include "core/interactions.hpp"

namespace rec::pg {

struct ModelToStore
{
    const char *name;
    const char *algorithm;
    const char *source;
    const char *hyperparameters;  // JSON
    float rating_min, rating_max;
    double train_seconds;
    const rec::core::Interactions *data;
    const rec::core::BiasedFactors *model;
};

struct StoredVersion
{
    int64 model_id;
    int32 version;
};

StoredVersion store_model(const ModelToStore &m);

// The model_id of the newest version of `name`, or of the most recently trained model when `name` is
// NULL. Raises 42704 if there is none.
int64 find_model(const char *name);

// A model loaded for serving: arrays sorted by external id, in `context`.
enum class ModelKind
{
    ExplicitAls,
    ImplicitAls,
    Bpr,
};

struct LoadedModel
{
    int64 model_id;
    ModelKind kind;
    bool clip_predictions;  // explicit ratings: predict() stays within the training range
    // Hyperparameters that serving needs to fold new users in (0 where they do not apply).
    double regularization, bias_regularization, unweighted_regularization, alpha;
    float *gram;  // YᵀY of the item factors (k x k) for implicit ALS, else NULL
    int k;
    double global_mean;
    float rating_min, rating_max;
    int32 n_users, n_items;
    int64 *user_ids;
    float *user_factors;  // n_users x k
    float *user_bias;
    int64 *seen_offsets;  // n_users + 1
    int32 *seen_items;    // dense item indexes
    int64 *item_ids;
    float *item_factors;  // n_items x k
    float *item_bias;
    int32 *items_by_popularity;  // dense item indexes, most rated first
    MemoryContext context;
};

// Reads a model version into a new memory context under `parent`.
LoadedModel *load_model(int64 model_id, MemoryContext parent);

// Deletes every version of `name`; returns how many there were.
int32 drop_model(const char *name);

}  // namespace rec::pg
