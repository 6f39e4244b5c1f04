#include "pg/settings.hpp"
#include "pg/postgres_headers.hpp"

#include <unistd.h>

#include "core/parallel.hpp"

namespace rec::pg {

namespace {
int threads_setting = 0;
int max_memory_kb = -1;  // half of the machine's memory
}  // namespace

void
define_settings()
{
    DefineCustomIntVariable("rec.threads", "Number of threads used to train a model.",
                            "0 (the default) uses every core of the machine.", &threads_setting, 0, 0, 1024,
                            PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rec.max_memory", "Most memory one training run may use.",
                            "Training counts the memory of its large arrays as it allocates them and stops with an "
                            "error before exceeding this. -1 (the default) is half of the machine's memory.",
                            &max_memory_kb, -1, -1, INT_MAX, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
}

int
training_threads()
{
    return rec::core::resolve_threads(threads_setting);
}

size_t
memory_budget_bytes()
{
    if (max_memory_kb >= 0)
        return size_t(max_memory_kb) * 1024;
    // Half of the machine: room for shared buffers, the other sessions and the page cache.
    static const size_t half = size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE)) / 2;
    return half;
}

}  // namespace rec::pg
