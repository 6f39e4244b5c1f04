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
// tens of millions of lookups of a large source, and its memory is one flat array, counted in the
// budget as it grows.
class IdMap
{
public:
    IdMap(size_t expected, MemoryBudget &budget) : budget_(budget)
    {
        size_t capacity = 16;
        while (capacity < expected * 2)
            capacity *= 2;
        budget_.take(capacity * sizeof(Slot), "indexing the source");
        slots_.assign(capacity, Slot{0, -1});
        mask_ = capacity - 1;
    }
    ~IdMap() { budget_.give(slots_.size() * sizeof(Slot) + ids_.capacity() * sizeof(int64_t)); }
    IdMap(const IdMap &) = delete;
    IdMap &operator=(const IdMap &) = delete;

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
                if (ids_.size() == ids_.capacity())
                {
                    const size_t more = std::max<size_t>(ids_.capacity(), 1024);
                    budget_.take(more * sizeof(int64_t), "indexing the source");
                    ids_.reserve(ids_.capacity() + more);
                }
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
        budget_.take(slots_.size() * 2 * sizeof(Slot), "indexing the source");
        LargeVector<Slot> old;
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
        budget_.give(old.size() * sizeof(Slot));
    }

    MemoryBudget &budget_;
    LargeVector<Slot> slots_;
    std::vector<int64_t> ids_;
    size_t mask_ = 0;
};

// A vector whose bytes are counted in the budget while it lives.
template <typename T>
class CountedVector
{
public:
    CountedVector(size_t count, MemoryBudget &budget, const char *what) : budget_(&budget)
    {
        budget.take(count * sizeof(T), what);
        values_.resize(count);
    }
    ~CountedVector() { release(); }
    CountedVector(const CountedVector &) = delete;
    CountedVector &operator=(const CountedVector &) = delete;

    LargeVector<T> &get() { return values_; }
    void release()
    {
        if (budget_)
            budget_->give(values_.size() * sizeof(T));
        budget_ = nullptr;
        LargeVector<T>().swap(values_);
    }

private:
    MemoryBudget *budget_;
    LargeVector<T> values_;
};

// Maps each row's id to a dense index (into `index`), then renumbers so that indexes follow
// ascending ids.
void
dense_indexes(const int64_t *ids, size_t count, std::vector<int64_t> &sorted_ids, LargeVector<int32_t> &index,
              MemoryBudget &budget, HostHooks &hooks)
{
    IdMap map(std::min<size_t>(count, 1 << 16), budget);
    for (size_t begin = 0; begin < count; begin += kRowsPerPoll)
    {
        hooks.poll();
        const size_t end = std::min(count, begin + kRowsPerPoll);
        for (size_t row = begin; row < end; ++row)
            index[row] = map.index_of(ids[row]);
    }
    const std::vector<int64_t> &first_seen = map.ids();
    CountedVector<int32_t> order_storage(first_seen.size(), budget, "indexing the source");
    CountedVector<int32_t> renumber_storage(first_seen.size(), budget, "indexing the source");
    LargeVector<int32_t> &order = order_storage.get(), &renumber = renumber_storage.get();
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return first_seen[a] < first_seen[b]; });
    budget.take(first_seen.size() * sizeof(int64_t), "indexing the source");  // kept: the id list
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
}

// Counting sort of (row, column, value[, weight]) into compressed rows; columns within a row keep
// input order. The result's arrays are counted in the budget.
SparseRows
group_by_row(size_t rows, const int32_t *row_of, const int32_t *column_of, const float *value_of,
             const float *weight_of, size_t count, MemoryBudget &budget, HostHooks &hooks)
{
    const size_t entry_bytes = sizeof(int32_t) + sizeof(float) * (weight_of ? 2 : 1);
    budget.take(sat_add(sat_mul(rows + 1, sizeof(size_t)), sat_mul(count, entry_bytes)), "indexing the source");
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
    if (weight_of)
        out.weights.resize(count);
    CountedVector<size_t> next_storage(rows, budget, "indexing the source");
    LargeVector<size_t> &next = next_storage.get();
    std::copy(out.offsets.begin(), out.offsets.end() - 1, next.begin());
    for (size_t begin = 0; begin < count; begin += kRowsPerPoll)
    {
        hooks.poll();
        const size_t end = std::min(count, begin + kRowsPerPoll);
        for (size_t k = begin; k < end; ++k)
        {
            const size_t slot = next[size_t(row_of[k])]++;
            out.columns[slot] = column_of[k];
            out.values[slot] = value_of[k];
            if (weight_of)
                out.weights[slot] = weight_of[k];
        }
    }
    return out;
}

