#include "core/topn.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "core/simd_kernels.hpp"

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A function object rather than a function, so that the heap and sort algorithms inline it.
struct Better
{
    bool operator()(const Scored &a, const Scored &b) const
    {
        return a.score > b.score || (a.score == b.score && a.item < b.item);
    }
};
constexpr Better better{};

// The n best of `eligible`, best first.
std::vector<Scored>
select_best(std::vector<Scored> eligible, size_t n)
{
    n = std::min(n, eligible.size());
    std::partial_sort(eligible.begin(), eligible.begin() + ptrdiff_t(n), eligible.end(), better);
    eligible.resize(n);
    return eligible;
}

std::vector<char>
exclusion_mask(size_t items, IndexList excluded)
{
    std::vector<char> skip(items, 0);
    for (size_t e = 0; e < excluded.count; ++e)
        if (excluded.indexes[e] >= 0 && size_t(excluded.indexes[e]) < items)
            skip[size_t(excluded.indexes[e])] = 1;
    return skip;
}

}  // namespace

namespace {

// Items scored per kernel call: 1024 x 64 factors is 256 kB, so a block's factors stream through the
// caches once and its scores stay in L1.
constexpr size_t kBlockItems = 1024;

// The n best items offered so far, the worst of them on top of a heap: once n are kept, anything
// below the worst is rejected by one comparison.
class BestN
{
public:
    explicit BestN(size_t n) : n_(n) { heap_.reserve(n + 1); }

