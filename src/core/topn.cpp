#include "core/topn.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <limits>
#include <memory>

#include "core/simd_kernels.hpp"

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool
better(const Scored &a, const Scored &b)
{
    return a.score > b.score || (a.score == b.score && a.item < b.item);
}

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

// Catalogues smaller than this (items x factors) are scored on the calling thread: starting threads
// would cost more than it saves.
constexpr size_t kParallelWork = size_t(1) << 22;

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

// Scores items [begin, end) and offers the eligible ones; `excluded` is sorted.
void
score_block(const ItemFactorsView &items, const float *user, float offset, const std::vector<int32_t> &excluded,
            const RowKernels &kernels, size_t begin, size_t end, BestN &best)
{
    float scores[kBlockItems];
    kernels.rows_times_vector(items.factors + begin * size_t(items.k), end - begin, items.k, user, scores);
    auto next_excluded = std::lower_bound(excluded.begin(), excluded.end(), int32_t(begin));
    for (size_t i = begin; i < end; ++i)
    {
        if (next_excluded != excluded.end() && size_t(*next_excluded) == i)
        {
            while (next_excluded != excluded.end() && size_t(*next_excluded) == i)
                ++next_excluded;
            continue;
        }
        const float score = scores[i - begin] + offset + (items.bias ? items.bias[i] : 0.0f);
        if (score >= best.threshold())
            best.offer(int32_t(i), score);
    }
}

}  // namespace

std::vector<Scored>
top_n(const ItemFactorsView &items, const float *user, float offset, const int32_t *excluded,
      size_t excluded_count, size_t n, int threads, HostHooks *hooks)
{
    std::vector<int32_t> sorted_excluded(excluded, excluded + excluded_count);
    std::sort(sorted_excluded.begin(), sorted_excluded.end());
    const RowKernels &kernels = best_scoring_kernels();
    const size_t blocks = (items.items + kBlockItems - 1) / kBlockItems;
    threads = std::min<int>(resolve_threads(threads), int(std::max<size_t>(blocks, 1)));
    if (threads == 1 || items.items * size_t(std::max(items.k, 1)) < kParallelWork)
    {
        BestN best(n);
        for (size_t b = 0; b < blocks; ++b)
            score_block(items, user, offset, sorted_excluded, kernels, b * kBlockItems,
                        std::min(items.items, (b + 1) * kBlockItems), best);
        return select_best(best.kept(), n);
    }
    // Each thread keeps its own best n over the blocks it scores; the union's best n is the answer.
    std::vector<BestN> best(size_t(threads), BestN{n});
    NoHostHooks no_hooks;
    parallel_rows({0, blocks}, threads, hooks ? *hooks : no_hooks, [&](size_t b, int thread) {
        score_block(items, user, offset, sorted_excluded, kernels, b * kBlockItems,
                    std::min(items.items, (b + 1) * kBlockItems), best[size_t(thread)]);
    });
    std::vector<Scored> all;
    for (const BestN &kept : best)
        all.insert(all.end(), kept.kept().begin(), kept.kept().end());
    return select_best(std::move(all), n);
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
    const Eigen::Map<const RowMatrix> all(rows, Eigen::Index(count), k);
    const Eigen::VectorXf norms = all.rowwise().norm();
    const Eigen::VectorXf dots = all * all.row(Eigen::Index(query)).transpose();
    const float query_norm = norms(Eigen::Index(query));
    std::vector<Scored> eligible;
    eligible.reserve(count);
    for (size_t r = 0; r < count; ++r)
    {
        if (r == query)
            continue;
        const float denominator = norms(Eigen::Index(r)) * query_norm;
        eligible.push_back(Scored{int32_t(r), denominator > 0 ? dots(Eigen::Index(r)) / denominator : 0.0f});
    }
    return select_best(std::move(eligible), n);
}

