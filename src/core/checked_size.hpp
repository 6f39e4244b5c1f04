// Size arithmetic that saturates at SIZE_MAX instead of wrapping, for memory estimates of
// user-chosen sizes (a factors argument of two billion must be refused, not wrap to a small number).
#pragma once
#include <cstddef>
#include <cstdint>

namespace rec::core {

inline size_t
sat_mul(size_t a, size_t b)
{
    size_t out;
    return __builtin_mul_overflow(a, b, &out) ? SIZE_MAX : out;
}

inline size_t
sat_add(size_t a, size_t b)
{
    size_t out;
    return __builtin_add_overflow(a, b, &out) ? SIZE_MAX : out;
}

}  // namespace rec::core
