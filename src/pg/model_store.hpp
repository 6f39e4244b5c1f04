// The one place that reads and writes pg_recommend's model tables (rec.model_versions,
// rec.user_factors, rec.item_factors). PostgreSQL-style code: errors are raised with ereport, so call
// it only where no C++ object with a destructor is alive (see bridge.hpp).
//
// Writes run as the extension's owner (the tables grant users SELECT only), after the caller's own
// rights were checked: anyone may train a model, only its owner may drop it.
#pragma once
#include "pg/postgres_headers.hpp"
#include "pg/source_reader.hpp"

#include "core/als.hpp"
#include "core/interactions.hpp"

namespace rec::pg {

struct ModelToStore
{
    const char *name;
    const char *algorithm;
    const char *source;
    const char *hyperparameters;  // JSON
    const char *user_column, *item_column, *rating_column;  // rating_column may be NULL
    float rating_min, rating_max;
    double train_seconds;
    const rec::core::Interactions *data;
    const rec::core::BiasedFactors *model;
    // The id columns' base types, and for text and uuid ids the text of each (hashed) id.
    Oid user_type, item_type;
    const KeyDictionary *user_keys, *item_keys;  // NULL for integer ids
    // With a validation source: the metric's name and last value, and the learning curve (JSON).
    const char *validation_metric = nullptr;
    double validation_value = 0;
    const char *learning_curve = nullptr;
};

struct StoredVersion
{
    int64 model_id;
    int32 version;
};

StoredVersion store_model(const ModelToStore &m);

// The deployed version of `name` (rec.deployments), or of the most recently deployed model when
// `name` is NULL, and its revision (refreshes change a version's user and item rows in place and bump
// it). Raises 42704 if there is none, 55000 if the model has versions but none is deployed.
struct ModelRef
{
    int64 model_id;
    int32 revision;
};
ModelRef find_model(const char *name);

// Raises 42501 unless the caller owns every version of `name` (42704 if there is none).
void require_model_owner(const char *name, const char *action);
// The same, but a name without versions (a new model) passes.
void require_model_owner_unless_new(const char *name, const char *action);

// Where a version was trained from: the quoted source and its columns (rating_column NULL: count 1).
struct TrainingSource
{
    const char *relation, *user_column, *item_column, *rating_column;
};
TrainingSource training_source(int64 model_id);

// Replaces or adds user (or item) rows of a version and bumps its revision, as the extension owner.
// ids/bias/factors (count x k); for users, the seen items (external ids) and values of each, as
// offsets into seen_ids/seen_values; for items, each one's number of ratings. seen_delta and
// count_delta adjust n_ratings and n_users / n_items.
struct RowUpdate
{
    bool items;
    size_t count;
    int k;
    const int64 *ids;
    const float *bias, *factors;
    const int64 *seen_offsets, *seen_ids;
    const float *seen_values;
    const int32 *n_ratings;
    const char *const *keys;  // text and uuid ids: each row's id text; else NULL
    int64 seen_delta;
    int64 key_bytes_delta;    // the added rows' key texts' lengths
    int32 added;
};
void update_rows(int64 model_id, const RowUpdate &update);

// The deployed version's validation value for `metric`, if it has one.
bool deployed_validation(const char *name, const char *metric, double *value);

// Makes a version the one served (a row of rec.deployments, written as the extension owner).
void record_deployment(const char *name, int64 model_id);

// A model loaded for serving, as read-only arrays sorted by external id. The arrays live in one
// contiguous, position-independent block (a "model image"), so the same bytes serve from a backend's
// own memory or from the cache shared by all backends (model_cache.hpp).
enum class ModelKind : int32
{
    ExplicitAls,
    ImplicitAls,
    Bpr,
};

struct LoadedModel
{
    int64 model_id;
    ModelKind kind;
    // The id columns' types. For text and uuid ids (user_keyed, item_keyed) the ids below are hashes
    // of the ids' texts (core/key_id.hpp), and the texts are kept, in id order, in the key arrays.
    Oid user_type, item_type;
    bool user_keyed, item_keyed;
    int64 user_key_bytes, item_key_bytes;
    bool clip_predictions;  // explicit ratings: predict() stays within the training range
    // Hyperparameters that serving needs to fold users in (0 where they do not apply).
    double regularization, bias_regularization, unweighted_regularization, alpha;
    int k;
    double global_mean;
    float rating_min, rating_max;
    int32 n_users, n_items;
    int64 n_seen;  // training interactions after merging duplicates
    const int64 *user_ids;
    const float *user_factors;  // n_users x k
    const float *user_bias;
    const int64 *seen_offsets;  // n_users + 1
    const int32 *seen_items;    // dense item indexes of each user's training interactions
    const float *seen_values;   // their (merged) ratings or counts
    const int64 *item_ids;
    const float *item_factors;  // n_items x k
    const float *item_bias;
    const int32 *items_by_popularity;  // dense item indexes, most rated first
    const int64 *user_key_offsets, *item_key_offsets;  // n + 1 offsets into the texts, or NULL
    const char *user_key_text, *item_key_text;
    const float *gram;                 // YᵀY of the item factors (k x k) for implicit ALS, else NULL
};

// Reads a model version from the tables into a new image allocated in `context`; *bytes is its size.
char *load_model_image(int64 model_id, MemoryContext context, size_t *bytes);

// The image of revision r of a version from the image of an earlier revision (`base`, revision
// base_revision): a copy with the rows refreshes wrote since patched in. Refreshed users replace their rows and added
// users are merged in; NULL if it cannot be done (items were added, or the rows disagree with the
// header): load the whole version instead. The image is allocated in `context`.
char *patch_model_image(int64 model_id, const char *base, int32 base_revision, MemoryContext context, size_t *bytes);

// The model an image holds, its arrays pointing into the image.
LoadedModel view_model_image(const char *image);

// Model lifecycle; each checks that the caller owns every version of `name` (42501), raises 42704 for
// an unknown name, and is transactional (rows of rec.deployments and the model tables).
int32 drop_model(const char *name);                // deletes every version; returns how many
int32 deploy_model(const char *name, int32 version);  // serves `version` from now on; returns it
int32 rollback_model(const char *name);             // serves the previously deployed version; returns it
int32 prune_model(const char *name, int32 keep);    // deletes all but the newest `keep` and the deployed
                                                    // version; returns how many were deleted
// Lets `role` (a role name, or PUBLIC) serve and read every version of `name`, or stops it; returns 1
// if that changed anything, else 0.
int32 grant_model(const char *name, const char *role, bool grant);

}  // namespace rec::pg
