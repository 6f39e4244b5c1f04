#include "core/topn.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <limits>

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

std::vector<Scored>
top_n(const ItemFactorsView &items, const float *user, float offset, const int32_t *excluded,
      size_t excluded_count, size_t n)
{
    const Eigen::Index count = Eigen::Index(items.items);
    Eigen::VectorXf scores(count);
    if (items.k > 0)
        scores.noalias() = Eigen::Map<const RowMatrix>(items.factors, count, items.k) *
                           Eigen::Map<const Eigen::VectorXf>(user, items.k);
    else
        scores.setZero();
    if (items.bias)
        scores += Eigen::Map<const Eigen::VectorXf>(items.bias, count);
    scores.array() += offset;

    const std::vector<char> skip = exclusion_mask(items.items, {excluded, excluded_count});
    std::vector<Scored> eligible;
    eligible.reserve(items.items);
    for (Eigen::Index i = 0; i < count; ++i)
        if (!skip[size_t(i)])
            eligible.push_back(Scored{int32_t(i), scores(i)});
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
    const size_t catalogue = items.items;
    const int k = items.k;
    // Users per product: up to 64, with the score block kept under 16 MB per thread.
    const size_t block = std::max<size_t>(1, std::min<size_t>(64, (size_t(4) << 20) / std::max<size_t>(catalogue, 1)));
    const size_t blocks = (count + block - 1) / block;
    std::vector<RowMatrix> score_buffers(static_cast<size_t>(threads));
    std::vector<std::vector<char>> skip_buffers(size_t(threads), std::vector<char>(catalogue, 0));
    const Eigen::Map<const RowMatrix> item_factors(items.factors, Eigen::Index(catalogue), k);
    const auto bounds = even_boundaries(blocks, size_t(threads) * 4);
    parallel_rows(bounds, threads, hooks, [&](size_t b, int thread) {
        const size_t first = b * block, users_here = std::min(block, count - first);
        RowMatrix &scores = score_buffers[size_t(thread)];
        scores.resize(Eigen::Index(users_here), Eigen::Index(catalogue));
        scores.noalias() = Eigen::Map<const RowMatrix>(users + first * size_t(k), Eigen::Index(users_here), k) *
                           item_factors.transpose();
        if (items.bias)
            scores.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(items.bias, Eigen::Index(catalogue));
        std::vector<char> &skip = skip_buffers[size_t(thread)];
        std::vector<Scored> heap;
        heap.reserve(n + 1);
        for (size_t j = 0; j < users_here; ++j)
        {
            const size_t u = first + j;
            for (int64_t e = excluded_offsets[u]; e < excluded_offsets[u + 1]; ++e)
                skip[size_t(excluded_items[e])] = 1;
            heap.clear();
            const float *row = scores.data() + j * catalogue;
            // Once n are kept, anything below the worst kept is rejected by one comparison.
            float threshold = -std::numeric_limits<float>::infinity();
            for (size_t i = 0; i < catalogue && n > 0; ++i)
            {
                const float value = row[i] + offsets[u];
                if (value < threshold || skip[i])
                    continue;
                const Scored candidate{int32_t(i), value};
                if (heap.size() < n)
                {
                    heap.push_back(candidate);
                    std::push_heap(heap.begin(), heap.end(), better);  // the worst kept is on top
                }
                else if (better(candidate, heap.front()))
                {
                    std::pop_heap(heap.begin(), heap.end(), better);
                    heap.back() = candidate;
                    std::push_heap(heap.begin(), heap.end(), better);
                }
                if (heap.size() == n)
                    threshold = heap.front().score;
            }
            std::sort_heap(heap.begin(), heap.end(), better);
            for (size_t r = 0; r < heap.size(); ++r)
            {
                out_items[u * n + r] = heap[r].item;
                out_scores[u * n + r] = heap[r].score;
            }
            out_counts[u] = int32_t(heap.size());
            for (int64_t e = excluded_offsets[u]; e < excluded_offsets[u + 1]; ++e)
                skip[size_t(excluded_items[e])] = 0;
        }
    });
}

}  // namespace rec::core
