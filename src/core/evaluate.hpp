// Held-out evaluation of a factor model.
//
// Ranking metrics at k follow the `implicit` library's ranking_metrics_at_k: for each user with
// training data and at least one positive test item, the top k items are ranked with the user's
// training items left out; then
//   precision = Σ hits / Σ min(k, positives)                      (over all evaluated users)
//   recall    = mean of hits / positives
//   map       = mean of (Σ_{hit at rank i} hits so far / i) / min(k, positives)
//   ndcg      = mean of (Σ_{hit at rank i} 1 / log2(i + 1)) / (Σ_{i ≤ min(k, positives)} 1 / log2(i + 1))
//   auc       = mean of the AUC of the top-k list, counting every item outside it as ranked below it,
//               tied with the remaining positives (implicit's "limited AUC")
//   coverage  = distinct items in anyone's top k / catalogue size
// (ranks i start at 1). Test items the model never saw count as positives that can never be ranked.
//
// Beyond accuracy, over the same top-k lists, with n_i an item's training interactions and U the
// training users (given item_counts):
//   novelty        = mean over recommended slots of −log2(max(n_i, 1) / U)   (self-information; Zhou
//                    et al., PNAS 2010)
//   popularity     = mean over users of the mean n_i of their list   (average recommendation
//                    popularity, ARP; Abdollahpouri et al., 2019)
//   long_tail      = share of recommended slots outside the head: the most interacted items that
//                    together hold 80% of the training interactions
//   exposure_gini  = Gini coefficient of how often each catalogue item is recommended (items never
//                    recommended count 0; 0 equal exposure, towards 1 a few items get all)
//   diversity      = mean over users (lists of two or more) of the mean pairwise cosine distance
//                    1 − cos(q_i, q_j) of the list's item factors (intra-list diversity; Ziegler et
//                    al., WWW 2005)
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/factor_model.hpp"
#include "core/parallel.hpp"
#include "core/recommender.hpp"

namespace rec::core {

// Positive test items per model user (dense indexes; -1 for an item the model never saw).
struct TestPositives
{
    std::vector<size_t> offsets;  // users + 1
    std::vector<int32_t> items;
};

// Groups test rows by user: row r is a positive of dense user user_of[r] (-1: left out), for dense item
// item_of[r] (-1: an item the model never saw).
TestPositives group_positives(size_t users, const int64_t *user_of, const int32_t *item_of, size_t count);

struct RankingMetrics
{
    double precision = 0, recall = 0, map = 0, ndcg = 0, auc = 0, coverage = 0;
    double novelty = 0, popularity = 0, long_tail = 0, exposure_gini = 0, diversity = 0;  // with item_counts
    size_t users = 0;                                                                     // users evaluated
};

// Each user's training items, left out of the ranking: items[offsets[u] .. offsets[u+1]).
struct SeenItemsView
{
    const int64_t *offsets = nullptr;  // users + 1
    const int32_t *items = nullptr;
};

// item_counts (each item's training interactions) may be null: no beyond-accuracy metrics. Each user's
// training items (model.seen) are left out of their ranking. Item-item models have no item factors:
// their diversity is NaN.
RankingMetrics ranking_metrics(const Recommender &model, const TestPositives &test, int k, int threads,
                               HostHooks &hooks, const int32_t *item_counts = nullptr);
// A factor model with its users' training items.
RankingMetrics ranking_metrics(const FactorModelView &model, const SeenItemsView &seen, const TestPositives &test,
                               int k, int threads, HostHooks &hooks, const int32_t *item_counts = nullptr);

}  // namespace rec::core