    void offer(int32_t item, float score)
    {
        if (heap_.size() < n_)
        {
            heap_.push_back(Scored{item, score});
            std::push_heap(heap_.begin(), heap_.end(), better);
        }
        else if (n_ > 0 && better(Scored{item, score}, heap_.front()))
        {
            std::pop_heap(heap_.begin(), heap_.end(), better);
            heap_.back() = Scored{item, score};
            std::push_heap(heap_.begin(), heap_.end(), better);
        }
    }
    // Below this, an offer is rejected.
    float threshold() const
    {
        return heap_.size() < n_ || n_ == 0 ? -std::numeric_limits<float>::infinity() : heap_.front().score;
    }
    const std::vector<Scored> &kept() const { return heap_; }

private:
    size_t n_;
    std::vector<Scored> heap_;
};

// Scores items [begin, end) and offers the eligible ones; `excluded` is sorted. The scores are
// computed for the whole block, excluded ones set to -inf, and a SIMD scan finds the few that reach
// the current n-th best.
void
score_block(const ItemFactorsView &items, const float *user, float offset, const std::vector<int32_t> &excluded,
            const RowKernels &kernels, size_t begin, size_t end, BestN &best)
{
    float scores[kBlockItems];
    const size_t count = end - begin;
    kernels.rows_times_vector(items.factors + begin * size_t(items.k), count, items.k, user, scores);
    Eigen::Map<Eigen::ArrayXf> block(scores, Eigen::Index(count));
    if (items.bias)
        block += Eigen::Map<const Eigen::ArrayXf>(items.bias + begin, Eigen::Index(count)) + offset;
    else
        block += offset;
    for (auto e = std::lower_bound(excluded.begin(), excluded.end(), int32_t(begin));
         e != excluded.end() && size_t(*e) < end; ++e)
        scores[size_t(*e) - begin] = -std::numeric_limits<float>::infinity();
    for (size_t j = kernels.first_at_least(scores, count, best.threshold()); j < count;)
    {
        if (scores[j] != -std::numeric_limits<float>::infinity())
            best.offer(int32_t(begin + j), scores[j]);
        ++j;
        j += kernels.first_at_least(scores + j, count - j, best.threshold());
    }
}

// The user as the bf16 scoring path needs it: its factors as bf16 pairs, and the bound on the error of
// an approximate product with an item of norm |q|: bound_per_norm x |q|.
struct Bf16User
{
    std::vector<uint32_t> words;
    float bound_per_norm;
};

Bf16User
bf16_user(const float *user, int k)
{
    Bf16User u;
    u.words.resize(size_t(bf16_pairs(k)));
    double norm = 0;
    for (int f = 0; f < k; ++f)
        norm += double(user[f]) * user[f];
    for (int g = 0; g < bf16_pairs(k); ++g)
        u.words[size_t(g)] = bf16_pair(user[2 * g], 2 * g + 1 < k ? user[2 * g + 1] : 0.0f);
    u.bound_per_norm = float(bf16_relative_error(k) * std::sqrt(norm));
    return u;
}

// As score_block, from an upper bound of each score (bf16 product plus its error bound, plus a margin
// for the rounding of the fp32 sums): only the items whose bound reaches the current n-th best are
// scored exactly (fp32) and offered.
void
score_block_bf16(const ItemFactorsView &items, const float *user, const Bf16User &u, float offset,
                 const std::vector<int32_t> &excluded, const RowKernels &kernels, const Bf16BatchKernel &bf16,
                 size_t begin, size_t end, BestN &best)
{
    float upper[kBlockItems];
    const size_t count = end - begin;
    const int pairs = bf16_pairs(items.k);
    bf16.rows_times_pair_vector(items.bf16_rows + begin * size_t(pairs), count, pairs, u.words.data(), upper);
    Eigen::Map<Eigen::ArrayXf> block(upper, Eigen::Index(count));
    const Eigen::Map<const Eigen::ArrayXf> norms(items.norms + begin, Eigen::Index(count));
    constexpr float kRounding = 1.0f / (1 << 20);  // fp32 sums of a few terms: a few units of 2⁻²⁴ each
    if (items.bias)
    {
        const Eigen::Map<const Eigen::ArrayXf> bias(items.bias + begin, Eigen::Index(count));
        block += bias + offset + u.bound_per_norm * norms + kRounding * (bias.abs() + std::fabs(offset));
    }
    else
        block += offset + u.bound_per_norm * norms + kRounding * std::fabs(offset);
    for (auto e = std::lower_bound(excluded.begin(), excluded.end(), int32_t(begin));
         e != excluded.end() && size_t(*e) < end; ++e)
        upper[size_t(*e) - begin] = -std::numeric_limits<float>::infinity();
    for (size_t j = kernels.first_at_least(upper, count, best.threshold()); j < count;)
    {
        if (upper[j] != -std::numeric_limits<float>::infinity())
        {
            const size_t i = begin + j;
            float exact;
            kernels.rows_times_vector(items.factors + i * size_t(items.k), 1, items.k, user, &exact);
            best.offer(int32_t(i), exact + offset + (items.bias ? items.bias[i] : 0.0f));
        }
        ++j;
        j += kernels.first_at_least(upper + j, count - j, best.threshold());
    }
}

}  // namespace

bool
bf16_scoring_available()
{
    return bf16_batch_kernel() != nullptr;
}

void
fill_bf16_rows(const float *factors, size_t items, int k, uint32_t *rows, float *norms)
{
    const size_t pairs = size_t(bf16_pairs(k));
    for (size_t i = 0; i < items; ++i)
    {
        const float *q = factors + i * size_t(k);
        double norm = 0;
        for (int f = 0; f < k; ++f)
            norm += double(q[f]) * q[f];
        norms[i] = float(std::sqrt(norm));
        for (size_t g = 0; g < pairs; ++g)
            rows[i * pairs + g] = bf16_pair(q[2 * g], int(2 * g + 1) < k ? q[2 * g + 1] : 0.0f);
    }
}

bool
top_n_runs_in_parallel(size_t items, int k)
{
    // Below this (items x factors), starting threads would cost more than it saves.
    return items * size_t(std::max(k, 1)) >= (size_t(1) << 22);
}

