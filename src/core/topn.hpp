// Exact top-N scoring of one user against every item: score = offset + item_bias + userᵀ item.
// Excluded items are removed before selection, so n results come back whenever n eligible items exist.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rec::core {

struct ItemFactorsView
{
    const float *factors = nullptr;  // items x k, row-major
    const float *bias = nullptr;     // may be null
    size_t items = 0;
    int k = 0;
};

struct Scored
{
    int32_t item;  // dense item index
    float score;
};

// `excluded` lists dense item indexes (any order, duplicates allowed). Ties are broken by the lower
// item index, so results are deterministic.
std::vector<Scored> top_n(const ItemFactorsView &items, const float *user, float offset,
                          const int32_t *excluded, size_t excluded_count, size_t n);

}  // namespace rec::core
