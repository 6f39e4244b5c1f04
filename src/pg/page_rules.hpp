// The business rules of a page row, as serving functions take them: diversity (maximal marginal
// relevance, 0..1) and per-group caps from a table mapping items to groups, checked into the core's
// re-ranking options. PostgreSQL-style: errors are raised with ereport.
#pragma once
#include "pg/model_image.hpp"

#include <algorithm>
#include <vector>

#include "core/rerank.hpp"

namespace rec::pg {

// diversity, group_table and per_group_limit at these argument positions (beyond PG_NARGS, as from an
// older install script: no rules). Raises 22023 for diversity outside [0, 1], a per_group_limit below
// 1, or one of group_table and per_group_limit without the other; `function` names the SQL function.
// The group table is read (as the caller) once a minute per backend and model version.
rec::core::RerankOptions page_rules_arg(FunctionCallInfo fcinfo, int diversity_arg, int group_table_arg, int limit_arg,
                                        const ServedModel *m, const char *function);

// How many best items to re-rank for n rows first: enough for diversity to choose from.
size_t rerank_pool_size(size_t n, size_t items);

// The best n of a ranking with the rules applied: `ranked(count)` gives the best `count` eligible
// items, best first (a std::vector<Scored>). Without rules that is all; with them the best few are
// re-ranked, and more when caps left that pool short of n. Pure C++.
template <typename Ranked>
std::vector<rec::core::Scored>
best_with_rules(const ServedModel *m, size_t n, const rec::core::RerankOptions &rules, Ranked &&ranked)
{
    if (!rules.active())
        return ranked(n);
    // Caps can skip most of a pool (items have several genres): a short result re-ranks a pool four
    // times larger, until n are found or every eligible item was offered.
    const size_t items = size_t(m->n_items);
    for (size_t pool = rerank_pool_size(n, items);; pool = std::min(items, pool * 4))
    {
        const std::vector<rec::core::Scored> best = ranked(pool);
        std::vector<rec::core::Scored> out = rec::core::rerank(m->model.item_factors, m->model.k, best, n, rules);
        if (out.size() >= n || best.size() < pool || pool >= items)
            return out;
    }
}

}  // namespace rec::pg
