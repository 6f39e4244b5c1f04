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

}  // namespace rec::core
