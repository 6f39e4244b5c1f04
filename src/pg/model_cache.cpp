#include "pg/model_cache.hpp"

namespace rec::pg {

namespace {

constexpr int kCachedModels = 4;

struct Entry
{
    LoadedModel *model;
    uint64 last_used;
};

Entry entries[kCachedModels];
uint64 use_clock = 0;

}  // namespace

const LoadedModel *
serving_model(const char *name)
{
    const int64 model_id = find_model(name);
    ++use_clock;
    int victim = 0;
    for (int e = 0; e < kCachedModels; ++e)
    {
        if (entries[e].model && entries[e].model->model_id == model_id)
        {
            entries[e].last_used = use_clock;
            return entries[e].model;
        }
        if (entries[victim].model && (!entries[e].model || entries[e].last_used < entries[victim].last_used))
            victim = e;
    }
    // Loaded under the current (transaction) context so that an error mid-load frees it; kept for the
    // session only once complete.
    LoadedModel *loaded = load_model(model_id, CurrentMemoryContext);
    MemoryContextSetParent(loaded->context, CacheMemoryContext);
    if (entries[victim].model)
        MemoryContextDelete(entries[victim].model->context);
    entries[victim] = Entry{loaded, use_clock};
    return loaded;
}

}  // namespace rec::pg