void
top_n_batch(const ItemFactorsView &items, const float *users, const float *offsets, size_t count,
            const int64_t *excluded_offsets, const int32_t *excluded_items, size_t n, int threads, HostHooks &hooks,
            int32_t *out_items, float *out_scores, int32_t *out_counts)
{
    threads = resolve_threads(threads);
    const int k = items.k;
    // A block of users is scored against a block of items at a time, from a transposed copy of the
    // item factors made once (one k x kItemBlock panel per item block, 128 kB at 64 factors, so one
    // SIMD register holds a factor of 16 items); the scores (kUserBlock x kItemBlock) stay in the L2
    // cache while each user's best n are picked from them.
    constexpr size_t kUserBlock = 64, kItemBlock = 512;
    const RowKernels &kernels = best_scoring_kernels();
    const size_t user_blocks = (count + kUserBlock - 1) / kUserBlock;
    const size_t item_blocks = (items.items + kItemBlock - 1) / kItemBlock;
    // Row k of a panel holds the item biases and every user gets a k+1-th factor of 1, so the product
    // adds the bias; the user's offset is added to the scores after selection (it ranks nothing).
    const int augmented = k + 1;
    const size_t panel_size = size_t(augmented) * kItemBlock;
    // Not zero-filled: every value the kernel reads is written first.
    const std::unique_ptr<float[]> panels(new float[std::max<size_t>(item_blocks * panel_size, 1)]);
    parallel_rows(even_boundaries(item_blocks, std::max<size_t>(item_blocks, 1)), threads, hooks, [&](size_t b, int) {
        float *panel = panels.get() + b * panel_size;
        const size_t begin = b * kItemBlock, width = std::min(kItemBlock, items.items - begin);
        for (size_t i = 0; i < width; ++i)
        {
            for (int f = 0; f < k; ++f)
                panel[size_t(f) * kItemBlock + i] = items.factors[(begin + i) * size_t(k) + size_t(f)];
            panel[size_t(k) * kItemBlock + i] = items.bias ? items.bias[begin + i] : 0.0f;
        }
    });
    struct Scratch
    {
        std::vector<float> users;
        std::unique_ptr<float[]> scores;
        std::vector<std::vector<int32_t>> excluded;  // per user of the block, sorted
        std::vector<size_t> next_excluded;
        std::vector<BestN> best;
    };
    std::vector<Scratch> scratch(static_cast<size_t>(threads));
    for (Scratch &s : scratch)
    {
        s.users.resize(kUserBlock * size_t(augmented));
        s.scores.reset(new float[kUserBlock * kItemBlock]);
        s.excluded.resize(kUserBlock);
        s.next_excluded.resize(kUserBlock);
    }
    const auto bounds = even_boundaries(user_blocks, size_t(threads) * 4);
    parallel_rows(bounds, threads, hooks, [&](size_t b, int thread) {
        Scratch &s = scratch[size_t(thread)];
        const size_t first = b * kUserBlock, users_here = std::min(kUserBlock, count - first);
        s.best.assign(users_here, BestN{n});
        for (size_t j = 0; j < users_here; ++j)
        {
            const size_t u = first + j;
            s.excluded[j].assign(excluded_items + excluded_offsets[u], excluded_items + excluded_offsets[u + 1]);
            std::sort(s.excluded[j].begin(), s.excluded[j].end());
            s.next_excluded[j] = 0;
            std::copy(users + u * size_t(k), users + (u + 1) * size_t(k), s.users.begin() + ptrdiff_t(j * size_t(augmented)));
            s.users[j * size_t(augmented) + size_t(k)] = 1.0f;
        }
        for (size_t begin = 0; begin < items.items && n > 0; begin += kItemBlock)
        {
            const size_t width = std::min(kItemBlock, items.items - begin);
            kernels.users_times_columns(s.users.data(), users_here, augmented,
                                        panels.get() + (begin / kItemBlock) * panel_size, kItemBlock, width,
                                        s.scores.get(), kItemBlock);
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
                for (size_t i = kernels.first_at_least(row, width, best.threshold()); i < width;
                     i += 1 + kernels.first_at_least(row + i + 1, width - i - 1, best.threshold()))
                    best.offer(int32_t(begin + i), row[i]);
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
