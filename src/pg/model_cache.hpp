// The models served by rec.recommend and its siblings, loaded once per model version for the whole
// server.
//
// With pg_recommend in shared_preload_libraries, a loaded model's image (model_store.hpp) is copied
// into a dynamic shared memory area (DSA) that every backend maps: one copy per server, bounded by
// rec.cache_size, least recently used models evicted first. Without it (or when a model does not fit),
// each backend keeps a few models in its own memory.
//
// Entries are keyed by (database, extension instance, model_id, revision), and a revision's rows
// never change, so an entry is never stale: a retrained or redeployed model is another model_id (see
// serving.hpp for which one serves), a refreshed one another revision (loaded by patching the
// previous revision's copy), and a dropped one is no longer asked for. A backend pins the shared
// entries it uses until its transaction ends, so an entry is never freed while a query reads it.
// rec.cache_status() (defined here) lists the entries.
#pragma once
#include "pg/model_image.hpp"

namespace rec::pg {

// Called from _PG_init: reserves the cache's shared memory when loaded by shared_preload_libraries,
// and defines rec.cache_size.
void setup_model_cache();

// A model version at a revision, loaded (or patched from an earlier revision) if it is not cached.
// Valid until the end of the current transaction.
const ServedModel *cached_model(int64 model_id, int32 revision);

// One cached model, for rec.cache_status().
struct CachedModelInfo
{
    int64 model_id;
    uint64 bytes;
    uint64 hits;  // transactions that used it (shared) or 0 (backend-local)
    int32 pins;   // transactions using it now
    bool shared;
    uint64 loads;  // times read from the tables into this entry (shared: 1 unless a race was lost)
};

// Every model in the shared cache, then this backend's own; returns how many were written (at most max).
int cached_models(CachedModelInfo *out, int max);

// Dropped model versions: their shared entries are freed once no query uses them.
void forget_cached_models(const int64 *model_ids, int count);

}  // namespace rec::pg
