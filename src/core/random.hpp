// Deterministic per-row random numbers: each factor row draws from its own stream, derived from the
// seed and the row's index only, so initial factors do not depend on the number of threads.
#pragma once
#include <cmath>
#include <cstdint>

namespace rec::core {

inline uint64_t
splitmix64(uint64_t &state)
{
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

class RowRandom
{
public:
    RowRandom(uint64_t seed, uint64_t stream, uint64_t row)
        : state_(seed ^ (stream * 0xd1b54a32d192ed03ULL) ^ (row * 0x8cb92ba72f3d8dd7ULL))
    {
        splitmix64(state_);
    }

    // Uniform in (0, 1), never 0 so that log() below is finite.
    double uniform() { return (double(splitmix64(state_) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

    // Standard normal by Box-Muller; written out rather than std::normal_distribution, whose output
    // differs between standard libraries.
    double normal()
    {
        const double two_pi = 6.283185307179586;
        return std::sqrt(-2.0 * std::log(uniform())) * std::cos(two_pi * uniform());
    }

private:
    uint64_t state_;
};

}  // namespace rec::core
