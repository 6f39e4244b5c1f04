// A model version loaded for serving: read-only arrays sorted by external id, in one contiguous,
// position-independent block (a "model image": a header with the scalars and each array's offset,
// then the arrays, each 64-byte aligned), so the same bytes serve from a backend's own memory or from
// the cache shared by all backends (model_cache.hpp), where each backend maps them at another address.
//
// PostgreSQL-style code: loading reads the model tables through SPI and raises errors with ereport.
#pragma once
#include "pg/postgres_headers.hpp"

#include "core/recommender.hpp"

namespace rec::pg {

struct ServedModel
{
    int64 model_id;
    // The factor model: kind, factors, biases, YᵀY (implicit), fold-in hyperparameters, clipping.
    rec::core::FactorModelView model;
    // The id columns' types. For text and uuid ids (user_keyed, item_keyed) the ids below are hashes
    // of the ids' texts (core/key_id.hpp), and the texts are kept, in id order, in the key arrays.
    Oid user_type, item_type;
    bool user_keyed, item_keyed;
    int64 user_key_bytes, item_key_bytes;
    int32 n_users, n_items;
    int64 n_seen;  // training interactions after merging duplicates
    const int64 *user_ids;
    const int64 *seen_offsets;  // n_users + 1
    const int32 *seen_items;    // dense item indexes of each user's training interactions, ascending
    const float *seen_values;   // their (merged) ratings or counts
    const int64 *item_ids;
    const int32 *item_counts;                          // each item's training interactions
    const int32 *items_by_popularity;                  // dense item indexes, most interactions first
    const int64 *user_key_offsets, *item_key_offsets;  // n + 1 offsets into the texts, or NULL
    const char *user_key_text, *item_key_text;
    // Item-item models (ease, itemknn; model.k is 0): the weights, n_weights of them, dense (every
    // item's row complete) or compressed rows.
    int64 n_weights;
    bool dense_weights;
    rec::core::ItemWeightsView weights;
};

// The served model as the core's model interface: whatever its kind, scored through it.
inline rec::core::Recommender
recommender_of(const ServedModel *m)
{
    rec::core::Recommender r;
    r.factors = m->model;
    r.weights = m->weights;
    r.seen = {m->seen_offsets, m->seen_items, m->seen_values};
    return r;
}

// Reads a model version from the tables into a new image allocated in `context`; *bytes is its size.
char *load_model_image(int64 model_id, MemoryContext context, size_t *bytes);

// The image of revision r of a version from the image of an earlier revision (`base`, revision
// base_revision): a copy with the rows refreshes wrote since patched in. Refreshed users replace their
// rows and added users are merged in; NULL if it cannot be done (items were added, or the rows
// disagree with the header): load the whole version instead. The image is allocated in `context`.
char *patch_model_image(int64 model_id, const char *base, int32 base_revision, MemoryContext context, size_t *bytes);

// The model an image holds, its arrays pointing into the image.
ServedModel view_model_image(const char *image);

// Maps the pages of [address, address + bytes) into this process in one call, for reading or for
// writing, instead of a page fault per 4 kB page as they are first touched: thousands for a few
// megabytes, each costly under virtualisation (MADV_POPULATE_READ/WRITE, Linux 5.14; where they are
// missing or refused, the pages fault in as before).
void map_pages(const void *address, size_t bytes, bool for_writing);

// Dense index of a user or item id in a served model, or -1.
int64 user_index(const ServedModel *m, int64 user_id);
int64 item_index(const ServedModel *m, int64 item_id);

}  // namespace rec::pg
