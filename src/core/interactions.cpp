#include "core/interactions.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "core/checked_size.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

constexpr size_t kRowsPerPoll = 1 << 20;  // a few milliseconds of the simple loops below

// Open-addressing map from external id to first-seen index; faster than std::unordered_map for the
// tens of millions of lookups of a large source, and its memory is one flat array.
class IdMap
{
public:
    explicit IdMap(size_t expected)
    {
        size_t capacity = 16;
        while (capacity < expected * 2)
            capacity *= 2;
        slots_.assign(capacity, Slot{0, -1});
        mask_ = capacity - 1;
    }

    int32_t index_of(int64_t id)
    {
        size_t pos = hash(id) & mask_;
        while (true)
        {
            Slot &slot = slots_[pos];
            if (slot.index < 0)
            {
                if (ids_.size() >= size_t(INT32_MAX))
                    throw std::length_error("more than 2^31 distinct ids");
                slot = Slot{id, int32_t(ids_.size())};
                ids_.push_back(id);
                if (ids_.size() * 2 > slots_.size())
                    grow();
                return int32_t(ids_.size() - 1);
            }
            if (slot.id == id)
                return slot.index;
            pos = (pos + 1) & mask_;
        }
    }

    const std::vector<int64_t> &ids() const { return ids_; }

private:
    struct Slot
    {
        int64_t id;
        int32_t index;
    };

    static size_t hash(int64_t id)
    {
        uint64_t x = uint64_t(id) * 0x9e3779b97f4a7c15ULL;
        return size_t(x ^ (x >> 29));
    }

    void grow()
    {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(old.size() * 2, Slot{0, -1});
        mask_ = slots_.size() - 1;
        for (const Slot &slot : old)
        {
            if (slot.index < 0)
                continue;
            size_t pos = hash(slot.id) & mask_;
            while (slots_[pos].index >= 0)
                pos = (pos + 1) & mask_;
            slots_[pos] = slot;
        }
    }

    std::vector<Slot> slots_;
    std::vector<int64_t> ids_;
    size_t mask_ = 0;
};

// Maps each row's id to a dense index, then renumbers so that indexes follow ascending ids.
std::vector<int32_t>
dense_indexes(const int64_t *ids, size_t count, std::vector<int64_t> &sorted_ids, HostHooks &hooks)
{
    IdMap map(std::min<size_t>(count, 1 << 16));
    std::vector<int32_t> index(count);
    for (size_t begin = 0; begin < count; begin += kRowsPerPoll)
    {
        hooks.poll();
        const size_t end = std::min(count, begin + kRowsPerPoll);
        for (size_t row = begin; row < end; ++row)
            index[row] = map.index_of(ids[row]);
    }
    const std::vector<int64_t> &first_seen = map.ids();
    std::vector<int32_t> order(first_seen.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return first_seen[a] < first_seen[b]; });
    std::vector<int32_t> renumber(first_seen.size());
    sorted_ids.resize(first_seen.size());
    for (size_t rank = 0; rank < order.size(); ++rank)
    {
        renumber[order[rank]] = int32_t(rank);
        sorted_ids[rank] = first_seen[order[rank]];
    }
    for (size_t begin = 0; begin < count; begin += kRowsPerPoll)
    {
        hooks.poll();
        const size_t end = std::min(count, begin + kRowsPerPoll);
        for (size_t row = begin; row < end; ++row)
            index[row] = renumber[index[row]];
    }
    return index;
}

// Counting sort of (row, column, value) into compressed rows; columns within a row keep input order.
SparseRows
group_by_row(size_t rows, const std::vector<int32_t> &row_of, const std::vector<int32_t> &column_of,
             const float *value_of, size_t count, HostHooks &hooks)
{
    SparseRows out;
    out.offsets.assign(rows + 1, 0);
    for (size_t begin = 0; begin < count; begin += kRowsPerPoll)
    {
        hooks.poll();
        const size_t end = std::min(count, begin + kRowsPerPoll);
        for (size_t k = begin; k < end; ++k)
            ++out.offsets[size_t(row_of[k]) + 1];
    }
    std::partial_sum(out.offsets.begin(), out.offsets.end(), out.offsets.begin());
    out.columns.resize(count);
    out.values.resize(count);
    std::vector<size_t> next(out.offsets.begin(), out.offsets.end() - 1);
    for (size_t begin = 0; begin < count; begin += kRowsPerPoll)
    {
        hooks.poll();
        const size_t end = std::min(count, begin + kRowsPerPoll);
        for (size_t k = begin; k < end; ++k)
        {
            const size_t slot = next[size_t(row_of[k])]++;
            out.columns[slot] = column_of[k];
            out.values[slot] = value_of[k];
        }
    }
    return out;
}