std::vector<Scored>
top_n(const ItemFactorsView &items, const float *user, float offset, const int32_t *excluded, size_t excluded_count,
      size_t n, int threads, HostHooks *hooks)
{
    n = std::min(n, items.items);  // the heaps reserve n entries
    std::vector<int32_t> sorted_excluded(excluded, excluded + excluded_count);
    if (!std::is_sorted(sorted_excluded.begin(), sorted_excluded.end()))
        std::sort(sorted_excluded.begin(), sorted_excluded.end());
    const RowKernels &kernels = best_scoring_kernels();
    const Bf16BatchKernel *bf16 = items.bf16_rows && items.norms ? bf16_batch_kernel() : nullptr;
    const Bf16User u = bf16 ? bf16_user(user, items.k) : Bf16User{};
    const auto score = [&](size_t b, BestN &best) {
        const size_t begin = b * kBlockItems, end = std::min(items.items, (b + 1) * kBlockItems);
        if (bf16)
            score_block_bf16(items, user, u, offset, sorted_excluded, kernels, *bf16, begin, end, best);
        else
            score_block(items, user, offset, sorted_excluded, kernels, begin, end, best);
    };
    const size_t blocks = (items.items + kBlockItems - 1) / kBlockItems;
    threads = std::min<int>(resolve_threads(threads), int(std::max<size_t>(blocks, 1)));
    if (threads == 1 || !top_n_runs_in_parallel(items.items, items.k))
    {
        BestN best(n);
        for (size_t b = 0; b < blocks; ++b)
            score(b, best);
        return select_best(best.kept(), n);
    }
    // Each thread keeps its own best n over the blocks it scores; the union's best n is the answer.
    std::vector<BestN> best(size_t(threads), BestN{n});
    NoHostHooks no_hooks;
    parallel_rows({0, blocks}, threads, hooks ? *hooks : no_hooks,
                  [&](size_t b, int thread) { score(b, best[size_t(thread)]); });
    std::vector<Scored> all;
    for (const BestN &kept : best)
        all.insert(all.end(), kept.kept().begin(), kept.kept().end());
    return select_best(std::move(all), n);
}

std::vector<Scored>
top_n_of_scores(const float *scores, size_t items, IndexList excluded, const IndexList *candidates, size_t n)
{
    std::vector<char> skip = exclusion_mask(items, excluded);
    BestN best(std::min(n, items));
    const auto offer = [&](int32_t i) {
        if (skip[size_t(i)])
            return;
        skip[size_t(i)] = 1;  // a candidate listed twice is offered once
        best.offer(i, scores[i]);
    };
    if (candidates)
    {
        for (size_t c = 0; c < candidates->count; ++c)
            if (candidates->indexes[c] >= 0 && size_t(candidates->indexes[c]) < items)
                offer(candidates->indexes[c]);
    }
    else
        for (size_t i = 0; i < items; ++i)
            offer(int32_t(i));
    return select_best(best.kept(), n);
}

std::vector<Scored>
best_of(std::vector<Scored> eligible, size_t n)
{
    return select_best(std::move(eligible), n);
}

std::vector<Scored>
top_n_among(const ItemFactorsView &items, const float *user, float offset, IndexList candidates, IndexList excluded,
            size_t n)
{
    std::vector<char> skip = exclusion_mask(items.items, excluded);
    std::vector<Scored> eligible;
    eligible.reserve(candidates.count);
    const Eigen::Map<const Eigen::VectorXf> u(user, items.k);
    for (size_t c = 0; c < candidates.count; ++c)
    {
        const int32_t i = candidates.indexes[c];
        if (i < 0 || size_t(i) >= items.items || skip[size_t(i)])
            continue;
        skip[size_t(i)] = 1;  // a candidate listed twice is returned once
        const float bias = items.bias ? items.bias[i] : 0.0f;
        const Eigen::Map<const Eigen::VectorXf> q(items.factors + size_t(i) * size_t(items.k), items.k);
        eligible.push_back(Scored{i, offset + bias + u.dot(q)});
    }
    return select_best(std::move(eligible), n);
}

