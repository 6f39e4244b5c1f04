#include "pg/settings.hpp"
#include "pg/postgres_headers.hpp"

#include "core/parallel.hpp"

namespace rec::pg {

namespace {
int threads_setting = 0;
int max_memory_kb = 2 * 1024 * 1024;  // 2 GB
}  // namespace

void
define_settings()
{
    DefineCustomIntVariable("rec.threads", "Number of threads used to train a model.",
                            "0 (the default) uses every core of the machine.", &threads_setting, 0, 0, 1024,
                            PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rec.max_memory", "Most memory one training run may use.",
                            "Training estimates its memory before allocating it and refuses to start above this.",
                            &max_memory_kb, 2 * 1024 * 1024, 1024, INT_MAX, PGC_USERSET, GUC_UNIT_KB, nullptr,
                            nullptr, nullptr);
}

int
training_threads()
{
    return rec::core::resolve_threads(threads_setting);
}

size_t
memory_budget_bytes()
{
    return size_t(max_memory_kb) * 1024;
}

}  // namespace rec::pg
