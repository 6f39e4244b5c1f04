// pg_recommend's configuration parameters (GUCs), all under the reserved prefix "rec.".
#pragma once
#include <cstddef>

namespace rec::pg {

void define_settings();

int training_threads();        // rec.threads resolved: 0 means every core
size_t memory_budget_bytes();  // rec.max_memory

}  // namespace rec::pg