// Sorts each row by column and merges repeated columns; returns how many entries were merged away.
// The arrays keep their size (the merged-away tail is unused) until the caller shrinks them.
size_t
sort_and_merge_rows(SparseRows &m, DuplicatePolicy policy, int threads, MemoryBudget &budget, HostHooks &hooks)
{
    const size_t rows = m.rows();
    CountedVector<size_t> kept_storage(rows, budget, "indexing the source");
    LargeVector<size_t> &kept = kept_storage.get();
    std::vector<double> costs(rows);
    size_t longest = 0;
    for (size_t r = 0; r < rows; ++r)
    {
        costs[r] = double(m.row_size(r)) + 16;
        longest = std::max(longest, m.row_size(r));
    }
    // Each thread sorts one row at a time in a scratch of its own.
    struct Entry
    {
        int32_t column;
        float value, weight;
    };
    const bool weighted = m.weighted();
    budget.take(sat_mul(sat_mul(longest, sizeof(Entry)), size_t(std::max(threads, 1))), "indexing the source");
    const auto bounds = chunk_boundaries(costs, double(kRowsPerPoll) * threads);
    parallel_rows(bounds, threads, hooks, [&](size_t r, int) {
        const size_t begin = m.offsets[r], end = m.offsets[r + 1];
        std::vector<Entry> entries(end - begin);
        for (size_t k = begin; k < end; ++k)
            entries[k - begin] = {m.columns[k], m.values[k], m.weight(k)};
        // Stable, so that "first" is well defined; the merge itself does not depend on order.
        std::stable_sort(entries.begin(), entries.end(),
                         [](const Entry &a, const Entry &b) { return a.column < b.column; });
        size_t out = begin;
        for (size_t k = 0; k < entries.size();)
        {
            size_t same = k + 1;
            double sum = entries[k].value, weight_sum = entries[k].weight;
            float weight_max = entries[k].weight;
            while (same < entries.size() && entries[same].column == entries[k].column)
            {
                sum += entries[same].value;
                weight_sum += entries[same].weight;
                weight_max = std::max(weight_max, entries[same].weight);
                ++same;
            }
            const double copies = double(same - k);
            m.columns[out] = entries[k].column;
            m.values[out] = float(policy == DuplicatePolicy::Average ? sum / copies : sum);
            if (weighted)
                m.weights[out] = policy == DuplicatePolicy::Average ? float(weight_sum / copies) : weight_max;
            ++out;
            k = same;
        }
        kept[r] = out - begin;
    });
    budget.give(sat_mul(sat_mul(longest, sizeof(Entry)), size_t(std::max(threads, 1))));
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
            if (weighted)
                m.weights[write] = m.weights[begin + k];
        }
    }
    m.offsets[rows] = write;
    return merged;
}

}  // namespace

size_t
interactions_bytes(size_t nnz, size_t users, size_t items, bool weighted)
{
    // Both compressed copies (column, value and weight per entry, an offset per row) and the id lists.
    const size_t entry_bytes = sizeof(int32_t) + sizeof(float) * (weighted ? 2 : 1);
    return sat_add(
        sat_add(sat_mul(nnz, 2 * entry_bytes), sat_mul(sat_add(users, items), sizeof(size_t) + sizeof(int64_t))),
        2 * sizeof(size_t));
}

Interactions
build_interactions(const TripletsView &t, DuplicatePolicy policy, int threads, HostHooks &hooks, MemoryBudget &budget)
{
    if (t.count == 0)
        throw std::invalid_argument("no interactions to train on");
    // Hands an array of the triplets back as soon as it is no longer read.
    const auto release = [&](const void *array, size_t element_size) {
        if (t.release)
        {
            t.release(array);
            budget.give(t.count * element_size);
        }
    };
    Interactions out;
    size_t nnz;
    {
        CountedVector<int32_t> user_index(t.count, budget, "indexing the source");
        dense_indexes(t.users, t.count, out.user_ids, user_index.get(), budget, hooks);
        release(t.users, sizeof(int64_t));
        CountedVector<int32_t> item_index(t.count, budget, "indexing the source");
        dense_indexes(t.items, t.count, out.item_ids, item_index.get(), budget, hooks);
        release(t.items, sizeof(int64_t));
        out.by_user = group_by_row(out.user_ids.size(), user_index.get().data(), item_index.get().data(), t.values,
                                   t.weights, t.count, budget, hooks);
    }
    release(t.values, sizeof(float));
    if (t.weights)
        release(t.weights, sizeof(float));
    out.duplicates_merged = sort_and_merge_rows(out.by_user, policy, threads, budget, hooks);
    nnz = out.by_user.offsets.back();
    if (nnz < out.by_user.columns.size())
    {
        const bool weighted = out.by_user.weighted();
        budget.give((out.by_user.columns.size() - nnz) * (sizeof(int32_t) + sizeof(float) * (weighted ? 2 : 1)));
        out.by_user.columns.resize(nnz);
        out.by_user.values.resize(nnz);
        out.by_user.columns.shrink_to_fit();
        out.by_user.values.shrink_to_fit();
        if (weighted)
        {
            out.by_user.weights.resize(nnz);
            out.by_user.weights.shrink_to_fit();
        }
    }

    // The item-major copy is the transpose of the merged user-major one, so both agree exactly.
    {
        CountedVector<int32_t> row_of(nnz, budget, "indexing the source");
        for (size_t u = 0; u < out.by_user.rows(); ++u)
            for (size_t k = out.by_user.offsets[u]; k < out.by_user.offsets[u + 1]; ++k)
                row_of.get()[k] = int32_t(u);
        out.by_item = group_by_row(out.item_ids.size(), out.by_user.columns.data(), row_of.get().data(),
                                   out.by_user.values.data(),
                                   out.by_user.weighted() ? out.by_user.weights.data() : nullptr, nnz, budget, hooks);
    }

    double sum = 0;
    for (float v : out.by_user.values)
        sum += v;
    out.value_mean = sum / double(nnz);
    return out;
}

