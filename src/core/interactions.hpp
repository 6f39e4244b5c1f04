// The training data in the shape solvers need: external ids mapped to dense indexes, and the ratings
// as two compressed sparse matrices (one row per user, one row per item).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/large_vector.hpp"
#include "core/memory.hpp"
#include "core/parallel.hpp"

namespace rec::core {

// (user, item, value) rows as read from the source, borrowed from the caller. With `release` set,
// build_interactions hands each array back (release(array)) as soon as it no longer reads it, and
// gives its bytes back to the budget: the caller counted them there (bytes_of_triplets).
struct TripletsView
{
    TripletsView(const int64_t *users_, const int64_t *items_, const float *values_, size_t count_,
                 std::function<void(const void *)> release_ = nullptr, const float *weights_ = nullptr)
        : users(users_), items(items_), values(values_), count(count_), release(std::move(release_)), weights(weights_)
    {}

    const int64_t *users;
    const int64_t *items;
    const float *values;
    size_t count;
    std::function<void(const void *)> release;
    // Optional per-row weights (recency): solvers weigh each entry's term by it. NULL: every row 1.
    // Borrowed like the rest and released with the values.
    const float *weights;
};

// What the caller holds for `rows` triplets: two int64 ids and a float each.
constexpr size_t kBytesPerTriplet = 2 * sizeof(int64_t) + sizeof(float);

// Compressed sparse rows: row r holds columns[offsets[r] .. offsets[r+1]) with their values, sorted
// by column. `weights`, when not empty, parallels `values`: the entries' weights in the loss.
struct SparseRows
{
    LargeVector<size_t> offsets;
    LargeVector<int32_t> columns;
    LargeVector<float> values;
    LargeVector<float> weights;

    bool weighted() const { return !weights.empty(); }
    float weight(size_t entry) const { return weights.empty() ? 1.0f : weights[entry]; }

    size_t rows() const { return offsets.empty() ? 0 : offsets.size() - 1; }
    size_t row_size(size_t row) const { return offsets[row + 1] - offsets[row]; }
};

struct Interactions
{
    std::vector<int64_t> user_ids;  // dense user index -> external id, ascending
    std::vector<int64_t> item_ids;  // dense item index -> external id, ascending
    SparseRows by_user;             // users x items
    SparseRows by_item;             // items x users
    size_t duplicates_merged = 0;   // input rows folded into an earlier row with the same (user, item)
    double value_mean = 0;          // mean of the stored (merged) values

    size_t nnz() const { return by_user.columns.size(); }
};

// How rows with the same (user, item) become one entry.
enum class DuplicatePolicy
{
    Average,  // explicit ratings: a re-rating replaces nothing, both count half (weights averaged too)
    Sum,      // implicit counts: plays add up (the weight is the largest: the most recent play)
};

// Builds the index in O(rows) time with hooks.poll() every few milliseconds, so a host can cancel it
// at any data size. Its arrays are counted in `budget` (MemoryLimitExceeded before one would exceed
// it); the result's stay counted. At its peak it holds about 20 bytes per row beyond the id maps
// (releasing the triplets as it goes). Throws std::invalid_argument for an empty input.
Interactions build_interactions(const TripletsView &triplets, DuplicatePolicy policy, int threads, HostHooks &hooks,
                                MemoryBudget &budget = unlimited_budget());

// The bytes an Interactions of this size holds (both compressed copies and the id lists, and the
// weights when weighted).
size_t interactions_bytes(size_t nnz, size_t users, size_t items, bool weighted = false);

// Cleaning before training (rec.train's min_user_interactions, min_item_interactions,
// max_user_interactions), counted in distinct (user, item) pairs. 0: no limit.
struct CleaningOptions
{
    size_t max_user = 0;  // users with more interactions are dropped first (bots)
    size_t min_user = 0;  // then users and items below these, repeated until none is (a k-core)
    size_t min_item = 0;
    bool any() const { return max_user > 0 || min_user > 0 || min_item > 0; }
};
struct Dropped
{
    size_t users = 0, items = 0, interactions = 0;
};
struct CleaningReport
{
    Dropped above_max_user;  // by max_user_interactions (items left with nothing count here too)
    Dropped k_core;          // by min_user_interactions and min_item_interactions
    int rounds = 0;          // passes until the k-core was stable
};

// Drops what `options` says from `data` (rebuilt with the same policy). Throws std::invalid_argument
// if nothing is left.
CleaningReport clean_interactions(Interactions &data, const CleaningOptions &options, int threads, HostHooks &hooks,
                                  MemoryBudget &budget = unlimited_budget());

// Dense index of an external id in an ascending id list, or -1.
int64_t find_id(const std::vector<int64_t> &ids, int64_t id);

}  // namespace rec::core