// Sorts each row by column and merges repeated columns; returns how many entries were merged away.
size_t
sort_and_merge_rows(SparseRows &m, DuplicatePolicy policy, int threads, HostHooks &hooks)
{
    const size_t rows = m.rows();
    std::vector<size_t> kept(rows);
    std::vector<double> costs(rows);
    for (size_t r = 0; r < rows; ++r)
        costs[r] = double(m.row_size(r)) + 16;
    const auto bounds = chunk_boundaries(costs, double(kRowsPerPoll) * threads);
    parallel_rows(bounds, threads, hooks, [&](size_t r, int) {
        const size_t begin = m.offsets[r], end = m.offsets[r + 1];
        std::vector<std::pair<int32_t, float>> entries(end - begin);
        for (size_t k = begin; k < end; ++k)
            entries[k - begin] = {m.columns[k], m.values[k]};
        // Stable, so that "first" is well defined; the merge itself does not depend on order.
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        size_t out = begin;
        for (size_t k = 0; k < entries.size();)
        {
            size_t same = k + 1;
            double sum = entries[k].second;
            while (same < entries.size() && entries[same].first == entries[k].first)
                sum += entries[same++].second;
            const double copies = double(same - k);
            m.columns[out] = entries[k].first;
            m.values[out] = float(policy == DuplicatePolicy::Average ? sum / copies : sum);
            ++out;
            k = same;
        }
        kept[r] = out - begin;
    });
    // Compact the rows now that some are shorter.
    size_t write = 0, merged = 0;
    for (size_t r = 0; r < rows; ++r)
    {
        const size_t begin = m.offsets[r];
        merged += m.row_size(r) - kept[r];
        m.offsets[r] = write;
        for (size_t k = 0; k < kept[r]; ++k, ++write)
        {
            m.columns[write] = m.columns[begin + k];
            m.values[write] = m.values[begin + k];
        }
    }
    m.offsets[rows] = write;
    m.columns.resize(write);
    m.values.resize(write);
    m.columns.shrink_to_fit();
    m.values.shrink_to_fit();
    return merged;
}

}  // namespace

Interactions
build_interactions(const TripletsView &t, DuplicatePolicy policy, int threads, HostHooks &hooks)
{
    if (t.count == 0)
        throw std::invalid_argument("no interactions to train on");
    Interactions out;
    std::vector<int32_t> user_index = dense_indexes(t.users, t.count, out.user_ids, hooks);
    std::vector<int32_t> item_index = dense_indexes(t.items, t.count, out.item_ids, hooks);
    out.by_user = group_by_row(out.user_ids.size(), user_index, item_index, t.values, t.count, hooks);
    std::vector<int32_t>().swap(user_index);
    std::vector<int32_t>().swap(item_index);
    out.duplicates_merged = sort_and_merge_rows(out.by_user, policy, threads, hooks);

    // The item-major copy is the transpose of the merged user-major one, so both agree exactly.
    const size_t nnz = out.by_user.columns.size();
    std::vector<int32_t> row_of(nnz);
    for (size_t u = 0; u < out.by_user.rows(); ++u)
        for (size_t k = out.by_user.offsets[u]; k < out.by_user.offsets[u + 1]; ++k)
            row_of[k] = int32_t(u);
    out.by_item = group_by_row(out.item_ids.size(), out.by_user.columns, row_of,
                               out.by_user.values.data(), nnz, hooks);

    double sum = 0;
    for (float v : out.by_user.values)
        sum += v;
    out.value_mean = sum / double(nnz);
    return out;
}

size_t
estimate_interactions_bytes(size_t rows)
{
    // Dense indexes, both compressed copies, and the id maps at their largest.
    return sat_mul(rows, 4 + 4 + 2 * (4 + 4 + sizeof(size_t)) + 2 * (2 * 16 + 8));
}

int64_t
find_id(const std::vector<int64_t> &ids, int64_t id)
{
    auto it = std::lower_bound(ids.begin(), ids.end(), id);
    return (it != ids.end() && *it == id) ? int64_t(it - ids.begin()) : -1;
}

}  // namespace rec::core