std::vector<Scored>
most_similar(const float *rows, size_t count, int k, size_t query, size_t n)
{
    return most_similar(rows, count, k, query, n, nullptr, IndexList{});
}

std::vector<Scored>
most_similar(const float *rows, size_t count, int k, size_t query, size_t n, const IndexList *candidates,
             IndexList excluded)
{
    // 1: eligible. Only eligible rows are scored, so a short candidate list costs little.
    std::vector<uint8_t> eligible_row(count, candidates ? 0 : 1);
    if (candidates)
        for (size_t c = 0; c < candidates->count; ++c)
            if (size_t(candidates->indexes[c]) < count)
                eligible_row[size_t(candidates->indexes[c])] = 1;
    for (size_t e = 0; e < excluded.count; ++e)
        if (size_t(excluded.indexes[e]) < count)
            eligible_row[size_t(excluded.indexes[e])] = 0;
    eligible_row[query] = 0;
    const Eigen::Map<const RowMatrix> all(rows, Eigen::Index(count), k);
    const auto query_row = all.row(Eigen::Index(query));
    const float query_norm = query_row.norm();
    std::vector<Scored> eligible;
    for (size_t r = 0; r < count; ++r)
    {
        if (!eligible_row[r])
            continue;
        const auto row = all.row(Eigen::Index(r));
        const float denominator = row.norm() * query_norm;
        eligible.push_back(Scored{int32_t(r), denominator > 0 ? row.dot(query_row) / denominator : 0.0f});
    }
    return select_best(std::move(eligible), n);
}

