// The model store: writes new model versions and the rows refreshes change, and finds versions
// (rec.model_versions, rec.user_factors, rec.item_factors, rec.item_weights). PostgreSQL-style code: errors are raised
// with ereport, so call it only where no C++ object with a destructor is alive (see bridge.hpp).
//
// Writes run as the extension's owner (the tables grant users SELECT only), after the caller's own
// rights were checked (model_lifecycle.hpp): anyone may train a model, only its owner changes it.
#pragma once
#include "pg/ids.hpp"

#include "core/interactions.hpp"
#include "core/item_item.hpp"
#include "core/training.hpp"

namespace rec::pg {

// A model trained on a Citus cluster (distributed_train.cpp) has no Interactions on the coordinator:
// its ids and counts, and a callback that writes its user rows (add_user_row) from the workers' rows.
struct DistributedShape
{
    const int64_t *user_ids, *item_ids;  // ascending
    size_t users, items, nnz;
    const int32 *item_counts;  // each item's distinct users
    void (*write_user_rows)(int64 model_id, void *arg);
    void *arg;
};

struct ModelToStore
{
    const char *name;
    const char *algorithm;
    const char *source;
    const char *hyperparameters;                            // JSON
    const char *user_column, *item_column, *rating_column;  // rating_column may be NULL
    float rating_min, rating_max;
    double train_seconds;
    const rec::core::Interactions *data;
    const rec::core::FactorModel *model;
    // The id columns' base types, and for text and uuid ids the text of each (hashed) id.
    Oid user_type, item_type;
    const KeyDictionary *user_keys, *item_keys;  // NULL for integer ids
    // With a validation source: the metric's name and last value, and the learning curve (JSON).
    const char *validation_metric = nullptr;
    double validation_value = 0;
    const char *learning_curve = nullptr;
    const DistributedShape *distributed = nullptr;    // set: `data` is NULL
    const rec::core::ItemWeights *weights = nullptr;  // ease and itemknn: stored in rec.item_weights
};

struct StoredVersion
{
    int64 model_id;
    int32 version;
};

// Writes a new version: its row in rec.model_versions, then every user and item row in bulk.
StoredVersion store_model(const ModelToStore &m);

// rec.user_factors opened for bulk inserts (end with end_bulk_insert), and one user's row added: its
// factors (k) and seen items (ids ascending) with their values; `keys` NULL for integer ids.
struct BulkInsert *begin_user_rows();
void add_user_row(struct BulkInsert *bulk, int64 model_id, int64 user_id, float bias, const float *factors, int k,
                  const int64 *seen, const float *seen_values, size_t count, const KeyDictionary *keys);

// A model version at a revision (refreshes change a version's user and item rows in place and bump
// it).
struct ModelRef
{
    int64 model_id;  // 0: none
    int32 revision;
    int32 version;
};

// What serves a model name (rec.deployments): the main version, deployed to everyone (its newest
// deployment with traffic 1 not rolled back), and, while an A/B test runs, the challenger: a newer
// deployment with traffic < 1 that serves that share of users (core/key_id.hpp, traffic_position).
constexpr int kMaxServedName = 64;  // longer names are not copied into `name`
struct Deployment
{
    ModelRef main;
    ModelRef challenger;        // model_id 0: no test under way
    double traffic;             // the challenger's share of users
    uint64 name_hash;           // core::key_id of the name: where each user falls (traffic_position)
    char name[kMaxServedName];  // the name (that of the most recently deployed model for NULL); "" if longer
};

// The deployment of `name`, or of the most recently deployed model when `name` is NULL, as the caller
// may read it (row-level security). Raises 42704 if there is none, 42501 if the caller may not read
// it, 55000 if the model has versions but none is deployed.
Deployment find_deployment(const char *name);

// The same for every version of `name`, also those the caller may not read (as the extension's
// owner), without errors: main.model_id is 0 when nothing is deployed.
Deployment every_version_deployment(const char *name);

// Whether rec.deployments has its traffic column: false between installing a new library and
// ALTER EXTENSION pg_recommend UPDATE, when serving goes on without A/B tests.
bool deployments_have_traffic();

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
    int64 key_bytes_delta;  // the added rows' key texts' lengths
    int32 added;
};
void update_rows(int64 model_id, const RowUpdate &update);

}  // namespace rec::pg