int64_t
find_id(const std::vector<int64_t> &ids, int64_t id)
{
    auto it = std::lower_bound(ids.begin(), ids.end(), id);
    return (it != ids.end() && *it == id) ? int64_t(it - ids.begin()) : -1;
}

CleaningReport
clean_interactions(Interactions &data, const CleaningOptions &options, int threads, HostHooks &hooks,
                   MemoryBudget &budget)
{
    CleaningReport report;
    if (!options.any())
        return report;
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    std::vector<uint8_t> user_kept(users, 1), item_kept(items, 1);
    std::vector<size_t> user_count(users), item_count(items);
    for (size_t u = 0; u < users; ++u)
        user_count[u] = data.by_user.row_size(u);
    for (size_t i = 0; i < items; ++i)
        item_count[i] = data.by_item.row_size(i);
    // Drops row r of one side (its entries leave the other side's counts); returns the entries dropped.
    const auto drop = [](size_t r, const SparseRows &rows, std::vector<uint8_t> &kept, std::vector<size_t> &count,
                         const std::vector<uint8_t> &other_kept, std::vector<size_t> &other_count) {
        kept[r] = 0;
        size_t entries = 0;
        for (size_t e = rows.offsets[r]; e < rows.offsets[r + 1]; ++e)
        {
            const size_t other = size_t(rows.columns[e]);
            if (other_kept[other])
            {
                --other_count[other];
                ++entries;
            }
        }
        count[r] = 0;
        return entries;
    };
    const auto drop_user = [&](size_t u) {
        return drop(u, data.by_user, user_kept, user_count, item_kept, item_count);
    };
    const auto drop_item = [&](size_t i) {
        return drop(i, data.by_item, item_kept, item_count, user_kept, user_count);
    };
    // Items left with no entries by a step are dropped by it.
    const auto drop_emptied_items = [&](Dropped &d) {
        for (size_t i = 0; i < items; ++i)
            if (item_kept[i] && item_count[i] == 0)
            {
                item_kept[i] = 0;
                ++d.items;
            }
    };
    if (options.max_user > 0)
    {
        for (size_t u = 0; u < users; ++u)
            if (user_count[u] > options.max_user)
            {
                report.above_max_user.interactions += drop_user(u);
                ++report.above_max_user.users;
            }
        drop_emptied_items(report.above_max_user);
    }
    if (options.min_user > 0 || options.min_item > 0)
    {
        for (bool changed = true; changed;)
        {
            hooks.poll();
            changed = false;
            ++report.rounds;
            for (size_t u = 0; u < users; ++u)
                if (user_kept[u] && user_count[u] < options.min_user)
                {
                    report.k_core.interactions += drop_user(u);
                    ++report.k_core.users;
                    changed = true;
                }
            for (size_t i = 0; i < items; ++i)
                if (item_kept[i] && item_count[i] < options.min_item)
                {
                    report.k_core.interactions += drop_item(i);
                    ++report.k_core.items;
                    changed = true;
                }
        }
        // Users left with nothing by the items' removal were dropped above (count 0 < min_user) unless
        // min_user is 0: drop them too, as they have nothing to learn from.
        for (size_t u = 0; u < users; ++u)
            if (user_kept[u] && user_count[u] == 0)
            {
                user_kept[u] = 0;
                ++report.k_core.users;
            }
    }
    // The kept entries as triplets, indexed again.
    std::vector<int64_t> kept_users, kept_items;
    std::vector<float> kept_values, kept_weights;
    const bool weighted = data.by_user.weighted();
    for (size_t u = 0; u < users; ++u)
    {
        if (!user_kept[u])
            continue;
        for (size_t e = data.by_user.offsets[u]; e < data.by_user.offsets[u + 1]; ++e)
        {
            const size_t i = size_t(data.by_user.columns[e]);
            if (!item_kept[i])
                continue;
            kept_users.push_back(data.user_ids[u]);
            kept_items.push_back(data.item_ids[i]);
            kept_values.push_back(data.by_user.values[e]);
            if (weighted)
                kept_weights.push_back(data.by_user.weights[e]);
        }
    }
    if (kept_users.empty())
        throw std::invalid_argument("cleaning left no interactions to train on");
    const size_t merged = data.duplicates_merged;
    budget.give(interactions_bytes(data.nnz(), users, items, weighted));
    data = Interactions();
    data = build_interactions(TripletsView(kept_users.data(), kept_items.data(), kept_values.data(), kept_users.size(),
                                           nullptr, weighted ? kept_weights.data() : nullptr),
                              DuplicatePolicy::Sum, threads, hooks, budget);
    data.duplicates_merged = merged;
    return report;
}

}  // namespace rec::core
