// The two products the implicit-ALS half-step spends its time in, over a block of gathered rows
// (row-major, n x k): chosen once at load time by the CPU's features, so one portable build runs
// AVX2/FMA or AVX-512 code where the CPU has it. The AVX2 versions are self-contained functions compiled with a
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
    // Many users against a block of items at once (batch scoring): scores[u * score_stride + j] =
    // users[u] · column j of columns, for u < n_users, j < n_columns. users: n_users x k, row-major;
    // columns: k x n_columns, row f at columns + f * column_stride (items transposed, so that one SIMD
    // register holds one factor of many items).
    void (*users_times_columns)(const float *users, size_t n_users, int k, const float *columns,
                                size_t column_stride, size_t n_columns, float *scores, size_t score_stride);
    // The first j < n with values[j] >= threshold (NaN never is), or n: the scan that picks the few
    // scores good enough for a top-n list out of many.
    size_t (*first_at_least)(const float *values, size_t n, float threshold);
    const char *name;
};

const RowKernels &portable_kernels();
// nullptr when this CPU lacks AVX2 or FMA.
const RowKernels *avx2_kernels();
// nullptr when this CPU lacks AVX-512F (or AVX2/FMA).
const RowKernels *avx512_kernels();
// The set training uses: AVX2/FMA where present. (Kept apart from scoring so that trained factors do
// not depend on whether the CPU has AVX-512.)
const RowKernels &best_kernels();
// The set top-N scoring uses: the widest this CPU runs.
const RowKernels &best_scoring_kernels();

}  // namespace rec::core
