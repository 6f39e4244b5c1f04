#include "core/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/profile.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

struct UserScore
{
    double hits = 0, positives = 0, recall = 0, ap = 0, ndcg = 0, auc = 0;
    bool evaluated = false;
};

// The beyond-accuracy metrics of the evaluated users' lists (see evaluate.hpp), in user order.
void
beyond_accuracy(const FactorModelView &model, const std::vector<std::vector<int32_t>> &tops, const int32_t *item_counts,
                RankingMetrics &m)
{
    const size_t catalogue = model.items, k = size_t(model.k);
    const double users = double(std::max<size_t>(model.users, 1));
    // The head: most interacted items holding 80% of the interactions.
    std::vector<int32_t> order(catalogue);
    double total = 0;
    for (size_t i = 0; i < catalogue; ++i)
    {
        order[i] = int32_t(i);
        total += double(item_counts[i]);
    }
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return item_counts[a] > item_counts[b] || (item_counts[a] == item_counts[b] && a < b);
    });
    std::vector<uint8_t> head(catalogue, 0);
    double cumulative = 0;
    for (int32_t i : order)
    {
        if (cumulative >= 0.8 * total)
            break;
        head[size_t(i)] = 1;
        cumulative += double(item_counts[i]);
    }
    std::vector<double> exposure(catalogue, 0.0);
    std::vector<double> norms(catalogue, -1.0);
    const auto norm = [&](int32_t i) {
        if (norms[size_t(i)] < 0)
        {
            double sum = 0;
            for (size_t f = 0; f < k; ++f)
                sum += double(model.item_factors[size_t(i) * k + f]) * model.item_factors[size_t(i) * k + f];
            norms[size_t(i)] = std::sqrt(sum);
        }
        return norms[size_t(i)];
    };
    double slots = 0, novelty = 0, popularity = 0, tail = 0, diversity = 0;
    size_t lists = 0, diverse_lists = 0;
    for (const std::vector<int32_t> &list : tops)
    {
        if (list.empty())
            continue;
        ++lists;
        double list_popularity = 0;
        for (int32_t i : list)
        {
            slots += 1;
            novelty += -std::log2(std::max(double(item_counts[i]), 1.0) / users);
            list_popularity += double(item_counts[i]);
            tail += head[size_t(i)] ? 0.0 : 1.0;
            exposure[size_t(i)] += 1;
        }
        popularity += list_popularity / double(list.size());
        if (list.size() < 2)
            continue;
        double distance = 0, pairs = 0;
        for (size_t a = 0; a < list.size(); ++a)
            for (size_t b = a + 1; b < list.size(); ++b, pairs += 1)
            {
                double dot = 0;
                for (size_t f = 0; f < k; ++f)
                    dot += double(model.item_factors[size_t(list[a]) * k + f]) *
                           model.item_factors[size_t(list[b]) * k + f];
                const double denominator = norm(list[a]) * norm(list[b]);
                distance += 1.0 - (denominator > 0 ? dot / denominator : 0.0);
            }
        diversity += distance / pairs;
        ++diverse_lists;
    }
    if (lists == 0)
        return;
    m.novelty = novelty / slots;
    m.popularity = popularity / double(lists);
    m.long_tail = tail / slots;
    m.exposure_gini = gini(exposure);
    // Without item factors (item-item models) there is no cosine to measure lists by.
    m.diversity = k == 0 ? std::nan("") : diverse_lists ? diversity / double(diverse_lists) : 0.0;
}

}  // namespace

TestPositives
group_positives(size_t users, const int64_t *user_of, const int32_t *item_of, size_t count)
{
    TestPositives positives;
    positives.offsets.assign(users + 1, 0);
    for (size_t r = 0; r < count; ++r)
        if (user_of[r] >= 0)
            ++positives.offsets[size_t(user_of[r]) + 1];
    for (size_t u = 0; u < users; ++u)
        positives.offsets[u + 1] += positives.offsets[u];
    positives.items.resize(positives.offsets[users]);
    std::vector<size_t> next(positives.offsets.begin(), positives.offsets.end() - 1);
    for (size_t r = 0; r < count; ++r)
        if (user_of[r] >= 0)
            positives.items[next[size_t(user_of[r])]++] = item_of[r];
    return positives;
}

RankingMetrics
ranking_metrics(const FactorModelView &model, const SeenItemsView &seen, const TestPositives &test, int k, int threads,
                HostHooks &hooks, const int32_t *item_counts)
{
    Recommender recommender;
    recommender.factors = model;
    recommender.seen = {seen.offsets, seen.items, nullptr};
    return ranking_metrics(recommender, test, k, threads, hooks, item_counts);
}

