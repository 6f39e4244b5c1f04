// Re-ranking a scored list for a page: maximal marginal relevance over item-factor cosine (Carbonell
// and Goldstein, SIGIR 1998) and caps on how many items of one group (a genre, a studio) are shown.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/topn.hpp"

namespace rec::core {

// The groups of each item, compressed: item i belongs to groups[offsets[i] .. offsets[i+1]).
struct ItemGroups
{
    std::vector<int64_t> offsets;  // items + 1
    std::vector<int32_t> groups;
    int32_t group_count = 0;
};

struct RerankOptions
{
    // 0: pure relevance; 1: each next item as unlike the ones chosen as possible.
    double diversity = 0;
    // At most per_group_limit items of any one group (0: no cap); an item of several groups counts
    // in each, an item of none is never capped.
    const ItemGroups *groups = nullptr;
    int per_group_limit = 0;

    bool active() const { return diversity > 0 || (groups != nullptr && per_group_limit > 0); }
};

// Up to n items of `pool` (best first), chosen greedily: each step takes the item maximising
// (1 - diversity) * relevance - diversity * (its largest cosine with an item already chosen), where
// relevance is the item's score scaled to [0, 1] over the pool, skipping items whose group is full.
// Equal values go to the better-scored item, so diversity 0 without caps returns the pool's first n.
// Scores returned are the items' own. `factors`: the model's items x k, row-major.
std::vector<Scored> rerank(const float *factors, int k, const std::vector<Scored> &pool, size_t n,
                           const RerankOptions &options);

// The mean cosine of the factors of every pair in `items` (0 for fewer than two): how alike a list is.
double mean_pairwise_cosine(const float *factors, int k, const std::vector<int32_t> &items);

}  // namespace rec::core
