#include "core/rerank.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

// Unit-length copies of the pool's factor rows (a zero row stays zero: cosine 0 with everything).
std::vector<float>
unit_rows(const float *factors, int k, const std::vector<Scored> &pool)
{
    std::vector<float> out(pool.size() * size_t(k));
    for (size_t p = 0; p < pool.size(); ++p)
    {
        const float *row = factors + size_t(pool[p].item) * size_t(k);
        double norm = 0;
        for (int f = 0; f < k; ++f)
            norm += double(row[f]) * row[f];
        const float scale = norm > 0 ? float(1.0 / std::sqrt(norm)) : 0.0f;
        for (int f = 0; f < k; ++f)
            out[p * size_t(k) + size_t(f)] = row[f] * scale;
    }
    return out;
}

float
dot(const float *a, const float *b, int k)
{
    float sum = 0;
    for (int f = 0; f < k; ++f)
        sum += a[f] * b[f];
    return sum;
}

}  // namespace

std::vector<Scored>
rerank(const float *factors, int k, const std::vector<Scored> &pool, size_t n, const RerankOptions &options)
{
    std::vector<Scored> chosen;
    if (pool.empty() || n == 0)
        return chosen;
    const double lambda = std::clamp(options.diversity, 0.0, 1.0);
    const bool capped = options.groups != nullptr && options.per_group_limit > 0;
    float best = pool[0].score, worst = pool[0].score;
    for (const Scored &s : pool)
    {
        best = std::max(best, s.score);
        worst = std::min(worst, s.score);
    }
    const double range = double(best) - double(worst);
    std::vector<float> units = lambda > 0 ? unit_rows(factors, k, pool) : std::vector<float>();
    // Each pool item's largest cosine with a chosen item so far.
    std::vector<float> closest(pool.size(), -std::numeric_limits<float>::infinity());
    std::vector<uint8_t> taken(pool.size(), 0);
    std::vector<int32_t> group_counts(capped ? size_t(options.groups->group_count) : 0, 0);
    const auto fits = [&](int32_t item) {
        if (!capped)
            return true;
        const ItemGroups &g = *options.groups;
        for (int64_t e = g.offsets[size_t(item)]; e < g.offsets[size_t(item) + 1]; ++e)
            if (group_counts[size_t(g.groups[size_t(e)])] >= options.per_group_limit)
                return false;
        return true;
    };
    while (chosen.size() < n)
    {
        size_t pick = pool.size();
        double pick_value = -std::numeric_limits<double>::infinity();
        for (size_t p = 0; p < pool.size(); ++p)
        {
            if (taken[p] || !fits(pool[p].item))
                continue;
            const double relevance = range > 0 ? (double(pool[p].score) - double(worst)) / range : 1.0;
            const double similarity = chosen.empty() || lambda == 0 ? 0.0 : double(closest[p]);
            const double value = (1.0 - lambda) * relevance - lambda * similarity;
            if (value > pick_value)  // strict: equal values keep the earlier, better-scored item
            {
                pick = p;
                pick_value = value;
            }
            if (lambda == 0)
                break;  // the first that fits is the best
        }
        if (pick == pool.size())
            break;  // every remaining item is in a full group
        taken[pick] = 1;
        chosen.push_back(pool[pick]);
        if (capped)
        {
            const ItemGroups &g = *options.groups;
            const int32_t item = pool[pick].item;
            for (int64_t e = g.offsets[size_t(item)]; e < g.offsets[size_t(item) + 1]; ++e)
                ++group_counts[size_t(g.groups[size_t(e)])];
        }
        if (lambda > 0)
            for (size_t p = 0; p < pool.size(); ++p)
                if (!taken[p])
                    closest[p] = std::max(closest[p], dot(&units[p * size_t(k)], &units[pick * size_t(k)], k));
    }
    return chosen;
}

double
mean_pairwise_cosine(const float *factors, int k, const std::vector<int32_t> &items)
{
    if (items.size() < 2)
        return 0;
    std::vector<Scored> as_pool;
    for (int32_t i : items)
        as_pool.push_back(Scored{i, 0});
    const std::vector<float> units = unit_rows(factors, k, as_pool);
    double sum = 0;
    size_t pairs = 0;
    for (size_t a = 0; a < items.size(); ++a)
        for (size_t b = a + 1; b < items.size(); ++b, ++pairs)
            sum += dot(&units[a * size_t(k)], &units[b * size_t(k)], k);
    return sum / double(pairs);
}

}  // namespace rec::core
