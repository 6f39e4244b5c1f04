// Per-backend cache of loaded models for serving. Entries are keyed by model_id, and a model_id's
// rows never change after training, so an entry is never stale: a retrained model has a new model_id
// that find_model() returns, and the next call loads it.
#pragma once
#include "pg/model_store.hpp"

namespace rec::pg {

// The newest version of `name` (or of the most recently trained model when NULL), loaded.
const LoadedModel *serving_model(const char *name);

}  // namespace rec::pg