RankingMetrics
ranking_metrics(const Recommender &recommender, const TestPositives &test, int k, int threads, HostHooks &hooks,
                const int32_t *item_counts)
{
    const FactorModelView &model = recommender.factors;
    const UserItemsView &seen = recommender.seen;
    if (k < 1)
        throw std::invalid_argument("k must be at least 1");
    threads = resolve_threads(threads);
    const size_t users = model.users;
    const size_t catalogue = model.items;
    std::vector<UserScore> scores(users);
    std::vector<std::vector<int32_t>> tops(users);
    // Hits happen only within the catalogue, and a cutoff never exceeds a user's positives (catalogue
    // items): the gains are needed up to min(k, catalogue), whatever k is (a k of 2^31 must not
    // allocate 16 GB; the garden test found it).
    const size_t gains = std::min(size_t(k), catalogue);
    std::vector<double> gain(gains + 1, 0.0), ideal(gains + 1, 0.0);
    for (size_t i = 1; i <= gains; ++i)
    {
        gain[i] = 1.0 / std::log2(double(i) + 1.0);
        ideal[i] = ideal[i - 1] + gain[i];
    }
    std::vector<double> costs(users);
    for (size_t u = 0; u < users; ++u)
        costs[u] = test.offsets[u + 1] > test.offsets[u]
                       ? double(catalogue) * (model.k + 2 + (recommender.item_item() ? double(seen.of(u).count) : 0))
                       : 1.0;
    const auto bounds = chunk_boundaries(costs, 5.0e7 * threads);
    parallel_rows(bounds, threads, hooks, [&](size_t u, int) {
        const size_t t_begin = test.offsets[u], t_end = test.offsets[u + 1];
        const size_t seen_count = size_t(seen.offsets[u + 1] - seen.offsets[u]);
        if (t_begin == t_end || seen_count == 0)
            return;
        std::vector<int32_t> positives(test.items.begin() + ptrdiff_t(t_begin), test.items.begin() + ptrdiff_t(t_end));
        std::sort(positives.begin(), positives.end());
        positives.erase(std::unique(positives.begin(), positives.end()), positives.end());
        const auto best = recommender.rank_for_user(u, {seen.items + seen.offsets[u], seen_count}, size_t(k));
        UserScore &s = scores[u];
        s.evaluated = true;
        s.positives = double(positives.size());
        const double cutoff = std::min(double(k), s.positives);
        double hits = 0, misses = 0, auc = 0;
        const size_t ranked = std::min(size_t(k), best.size());
        for (size_t rank = 0; rank < ranked; ++rank)
        {
            const bool hit = std::binary_search(positives.begin(), positives.end(), best[rank].item);
            if (hit)
            {
                hits += 1;
                s.ap += hits / double(rank + 1);
                s.ndcg += gain[rank + 1];
            }
            else
            {
                misses += 1;
                auc += hits;
            }
        }
        // Ranks beyond the items there were to rank count as misses, in one step.
        const double unfilled = double(size_t(k) - ranked);
        misses += unfilled;
        auc += hits * unfilled;
        const double negatives = double(catalogue) - s.positives;
        auc += ((hits + s.positives) / 2.0) * (negatives - misses);
        s.auc = negatives > 0 ? auc / (s.positives * negatives) : 1.0;
        s.hits = hits;
        s.recall = hits / s.positives;
        s.ap /= cutoff;
        s.ndcg /= ideal[size_t(cutoff)];
        tops[u].reserve(best.size());
        for (const Scored &b : best)
            tops[u].push_back(b.item);
    });
    RankingMetrics m;
    double hits = 0, divisor = 0;
    std::vector<char> shown(catalogue, 0);
    for (size_t u = 0; u < users; ++u)
    {
        const UserScore &s = scores[u];
        if (!s.evaluated)
            continue;
        ++m.users;
        hits += s.hits;
        divisor += std::min(double(k), s.positives);
        m.recall += s.recall;
        m.map += s.ap;
        m.ndcg += s.ndcg;
        m.auc += s.auc;
        for (int32_t item : tops[u])
            shown[size_t(item)] = 1;
    }
    if (m.users == 0)
        return m;
    m.precision = hits / divisor;
    m.recall /= double(m.users);
    m.map /= double(m.users);
    m.ndcg /= double(m.users);
    m.auc /= double(m.users);
    size_t covered = 0;
    for (char c : shown)
        covered += size_t(c);
    m.coverage = catalogue ? double(covered) / double(catalogue) : 0.0;
    if (item_counts)
        beyond_accuracy(model, tops, item_counts, m);
    return m;
}

}  // namespace rec::core
