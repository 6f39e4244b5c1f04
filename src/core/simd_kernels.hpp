// The two products the implicit-ALS half-step spends its time in, over a block of gathered rows
// (row-major, n x k): chosen once at load time by the CPU's features, so one portable build runs
// AVX2/FMA code where the CPU has it. The AVX2 versions are self-contained functions compiled with a
// target attribute (no templates or inline functions shared with portable code, which the linker could
// merge into an AVX2 copy used everywhere).
#pragma once
#include <cstddef>

namespace rec::core {

struct RowKernels
{
    // out[j] = rows[j] · v, for j < n
    void (*rows_times_vector)(const float *rows, size_t n, int k, const float *v, float *out);
    // acc[f] += Σ_j rows[j][f] * w[j], for f < k
    void (*rows_transpose_times_vector)(const float *rows, size_t n, int k, const float *w, float *acc);
    const char *name;
};

const RowKernels &portable_kernels();
// nullptr when this CPU lacks AVX2 or FMA.
const RowKernels *avx2_kernels();
// The fastest set this CPU runs.
const RowKernels &best_kernels();

}  // namespace rec::core
