#include "core/memory.hpp"

#include "core/checked_size.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

MemoryLimitExceeded::MemoryLimitExceeded(const std::string &what, size_t needed_bytes, size_t limit_bytes)
    : std::runtime_error(what + " needs about " + std::to_string((needed_bytes + (1 << 20) - 1) >> 20) +
                         " MB, more than rec.max_memory (" + std::to_string(limit_bytes >> 20) + " MB)"),
      needed(needed_bytes), limit(limit_bytes)
{}

void
MemoryBudget::take(size_t bytes, const char *what)
{
    const size_t total = sat_add(used_, bytes);
    if (total > limit_)
        throw MemoryLimitExceeded(what, total, limit_);
    used_ = total;
    if (used_ > peak_)
        peak_ = used_;
}

}  // namespace rec::core
