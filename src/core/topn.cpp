#include "core/topn.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <limits>

#include "core/pure_cpp.hpp"

namespace rec::core {

std::vector<Scored>
top_n(const ItemFactorsView &items, const float *user, float offset, const int32_t *excluded,
      size_t excluded_count, size_t n)
{
    using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
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

    std::vector<char> skip(items.items, 0);
    for (size_t e = 0; e < excluded_count; ++e)
        if (excluded[e] >= 0 && size_t(excluded[e]) < items.items)
            skip[size_t(excluded[e])] = 1;

    std::vector<Scored> eligible;
    eligible.reserve(items.items);
    for (Eigen::Index i = 0; i < count; ++i)
        if (!skip[size_t(i)])
            eligible.push_back(Scored{int32_t(i), scores(i)});
    auto better = [](const Scored &a, const Scored &b) {
        return a.score > b.score || (a.score == b.score && a.item < b.item);
    };
    n = std::min(n, eligible.size());
    std::partial_sort(eligible.begin(), eligible.begin() + ptrdiff_t(n), eligible.end(), better);
    eligible.resize(n);
    return eligible;
}

}  // namespace rec::core
