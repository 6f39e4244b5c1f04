// The training data in the shape solvers need: external ids mapped to dense indexes, and the ratings
// as two compressed sparse matrices (one row per user, one row per item).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/parallel.hpp"

namespace rec::core {

// (user, item, value) rows as read from the source, borrowed from the caller.
struct TripletsView
{
    const int64_t *users = nullptr;
    const int64_t *items = nullptr;
    const float *values = nullptr;
    size_t count = 0;
};

// Compressed sparse rows: row r holds columns[offsets[r] .. offsets[r+1]) with their values, sorted
// by column.
struct SparseRows
{
    std::vector<size_t> offsets;
    std::vector<int32_t> columns;
    std::vector<float> values;

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
    Average,  // explicit ratings: a re-rating replaces nothing, both count half
    Sum,      // implicit counts: plays add up
};

// Builds the index in O(rows) time with hooks.poll() every few milliseconds, so a host can cancel it
// at any data size. Throws std::invalid_argument for an empty input.
Interactions build_interactions(const TripletsView &triplets, DuplicatePolicy policy, int threads,
                                HostHooks &hooks);

// Upper estimate of the memory build_interactions needs for `rows` input rows, in bytes (saturating).
size_t estimate_interactions_bytes(size_t rows);

// Dense index of an external id in an ascending id list, or -1.
int64_t find_id(const std::vector<int64_t> &ids, int64_t id);

}  // namespace rec::core