void
top_n_batch(const ItemFactorsView &items, const float *users, const float *offsets, size_t count,
            const int64_t *excluded_offsets, const int32_t *excluded_items, size_t n, int threads, HostHooks &hooks,
            int32_t *out_items, float *out_scores, int32_t *out_counts, bool allow_bf16)
{
    threads = resolve_threads(threads);
    const int k = items.k;
    // A block of users is scored against a block of items at a time, from a transposed copy of the
    // item factors made once (one panel per item block, so one SIMD register holds a factor of 16
    // items); the scores (kUserBlock x kItemBlock) stay in the L2 cache while each user's best n are
    // picked from them. Row k of a panel holds the item biases and every user gets a k+1-th factor of
    // 1, so the product adds the bias; the user's offset is added after selection (it ranks nothing).
    //
    // Where the CPU has AVX-512 BF16, the panels hold bf16 pairs and the product runs at twice the
    // rate. Its scores are approximate within a proven bound, bf16_relative_error() x |user| x |item|
    // (augmented norms), and that bound rides along as one more factor (the user's c·|user| times the
    // item's |item|, both enlarged 2% against their own rounding), so the kernel returns an upper
    // bound of every exact score. Only items whose bound reaches the user's current n-th best are
    // rescored exactly in fp32, and only exact scores are kept: the result is the exact top n.
    constexpr size_t kUserBlock = 64, kItemBlock = 512;
    const RowKernels &kernels = best_scoring_kernels();
    const Bf16BatchKernel *bf16 = allow_bf16 ? bf16_batch_kernel() : nullptr;
    const size_t user_blocks = (count + kUserBlock - 1) / kUserBlock;
    const size_t item_blocks = (items.items + kItemBlock - 1) / kItemBlock;
    const int augmented = k + 1;        // factors, bias
    const int pairs = (k + 2 + 1) / 2;  // factors, bias, bound (bf16), rounded up to pairs
    const size_t panel_size = size_t(bf16 ? pairs : augmented) * kItemBlock;  // floats or words
    // Not zero-filled: every value the kernels read is written first.
    const std::unique_ptr<float[]> float_panels(bf16 ? nullptr
                                                     : new float[std::max<size_t>(item_blocks * panel_size, 1)]);
    const std::unique_ptr<uint32_t[]> word_panels(bf16 ? new uint32_t[std::max<size_t>(item_blocks * panel_size, 1)]
                                                       : nullptr);
    parallel_rows(even_boundaries(item_blocks, std::max<size_t>(item_blocks, 1)), threads, hooks, [&](size_t b, int) {
        const size_t begin = b * kItemBlock, width = std::min(kItemBlock, items.items - begin);
        if (!bf16)
        {
            float *panel = float_panels.get() + b * panel_size;
            for (size_t i = 0; i < width; ++i)
            {
                const float *q = items.factors + (begin + i) * size_t(k);
                for (int f = 0; f < k; ++f)
                    panel[size_t(f) * kItemBlock + i] = q[f];
                panel[size_t(k) * kItemBlock + i] = items.bias ? items.bias[begin + i] : 0.0f;
            }
            return;
        }
        // bf16 words, written a panel row at a time (reads stride through the block's rows, which
        // stay in cache; scattered writes would not).
        uint32_t *panel = word_panels.get() + b * panel_size;
        const float *block_rows = items.factors + begin * size_t(k);
        for (int g = 0; g < k / 2; ++g)
        {
            uint32_t *out = panel + size_t(g) * kItemBlock;
            const float *q = block_rows + 2 * g;
            for (size_t i = 0; i < width; ++i)
                out[i] = bf16_pair(q[i * size_t(k)], q[i * size_t(k) + 1]);
        }
        // The rest: an odd last factor, the bias, the bound factor (the item's augmented norm), padding.
        std::vector<float> tail(size_t(2 * pairs), 0.0f);
        const int first_tail_pair = k / 2;
        for (size_t i = 0; i < width; ++i)
        {
            const float *q = block_rows + i * size_t(k);
            const float bias = items.bias ? items.bias[begin + i] : 0.0f;
            double norm = double(bias) * bias;
            for (int f = 0; f < k; ++f)
                norm += double(q[f]) * q[f];
            for (int f = 2 * first_tail_pair; f < k; ++f)
                tail[size_t(f)] = q[f];
            tail[size_t(k)] = bias;
            tail[size_t(k) + 1] = float(std::sqrt(norm) * 1.02);
            for (int g = first_tail_pair; g < pairs; ++g)
                panel[size_t(g) * kItemBlock + i] = bf16_pair(tail[size_t(2 * g)], tail[size_t(2 * g) + 1]);
        }
    });
    struct Scratch
    {
        std::vector<float> users;     // kUserBlock x augmented
        std::vector<uint32_t> words;  // kUserBlock x pairs (bf16)
        std::unique_ptr<float[]> scores;
        std::vector<std::vector<int32_t>> excluded;  // per user of the block, sorted
        std::vector<size_t> next_excluded;
        std::vector<BestN> best;
    };
    std::vector<Scratch> scratch(static_cast<size_t>(threads));
    for (Scratch &s : scratch)
    {
        s.users.resize(kUserBlock * size_t(augmented));
        s.words.resize(kUserBlock * size_t(pairs));
        s.scores.reset(new float[kUserBlock * kItemBlock]);
        s.excluded.resize(kUserBlock);
        s.next_excluded.resize(kUserBlock);
    }
    // Chunks (between which the host polls for a cancel) of about 2·10⁹ multiply-adds per thread,
    // some tens of milliseconds; a small job is one chunk, with one barrier.
    const double block_work = double(kUserBlock) * double(items.items) * double(augmented);
    const size_t blocks_per_chunk =
        std::max<size_t>(size_t(threads), size_t(2e9 * double(threads) / std::max(block_work, 1.0)));
    const auto bounds = even_boundaries(user_blocks, blocks_per_chunk);
    const double relative_error = bf16_relative_error(2 * pairs);
    parallel_rows(bounds, threads, hooks, [&](size_t b, int thread) {
        Scratch &s = scratch[size_t(thread)];
        const size_t first = b * kUserBlock, users_here = std::min(kUserBlock, count - first);
        s.best.assign(users_here, BestN{n});
        for (size_t j = 0; j < users_here; ++j)
        {
            const size_t u = first + j;
            s.excluded[j].assign(excluded_items + excluded_offsets[u], excluded_items + excluded_offsets[u + 1]);
            if (!std::is_sorted(s.excluded[j].begin(), s.excluded[j].end()))  // served models store them sorted
                std::sort(s.excluded[j].begin(), s.excluded[j].end());
            s.next_excluded[j] = 0;
            float *user = s.users.data() + j * size_t(augmented);
            std::copy(users + u * size_t(k), users + (u + 1) * size_t(k), user);
            user[k] = 1.0f;
            if (bf16)
            {
                double norm = 0;
                for (int f = 0; f < augmented; ++f)
                    norm += double(user[f]) * user[f];
                const float bound = float(relative_error * std::sqrt(norm) * 1.02);
                uint32_t *words = s.words.data() + j * size_t(pairs);
                for (int g = 0; g < pairs; ++g)
                {
                    const auto value = [&](int f) {
                        return f < augmented ? user[f] : f == augmented ? bound : 0.0f;
                    };
                    words[g] = bf16_pair(value(2 * g), value(2 * g + 1));
                }
            }
        }
        for (size_t begin = 0; begin < items.items && n > 0; begin += kItemBlock)
        {
            const size_t block = begin / kItemBlock, width = std::min(kItemBlock, items.items - begin);
            if (bf16)
                bf16->users_times_pair_columns(s.words.data(), users_here, pairs,
                                               word_panels.get() + block * panel_size, kItemBlock, width,
                                               s.scores.get(), kItemBlock);
            else
                kernels.users_times_columns(s.users.data(), users_here, augmented,
                                            float_panels.get() + block * panel_size, kItemBlock, width, s.scores.get(),
                                            kItemBlock);
            for (size_t j = 0; j < users_here; ++j)
            {
                float *row = s.scores.get() + j * kItemBlock;
                // Excluded items become NaN, which no comparison lets into the selection.
                const std::vector<int32_t> &excluded = s.excluded[j];
                size_t &next = s.next_excluded[j];
                for (; next < excluded.size() && size_t(excluded[next]) < begin + width; ++next)
                    if (size_t(excluded[next]) >= begin)
                        row[size_t(excluded[next]) - begin] = std::numeric_limits<float>::quiet_NaN();
                BestN &best = s.best[j];
                if (!bf16)
                {
                    for (size_t i = kernels.first_at_least(row, width, best.threshold()); i < width;
                         i += 1 + kernels.first_at_least(row + i + 1, width - i - 1, best.threshold()))
                        best.offer(int32_t(begin + i), row[i]);
                    continue;
                }
                // `row` holds upper bounds: an item below the n-th best is certainly worse, skipped;
                // the others are rescored exactly.
                const float *user = s.users.data() + j * size_t(augmented);
                for (size_t i = kernels.first_at_least(row, width, best.threshold()); i < width;
                     i += 1 + kernels.first_at_least(row + i + 1, width - i - 1, best.threshold()))
                {
                    float exact;
                    kernels.rows_times_vector(items.factors + (begin + i) * size_t(k), 1, k, user, &exact);
                    exact += items.bias ? items.bias[begin + i] : 0.0f;
                    if (exact >= best.threshold())
                        best.offer(int32_t(begin + i), exact);
                }
            }
        }
        for (size_t j = 0; j < users_here; ++j)
        {
            const size_t u = first + j;
            const std::vector<Scored> ranked = select_best(s.best[j].kept(), n);
            for (size_t r = 0; r < ranked.size(); ++r)
            {
                out_items[u * n + r] = ranked[r].item;
                out_scores[u * n + r] = ranked[r].score + offsets[u];
            }
            out_counts[u] = int32_t(ranked.size());
        }
    });
}

}  // namespace rec::core
