// The two products the implicit-ALS half-step spends its time in, over a block of gathered rows
// (row-major, n x k): chosen once at load time by the CPU's features, so one portable build runs
// AVX2/FMA or AVX-512 code where the CPU has it. The AVX2 versions are self-contained functions compiled with a
// target attribute (no templates or inline functions shared with portable code, which the linker could
// merge into an AVX2 copy used everywhere).
#pragma once
#include <cstddef>
#include <cstdint>

namespace rec::core {

struct RowKernels
{
    // out[j] = rows[j] · v, for j < n
    void (*rows_times_vector)(const float *rows, size_t n, int k, const float *v, float *out);
    // acc[f] += Σ_j rows[j][f] * w[j], for f < k
    void (*rows_transpose_times_vector)(const float *rows, size_t n, int k, const float *w, float *acc);
    // Both in one pass (a conjugate-gradient step): s[j] = offset + rows[j] · v, then
    // acc[f] += Σ_j w[j] * s[j] * rows[j][f] (w NULL: 1), for j < n
    void (*rows_gram_times_vector)(const float *rows, size_t n, int k, const float *v, float offset, const float *w,
                                   float *s, float *acc);
    // Many users against a block of items at once (batch scoring): scores[u * score_stride + j] =
    // users[u] · column j of columns, for u < n_users, j < n_columns. users: n_users x k, row-major;
    // columns: k x n_columns, row f at columns + f * column_stride (items transposed, so that one SIMD
    // register holds one factor of many items).
    void (*users_times_columns)(const float *users, size_t n_users, int k, const float *columns, size_t column_stride,
                                size_t n_columns, float *scores, size_t score_stride);
    // The first j < n with values[j] >= threshold (NaN never is), or n: the scan that picks the few
    // scores good enough for a top-n list out of many.
    size_t (*first_at_least)(const float *values, size_t n, float threshold);
    const char *name;
};

// Batch scoring at twice the multiply rate, in bfloat16 (AVX-512 BF16): each 32-bit word holds two
// bf16 factors (the lower-numbered one in the low half), so one instruction multiplies two factors.
// scores[u * score_stride + j] ≈ Σ_g user_words[u][g] · column_words[g][j] for g < pairs; the products
// are exact and summed in fp32, so the error is at most bf16_relative_error() · |user| · |item|
// (Euclidean norms of the unrounded vectors). Callers rescore candidates exactly.
struct Bf16BatchKernel
{
    void (*users_times_pair_columns)(const uint32_t *user_words, size_t n_users, int pairs,
                                     const uint32_t *column_words, size_t column_stride, size_t n_columns,
                                     float *scores, size_t score_stride);
    // One user against rows of bf16 pairs (row j at rows + j * pairs): out[j] ≈ Σ_g rows[j][g] · user_words[g],
    // within the same bound.
    void (*rows_times_pair_vector)(const uint32_t *rows, size_t n, int pairs, const uint32_t *user_words, float *out);
    const char *name;
};

// nullptr when this CPU lacks AVX-512 BF16.
const Bf16BatchKernel *bf16_batch_kernel();

// A float as bf16, rounded to nearest even (finite inputs).
inline uint32_t
bf16_bits(float x)
{
    uint32_t bits;
    __builtin_memcpy(&bits, &x, sizeof bits);
    return (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
}

// Two floats as one word of two bf16 values, each rounded to nearest even.
inline uint32_t
bf16_pair(float low, float high)
{
    return bf16_bits(low) | (bf16_bits(high) << 16);
}

// The bound c in |approximate − exact| <= c·|user|·|item| for bf16_batch_kernel's scores over `dims`
// factors: twice bf16's unit roundoff 2⁻⁸ for the two rounded operands (plus its square), and fp32
// summation of the dims products (unit roundoff 2⁻²⁴ each, with room to spare).
constexpr double
bf16_relative_error(int dims)
{
    return 2.0 / 256 + 1.0 / 65536 + double(dims) * 1.05 / 16777216;
}

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
