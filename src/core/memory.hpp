// What a training run holds in memory, counted as it allocates its large arrays, against a budget
// (rec.max_memory): work that would need more is refused before the allocation that would exceed it,
// and the peak is known, not guessed. Only the arrays that grow with the data are counted (rows,
// indexes, the compressed copies, the id maps, factors, per-thread scratch); the rest is small.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace rec::core {

struct MemoryLimitExceeded : std::runtime_error
{
    MemoryLimitExceeded(const std::string &what, size_t needed, size_t limit);
    size_t needed, limit;  // bytes
};

class MemoryBudget
{
public:
    explicit MemoryBudget(size_t limit) : limit_(limit) {}

    // Counts `bytes` more, or throws MemoryLimitExceeded naming `what` if that exceeds the limit.
    void take(size_t bytes, const char *what);
    void give(size_t bytes) { used_ -= bytes < used_ ? bytes : used_; }

    size_t used() const { return used_; }
    size_t peak() const { return peak_; }
    size_t limit() const { return limit_; }

private:
    size_t limit_;
    size_t used_ = 0;
    size_t peak_ = 0;
};

// An unlimited budget, for callers that do not count.
inline MemoryBudget &
unlimited_budget()
{
    thread_local MemoryBudget budget(static_cast<size_t>(-1));
    return budget;
}

}  // namespace rec::core
