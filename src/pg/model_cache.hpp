// Per-backend cache of loaded models for serving. Entries are keyed by model_id, and a model_id's
// rows never change after training, so an entry is never stale: a retrained model has a new model_id
// that find_model() returns, and the next call loads it.
#pragma once
#include "pg/model_store.hpp"

namespace rec::pg {

// The newest version of `name` (or of the most recently trained model when NULL), loaded.
const LoadedModel *serving_model(const char *name);

// Dense index of a user or item id in a loaded model, or -1.
int64 user_index(const LoadedModel *m, int64 user_id);
int64 item_index(const LoadedModel *m, int64 item_id);

// What rec.predict returns for dense indexes (-1 for unknown: the baseline): μ + b_u + b_i + p_uᵀq_i,
// clipped to the training range for explicit ratings.
double predicted_score(const LoadedModel *m, int64 user, int64 item);

}  // namespace rec::pg
