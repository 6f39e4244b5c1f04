#include "core/simd_kernels.hpp"

#include <Eigen/Core>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define REC_HAVE_X86 1
#endif

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void
portable_rows_times_vector(const float *rows, size_t n, int k, const float *v, float *out)
{
    Eigen::Map<Eigen::VectorXf>(out, Eigen::Index(n)).noalias() =
        Eigen::Map<const RowMatrix>(rows, Eigen::Index(n), k) * Eigen::Map<const Eigen::VectorXf>(v, k);
}

void
portable_rows_transpose_times_vector(const float *rows, size_t n, int k, const float *w, float *acc)
{
    Eigen::Map<Eigen::VectorXf>(acc, k).noalias() +=
        Eigen::Map<const RowMatrix>(rows, Eigen::Index(n), k).transpose() * Eigen::Map<const Eigen::VectorXf>(w, Eigen::Index(n));
}

#ifdef REC_HAVE_X86

__attribute__((target("avx2,fma"))) float
horizontal_sum(__m256 x)
{
    const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_shuffle_ps(sum2, sum2, 1)));
}

__attribute__((target("avx2,fma"))) void
avx2_rows_times_vector(const float *rows, size_t n, int k, const float *v, float *out)
{
    const int vector_end = k & ~7;
    size_t j = 0;
    // Four rows at a time: four independent accumulators keep the FMA units busy.
    for (; j + 4 <= n; j += 4)
    {
        const float *r0 = rows + j * size_t(k), *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (int f = 0; f < vector_end; f += 8)
        {
            const __m256 x = _mm256_loadu_ps(v + f);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + f), x, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + f), x, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + f), x, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + f), x, a3);
        }
        float s0 = horizontal_sum(a0), s1 = horizontal_sum(a1), s2 = horizontal_sum(a2), s3 = horizontal_sum(a3);
        for (int f = vector_end; f < k; ++f)
        {
            s0 += r0[f] * v[f];
            s1 += r1[f] * v[f];
            s2 += r2[f] * v[f];
            s3 += r3[f] * v[f];
        }
        out[j] = s0;
        out[j + 1] = s1;
        out[j + 2] = s2;
        out[j + 3] = s3;
    }
    for (; j < n; ++j)
    {
        const float *r = rows + j * size_t(k);
        __m256 a = _mm256_setzero_ps();
        for (int f = 0; f < vector_end; f += 8)
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r + f), _mm256_loadu_ps(v + f), a);
        float s = horizontal_sum(a);
        for (int f = vector_end; f < k; ++f)
            s += r[f] * v[f];
        out[j] = s;
    }
}

__attribute__((target("avx2,fma"))) void
avx2_rows_transpose_times_vector(const float *rows, size_t n, int k, const float *w, float *acc)
{
    int f0 = 0;
    // 32 columns at a time in four registers, over all rows; the rows stay in cache between passes.
    for (; f0 + 32 <= k; f0 += 32)
    {
        __m256 a0 = _mm256_loadu_ps(acc + f0), a1 = _mm256_loadu_ps(acc + f0 + 8), a2 = _mm256_loadu_ps(acc + f0 + 16),
               a3 = _mm256_loadu_ps(acc + f0 + 24);
        for (size_t j = 0; j < n; ++j)
        {
            const float *r = rows + j * size_t(k) + f0;
            const __m256 weight = _mm256_set1_ps(w[j]);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r), weight, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 8), weight, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 16), weight, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 24), weight, a3);
        }
        _mm256_storeu_ps(acc + f0, a0);
        _mm256_storeu_ps(acc + f0 + 8, a1);
        _mm256_storeu_ps(acc + f0 + 16, a2);
        _mm256_storeu_ps(acc + f0 + 24, a3);
    }
    for (; f0 + 8 <= k; f0 += 8)
    {
        __m256 a = _mm256_loadu_ps(acc + f0);
        for (size_t j = 0; j < n; ++j)
            a = _mm256_fmadd_ps(_mm256_loadu_ps(rows + j * size_t(k) + f0), _mm256_set1_ps(w[j]), a);
        _mm256_storeu_ps(acc + f0, a);
    }
    for (; f0 < k; ++f0)
    {
        float a = acc[f0];
        for (size_t j = 0; j < n; ++j)
            a += rows[j * size_t(k) + size_t(f0)] * w[j];
        acc[f0] = a;
    }
}

const RowKernels kAvx2{avx2_rows_times_vector, avx2_rows_transpose_times_vector, "avx2+fma"};

#endif

const RowKernels kPortable{portable_rows_times_vector, portable_rows_transpose_times_vector, "portable"};

}  // namespace

const RowKernels &
portable_kernels()
{
    return kPortable;
}

const RowKernels *
avx2_kernels()
{
#ifdef REC_HAVE_X86
    static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return supported ? &kAvx2 : nullptr;
#else
    return nullptr;
#endif
}

const RowKernels &
best_kernels()
{
    static const RowKernels &best = avx2_kernels() ? *avx2_kernels() : portable_kernels();
    return best;
}

}  // namespace rec::core
