// The statistics of online metrics and A/B tests (rec.online_metrics, rec.compare_versions): 95%
// intervals of a proportion (Wilson score, which stays inside [0, 1] and behaves with few clicks) and
// of a mean (normal approximation), and the two-proportion z-test of a challenger's CTR against the
// served version's. Plain values in, plain values out.
#pragma once
#include <cstdint>

namespace rec::core {

constexpr double kZ95 = 1.959963984540054;  // the standard normal's 97.5th percentile

struct Interval
{
    double estimate, low, high;  // NaN when there is nothing to estimate from (n = 0)
};

// The proportion successes / n and its Wilson score interval (Wilson 1927; Agresti & Coull 1998).
Interval proportion_interval(int64_t successes, int64_t n, double z = kZ95);

// The mean of n values given their sum and sum of squares, and estimate ± z·s/√n (s the sample standard
// deviation; the interval is the estimate alone for n = 1).
Interval mean_interval(double sum, double sum_of_squares, int64_t n, double z = kZ95);

// Challenger (b) against served (a): the difference of proportions b − a with its unpooled 95%
// interval, and the two-sided p-value of the pooled two-proportion z-test.
struct ProportionTest
{
    Interval difference;
    double z, p_value;  // NaN when either side has n = 0 or no variation at all
};
ProportionTest two_proportion_test(int64_t successes_a, int64_t n_a, int64_t successes_b, int64_t n_b, double z = kZ95);

// The verdict of a test at level alpha: "challenger better", "challenger worse", "no significant
// difference", or "not enough data" while either side has fewer than min_events clicks or non-clicks
// (the normal approximation's usual condition, n·p ≥ 10 and n·(1−p) ≥ 10).
const char *verdict(const ProportionTest &test, int64_t successes_a, int64_t n_a, int64_t successes_b, int64_t n_b,
                    double alpha = 0.05, int64_t min_events = 10);

}  // namespace rec::core
