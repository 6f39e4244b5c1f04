// What a source of interactions looks like before training (rec.profile): sizes, duplicates, the
// value histogram and values out of the common range, sparse users and items, suspected bots and
// bursts, popularity concentration, and the time span. One pass over rows already read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/parallel.hpp"

namespace rec::core {

struct ProfileInput
{
    const int64_t *users = nullptr;
    const int64_t *items = nullptr;
    const float *values = nullptr;  // may hold NaN or ±Infinity: counted, left out of the value statistics
    const double *times = nullptr;  // seconds since 1970, or null
    size_t count = 0;
    double now = 0;  // for future timestamps, seconds since 1970
};

struct CountedValue
{
    float value;
    size_t rows;
};

struct ActiveUser
{
    int64_t user;
    size_t interactions;
    size_t at_one_time;  // the most interactions at one timestamp (0 without times)
};

// The figures of a profile (plain values).
struct ProfileCounts
{
    size_t rows = 0, users = 0, items = 0;
    double density = 0;         // distinct (user, item) pairs / (users x items)
    size_t duplicate_rows = 0;  // rows repeating an earlier (user, item) pair
    size_t non_finite = 0;      // NaN or infinite values
    bool continuous = false;    // more than 32 distinct values: no histogram
    float value_min = 0, value_max = 0;
    // The range holding the middle 99.9% of finite values (0.05% and 99.95% quantiles), and the rows
    // outside it when those are rare values (under 0.1% of rows each): typos, another scale.
    float common_low = 0, common_high = 0;
    size_t out_of_range = 0;
    size_t users_below = 0, items_below = 0;  // with fewer than kSparseLimit interactions
    double median_user_interactions = 0;
    double item_gini = 0;  // of interactions per item; 0 equal, towards 1 concentrated
    double time_min = 0, time_max = 0;
    size_t future = 0;  // rows with a time after `now`
};

struct Profile
{
    ProfileCounts counts;
    std::vector<CountedValue> histogram;            // the distinct finite values (at most 32)
    std::vector<CountedValue> out_of_range_values;  // the first 10 rare values outside the common range
    // Users with more than 50 times the median and in the top 0.1% of users by interactions.
    std::vector<ActiveUser> bots;
    // Users with more than kBurstLimit interactions at one timestamp.
    std::vector<ActiveUser> bursts;
};

constexpr size_t kSparseLimit = 5;
constexpr size_t kBurstLimit = 100;

// hooks.poll() is called between passes (each O(rows) or a sort: about a second on 10 M rows).
Profile profile_interactions(const ProfileInput &input, HostHooks &hooks);

// The Gini coefficient of non-negative counts (0 for fewer than two or all zero).
double gini(std::vector<double> counts);

}  // namespace rec::core
