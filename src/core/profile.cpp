#include "core/profile.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/pure_cpp.hpp"

namespace rec::core {

double
gini(std::vector<double> counts)
{
    if (counts.size() < 2)
        return 0;
    std::sort(counts.begin(), counts.end());
    double total = 0, weighted = 0;
    for (size_t i = 0; i < counts.size(); ++i)
    {
        total += counts[i];
        weighted += double(i + 1) * counts[i];
    }
    if (total <= 0)
        return 0;
    const double n = double(counts.size());
    // G = Σ (2i − n − 1) x_(i) / (n Σ x), i = 1..n in ascending order.
    return (2.0 * weighted - (n + 1.0) * total) / (n * total);
}

Profile
profile_interactions(const ProfileInput &in, HostHooks &hooks)
{
    hooks.poll();
    Profile out;
    ProfileCounts &p = out.counts;
    p.rows = in.count;
    // Interactions per user and item, and distinct pairs.
    std::unordered_map<int64_t, size_t> per_user, per_item;
    per_user.reserve(in.count / 16 + 16);
    per_item.reserve(in.count / 16 + 16);
    std::vector<std::pair<int64_t, int64_t>> pairs(in.count);
    for (size_t r = 0; r < in.count; ++r)
    {
        ++per_user[in.users[r]];
        ++per_item[in.items[r]];
        pairs[r] = {in.users[r], in.items[r]};
    }
    p.users = per_user.size();
    p.items = per_item.size();
    hooks.poll();
    std::sort(pairs.begin(), pairs.end());
    const size_t distinct = size_t(std::unique(pairs.begin(), pairs.end()) - pairs.begin());
    p.duplicate_rows = in.count - distinct;
    p.density = p.users && p.items ? double(distinct) / (double(p.users) * double(p.items)) : 0;

    // Values: the histogram of distinct values, the common range and the rare values outside it.
    std::vector<float> finite;
    finite.reserve(in.count);
    for (size_t r = 0; r < in.count; ++r)
    {
        if (std::isfinite(in.values[r]))
            finite.push_back(in.values[r]);
        else
            ++p.non_finite;
    }
    hooks.poll();
    std::sort(finite.begin(), finite.end());
    if (!finite.empty())
    {
        p.value_min = finite.front();
        p.value_max = finite.back();
        const auto quantile = [&](double q) {
            return finite[size_t(q * double(finite.size() - 1))];
        };
        p.common_low = quantile(0.0005);
        p.common_high = quantile(0.9995);
        std::vector<CountedValue> distinct_values;
        for (size_t i = 0; i < finite.size();)
        {
            size_t j = i;
            while (j < finite.size() && finite[j] == finite[i])
                ++j;
            distinct_values.push_back({finite[i], j - i});
            i = j;
        }
        p.continuous = distinct_values.size() > 32;
        if (!p.continuous)
            out.histogram = distinct_values;
        const double rare = 0.001 * double(finite.size());
        for (const CountedValue &v : distinct_values)
            if ((v.value < p.common_low || v.value > p.common_high) && double(v.rows) < rare)
            {
                p.out_of_range += v.rows;
                if (out.out_of_range_values.size() < 10)
                    out.out_of_range_values.push_back(v);
            }
    }

    hooks.poll();
    // Sparse users and items; heavy users.
    std::vector<double> user_counts, item_counts;
    user_counts.reserve(per_user.size());
    item_counts.reserve(per_item.size());
    for (const auto &[user, n] : per_user)
    {
        user_counts.push_back(double(n));
        p.users_below += n < kSparseLimit;
    }
    for (const auto &[item, n] : per_item)
    {
        item_counts.push_back(double(n));
        p.items_below += n < kSparseLimit;
    }
    p.item_gini = gini(item_counts);
    if (!user_counts.empty())
    {
        std::vector<double> sorted = user_counts;
        std::sort(sorted.begin(), sorted.end());
        const size_t mid = sorted.size() / 2;
        p.median_user_interactions = sorted.size() % 2 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
        const double top = sorted[size_t(0.999 * double(sorted.size() - 1))];
        for (const auto &[user, n] : per_user)
            if (double(n) > 50.0 * p.median_user_interactions && double(n) >= top)
                out.bots.push_back({user, n, 0});
    }

    // Times: span, future rows, bursts (many interactions of one user at one timestamp).
    if (in.times && in.count > 0)
    {
        p.time_min = p.time_max = in.times[0];
        std::vector<std::pair<int64_t, double>> user_times(in.count);
        for (size_t r = 0; r < in.count; ++r)
        {
            p.time_min = std::min(p.time_min, in.times[r]);
            p.time_max = std::max(p.time_max, in.times[r]);
            p.future += in.times[r] > in.now;
            user_times[r] = {in.users[r], in.times[r]};
        }
        hooks.poll();
        std::sort(user_times.begin(), user_times.end());
        for (size_t i = 0; i < user_times.size();)
        {
            size_t j = i, best = 0;
            while (j < user_times.size() && user_times[j].first == user_times[i].first)
            {
                size_t k = j;
                while (k < user_times.size() && user_times[k] == user_times[j])
                    ++k;
                best = std::max(best, k - j);
                j = k;
            }
            if (best > kBurstLimit)
                out.bursts.push_back({user_times[i].first, j - i, best});
            i = j;
        }
        for (ActiveUser &bot : out.bots)
            for (const ActiveUser &burst : out.bursts)
                if (burst.user == bot.user)
                    bot.at_one_time = burst.at_one_time;
    }
    const auto by_activity = [](const ActiveUser &a, const ActiveUser &b) {
        return a.interactions > b.interactions || (a.interactions == b.interactions && a.user < b.user);
    };
    std::sort(out.bots.begin(), out.bots.end(), by_activity);
    std::sort(out.bursts.begin(), out.bursts.end(), by_activity);
    return out;
}

}  // namespace rec::core
