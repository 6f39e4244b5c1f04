#include "core/online_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rec::core {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

Interval
proportion_interval(int64_t successes, int64_t n, double z)
{
    if (n <= 0)
        return {kNaN, kNaN, kNaN};
    const double count = double(n), p = double(successes) / count, z2 = z * z;
    const double center = (p + z2 / (2 * count)) / (1 + z2 / count);
    const double half = z / (1 + z2 / count) * std::sqrt(p * (1 - p) / count + z2 / (4 * count * count));
    return {p, std::max(0.0, center - half), std::min(1.0, center + half)};
}

Interval
mean_interval(double sum, double sum_of_squares, int64_t n, double z)
{
    if (n <= 0)
        return {kNaN, kNaN, kNaN};
    const double count = double(n), mean = sum / count;
    if (n == 1)
        return {mean, mean, mean};
    const double variance = std::max(0.0, (sum_of_squares - count * mean * mean) / (count - 1));
    const double half = z * std::sqrt(variance / count);
    return {mean, mean - half, mean + half};
}

ProportionTest
two_proportion_test(int64_t successes_a, int64_t n_a, int64_t successes_b, int64_t n_b, double z)
{
    if (n_a <= 0 || n_b <= 0)
        return {{kNaN, kNaN, kNaN}, kNaN, kNaN};
    const double na = double(n_a), nb = double(n_b);
    const double pa = double(successes_a) / na, pb = double(successes_b) / nb, difference = pb - pa;
    const double unpooled = std::sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb);
    ProportionTest test{{difference, difference - z * unpooled, difference + z * unpooled}, kNaN, kNaN};
    const double pooled = double(successes_a + successes_b) / (na + nb);
    const double se = std::sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
    if (se > 0)
    {
        test.z = difference / se;
        test.p_value = std::erfc(std::fabs(test.z) / std::sqrt(2.0));  // two-sided: 2·(1 − Φ(|z|))
    }
    return test;
}

const char *
verdict(const ProportionTest &test, int64_t successes_a, int64_t n_a, int64_t successes_b, int64_t n_b, double alpha,
        int64_t min_events)
{
    if (std::min({successes_a, n_a - successes_a, successes_b, n_b - successes_b}) < min_events ||
        std::isnan(test.p_value))
        return "not enough data";
    if (test.p_value >= alpha)
        return "no significant difference";
    return test.difference.estimate > 0 ? "challenger better" : "challenger worse";
}

}  // namespace rec::core
