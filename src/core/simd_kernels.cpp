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
    Eigen::Map<Eigen::VectorXf>(acc, k).noalias() += Eigen::Map<const RowMatrix>(rows, Eigen::Index(n), k).transpose() *
                                                     Eigen::Map<const Eigen::VectorXf>(w, Eigen::Index(n));
}

void
portable_users_times_columns(const float *users, size_t n_users, int k, const float *columns, size_t column_stride,
                             size_t n_columns, float *scores, size_t score_stride)
{
    using Strided = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
    Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>(scores, Eigen::Index(n_users), Eigen::Index(n_columns),
                                                   Eigen::OuterStride<>(Eigen::Index(score_stride)))
        .noalias() = Eigen::Map<const RowMatrix>(users, Eigen::Index(n_users), k) *
                     Strided(columns, k, Eigen::Index(n_columns), Eigen::OuterStride<>(Eigen::Index(column_stride)));
}

size_t
portable_first_at_least(const float *values, size_t n, float threshold)
{
    for (size_t j = 0; j < n; ++j)
        if (values[j] >= threshold)
            return j;
    return n;
}

void
portable_rows_gram_times_vector(const float *rows, size_t n, int k, const float *v, float offset, const float *w,
                                float *s, float *acc)
{
    for (size_t j = 0; j < n; ++j)
    {
        const float *r = rows + j * size_t(k);
        float dot = 0;
        for (int f = 0; f < k; ++f)
            dot += r[f] * v[f];
        s[j] = offset + dot;
        const float c = w ? w[j] * s[j] : s[j];
        for (int f = 0; f < k; ++f)
            acc[f] += c * r[f];
    }
}

#ifdef REC_HAVE_X86

__attribute__((target("avx2,fma"))) float
horizontal_sum(__m256 x)
{
    const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_shuffle_ps(sum2, sum2, 1)));
}

// Dot products of four consecutive rows (row stride k) with v, into d[0..3]: four independent
// accumulators keep the FMA units busy.
__attribute__((target("avx2,fma"))) inline void
avx2_four_dots(const float *r0, int k, const float *v, float *d)
{
    const int vector_end = k & ~7;
    const float *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int f = 0; f < vector_end; f += 8)
    {
        const __m256 x = _mm256_loadu_ps(v + f);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + f), x, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + f), x, a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + f), x, a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + f), x, a3);
    }
    d[0] = horizontal_sum(a0);
    d[1] = horizontal_sum(a1);
    d[2] = horizontal_sum(a2);
    d[3] = horizontal_sum(a3);
    for (int f = vector_end; f < k; ++f)
    {
        d[0] += r0[f] * v[f];
        d[1] += r1[f] * v[f];
        d[2] += r2[f] * v[f];
        d[3] += r3[f] * v[f];
    }
}

__attribute__((target("avx2,fma"))) inline float
avx2_dot(const float *r, int k, const float *v)
{
    const int vector_end = k & ~7;
    __m256 a = _mm256_setzero_ps();
    for (int f = 0; f < vector_end; f += 8)
        a = _mm256_fmadd_ps(_mm256_loadu_ps(r + f), _mm256_loadu_ps(v + f), a);
    float d = horizontal_sum(a);
    for (int f = vector_end; f < k; ++f)
        d += r[f] * v[f];
    return d;
}

__attribute__((target("avx2,fma"))) void
avx2_rows_times_vector(const float *rows, size_t n, int k, const float *v, float *out)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        avx2_four_dots(rows + j * size_t(k), k, v, out + j);
    for (; j < n; ++j)
        out[j] = avx2_dot(rows + j * size_t(k), k, v);
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

// Four users x sixteen items per step: eight accumulators, each factor costs two loads, four
// broadcasts and eight FMAs. Leftover items are computed one at a time.
__attribute__((target("avx2,fma"))) void
avx2_users_times_columns(const float *users, size_t n_users, int k, const float *columns, size_t column_stride,
                         size_t n_columns, float *scores, size_t score_stride)
{
    const size_t vector_end = n_columns & ~size_t(15);
    size_t u = 0;
    for (; u + 4 <= n_users; u += 4)
    {
        const float *p0 = users + u * size_t(k), *p1 = p0 + k, *p2 = p1 + k, *p3 = p2 + k;
        float *s0 = scores + u * score_stride, *s1 = s0 + score_stride, *s2 = s1 + score_stride,
              *s3 = s2 + score_stride;
        for (size_t j = 0; j < vector_end; j += 16)
        {
            __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a10 = _mm256_setzero_ps(),
                   a11 = _mm256_setzero_ps(), a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(),
                   a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
            for (int f = 0; f < k; ++f)
            {
                const float *c = columns + size_t(f) * column_stride + j;
                const __m256 c0 = _mm256_loadu_ps(c), c1 = _mm256_loadu_ps(c + 8);
                __m256 b = _mm256_set1_ps(p0[f]);
                a00 = _mm256_fmadd_ps(b, c0, a00);
                a01 = _mm256_fmadd_ps(b, c1, a01);
                b = _mm256_set1_ps(p1[f]);
                a10 = _mm256_fmadd_ps(b, c0, a10);
                a11 = _mm256_fmadd_ps(b, c1, a11);
                b = _mm256_set1_ps(p2[f]);
                a20 = _mm256_fmadd_ps(b, c0, a20);
                a21 = _mm256_fmadd_ps(b, c1, a21);
                b = _mm256_set1_ps(p3[f]);
                a30 = _mm256_fmadd_ps(b, c0, a30);
                a31 = _mm256_fmadd_ps(b, c1, a31);
            }
            _mm256_storeu_ps(s0 + j, a00);
            _mm256_storeu_ps(s0 + j + 8, a01);
            _mm256_storeu_ps(s1 + j, a10);
            _mm256_storeu_ps(s1 + j + 8, a11);
            _mm256_storeu_ps(s2 + j, a20);
            _mm256_storeu_ps(s2 + j + 8, a21);
            _mm256_storeu_ps(s3 + j, a30);
            _mm256_storeu_ps(s3 + j + 8, a31);
        }
    }
    // Leftover users: every item; leftover items of the users above.
    for (size_t v = 0; v < n_users; ++v)
        for (size_t j = v < u ? vector_end : 0; j < n_columns; ++j)
        {
            float sum = 0;
            for (int f = 0; f < k; ++f)
                sum += users[v * size_t(k) + size_t(f)] * columns[size_t(f) * column_stride + j];
            scores[v * score_stride + j] = sum;
        }
}

__attribute__((target("avx2,fma"))) size_t
avx2_first_at_least(const float *values, size_t n, float threshold)
{
    const __m256 t = _mm256_set1_ps(threshold);
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
    {
        const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(values + j), t, _CMP_GE_OQ));
        if (mask)
            return j + size_t(__builtin_ctz(unsigned(mask)));
    }
    for (; j < n; ++j)
        if (values[j] >= threshold)
            return j;
    return n;
}

// Both products of a CG step in one pass: four rows at a time, their dot products with v, then (while
// the rows are still in L1) their weighted sum into acc.
__attribute__((target("avx2,fma"))) void
avx2_rows_gram_times_vector(const float *rows, size_t n, int k, const float *v, float offset, const float *w, float *s,
                            float *acc)
{
    const int vector_end = k & ~7;
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
    {
        const float *r0 = rows + j * size_t(k), *r1 = r0 + k, *r2 = r1 + k, *r3 = r2 + k;
        avx2_four_dots(r0, k, v, s + j);
        for (int e = 0; e < 4; ++e)
            s[j + e] += offset;
        const float c0 = w ? w[j] * s[j] : s[j], c1 = w ? w[j + 1] * s[j + 1] : s[j + 1],
                    c2 = w ? w[j + 2] * s[j + 2] : s[j + 2], c3 = w ? w[j + 3] * s[j + 3] : s[j + 3];
        const __m256 b0 = _mm256_set1_ps(c0), b1 = _mm256_set1_ps(c1), b2 = _mm256_set1_ps(c2), b3 = _mm256_set1_ps(c3);
        for (int f = 0; f < vector_end; f += 8)
        {
            __m256 a = _mm256_loadu_ps(acc + f);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + f), b0, a);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + f), b1, a);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + f), b2, a);
            a = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + f), b3, a);
            _mm256_storeu_ps(acc + f, a);
        }
        for (int f = vector_end; f < k; ++f)
            acc[f] += c0 * r0[f] + c1 * r1[f] + c2 * r2[f] + c3 * r3[f];
    }
    for (; j < n; ++j)
    {
        const float *r = rows + j * size_t(k);
        s[j] = offset + avx2_dot(r, k, v);
        const float c = w ? w[j] * s[j] : s[j];
        const __m256 b = _mm256_set1_ps(c);
        for (int f = 0; f < vector_end; f += 8)
            _mm256_storeu_ps(acc + f, _mm256_fmadd_ps(_mm256_loadu_ps(r + f), b, _mm256_loadu_ps(acc + f)));
        for (int f = vector_end; f < k; ++f)
            acc[f] += c * r[f];
    }
}

const RowKernels kAvx2{avx2_rows_times_vector,      avx2_rows_transpose_times_vector,
                       avx2_rows_gram_times_vector, avx2_users_times_columns,
                       avx2_first_at_least,         "avx2+fma"};

// GCC 12's AVX-512 headers set off -Wmaybe-uninitialized on their own _mm*_undefined_* helpers
// (GCC bug 105593, fixed in 13); the warning is silenced for these kernels only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// The sums of the sixteen lanes of each of a[0..15], as one register (lane r: the sum of a[r]): a tree
// of shuffles and adds, 31 operations for sixteen rows instead of a horizontal reduction per row.
__attribute__((target("avx512f,avx2,fma"))) inline __m512
sixteen_sums(__m512 *a)
{
    __m512 b[8], c[4], d[2];
    // Halves of rows 2i and 2i+1 added: 8 partial sums of each, side by side.
    for (int i = 0; i < 8; ++i)
        b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    // Then 4 partial sums of each row, one row per 128-bit lane: c[j] lane g is row 4j + g.
    for (int j = 0; j < 4; ++j)
        c[j] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    // Within 128-bit lanes: 2 partial sums, then 1; lane 4g + m ends up holding row 4m + g.
    for (int j = 0; j < 2; ++j)
        d[j] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * j], c[2 * j + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(c[2 * j], c[2 * j + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, e);
}

// AVX-512: sixteen floats per register, sixteen rows at a time (their sums reduced together); the
// leftover columns are masked loads, the leftover rows go one at a time.
__attribute__((target("avx512f,avx2,fma"))) void
avx512_rows_times_vector(const float *rows, size_t n, int k, const float *v, float *out)
{
    const int vector_end = k & ~15;
    const __mmask16 tail = __mmask16((1u << (k & 15)) - 1u);
    const __m512 v_tail = _mm512_maskz_loadu_ps(tail, v + vector_end);
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
    {
        const float *r = rows + j * size_t(k);
        __m512 a[16];
        for (int row = 0; row < 16; ++row)
            a[row] = _mm512_setzero_ps();
        for (int f = 0; f < vector_end; f += 16)
        {
            const __m512 x = _mm512_loadu_ps(v + f);
            for (int row = 0; row < 16; ++row)
                a[row] = _mm512_fmadd_ps(_mm512_loadu_ps(r + size_t(row) * size_t(k) + size_t(f)), x, a[row]);
        }
        if (tail)
            for (int row = 0; row < 16; ++row)
                a[row] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r + size_t(row) * size_t(k) + size_t(vector_end)),
                                         v_tail, a[row]);
        _mm512_storeu_ps(out + j, sixteen_sums(a));
    }
    for (; j < n; ++j)
    {
        const float *r = rows + j * size_t(k);
        __m512 a = _mm512_setzero_ps();
        for (int f = 0; f < vector_end; f += 16)
            a = _mm512_fmadd_ps(_mm512_loadu_ps(r + f), _mm512_loadu_ps(v + f), a);
        if (tail)
            a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, r + vector_end), v_tail, a);
        out[j] = _mm512_reduce_add_ps(a);
    }
}

// A mask of the first min(left, 16) lanes: the two 16-item halves of a 32-item step, masked at the end
// of a panel.
inline __mmask16
lanes_mask(size_t left)
{
    return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
}

// Eight users x thirty-two items per step: sixteen accumulators, each factor costs two loads, eight
// broadcasts and sixteen FMAs; the leftover items are masked, leftover users go one at a time.
__attribute__((target("avx512f,avx2,fma"))) void
avx512_users_times_columns(const float *users, size_t n_users, int k, const float *columns, size_t column_stride,
                           size_t n_columns, float *scores, size_t score_stride)
{
    constexpr size_t kUsers = 8;
    for (size_t j = 0; j < n_columns; j += 32)
    {
        const __mmask16 m0 = lanes_mask(n_columns - j), m1 = lanes_mask(n_columns - j >= 16 ? n_columns - j - 16 : 0);
        size_t u = 0;
        for (; u + kUsers <= n_users; u += kUsers)
        {
            __m512 a[kUsers][2];
            for (size_t v = 0; v < kUsers; ++v)
                a[v][0] = a[v][1] = _mm512_setzero_ps();
            const float *p = users + u * size_t(k);
            for (int f = 0; f < k; ++f)
            {
                const float *c = columns + size_t(f) * column_stride + j;
                const __m512 c0 = _mm512_maskz_loadu_ps(m0, c), c1 = _mm512_maskz_loadu_ps(m1, c + 16);
                for (size_t v = 0; v < kUsers; ++v)
                {
                    const __m512 b = _mm512_set1_ps(p[v * size_t(k) + size_t(f)]);
                    a[v][0] = _mm512_fmadd_ps(b, c0, a[v][0]);
                    a[v][1] = _mm512_fmadd_ps(b, c1, a[v][1]);
                }
            }
            for (size_t v = 0; v < kUsers; ++v)
            {
                float *s = scores + (u + v) * score_stride + j;
                _mm512_mask_storeu_ps(s, m0, a[v][0]);
                _mm512_mask_storeu_ps(s + 16, m1, a[v][1]);
            }
        }
        for (; u < n_users; ++u)
        {
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (int f = 0; f < k; ++f)
            {
                const float *c = columns + size_t(f) * column_stride + j;
                const __m512 b = _mm512_set1_ps(users[u * size_t(k) + size_t(f)]);
                a0 = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(m0, c), a0);
                a1 = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(m1, c + 16), a1);
            }
            _mm512_mask_storeu_ps(scores + u * score_stride + j, m0, a0);
            _mm512_mask_storeu_ps(scores + u * score_stride + j + 16, m1, a1);
        }
    }
}

// BF16: eight users x thirty-two items per step as in the fp32 kernel, each instruction taking two
// factors at once (half the instructions for the same product).
__attribute__((target("avx512f,avx512bf16,avx2,fma"))) void
avx512bf16_users_times_pair_columns(const uint32_t *user_words, size_t n_users, int pairs, const uint32_t *column_words,
                                    size_t column_stride, size_t n_columns, float *scores, size_t score_stride)
{
    constexpr size_t kUsers = 8;
    for (size_t j = 0; j < n_columns; j += 32)
    {
        const __mmask16 m0 = lanes_mask(n_columns - j), m1 = lanes_mask(n_columns - j >= 16 ? n_columns - j - 16 : 0);
        size_t u = 0;
        for (; u + kUsers <= n_users; u += kUsers)
        {
            __m512 a[kUsers][2];
            for (size_t v = 0; v < kUsers; ++v)
                a[v][0] = a[v][1] = _mm512_setzero_ps();
            const uint32_t *p = user_words + u * size_t(pairs);
            for (int g = 0; g < pairs; ++g)
            {
                const uint32_t *c = column_words + size_t(g) * column_stride + j;
                const __m512bh c0 = (__m512bh) _mm512_maskz_loadu_epi32(m0, c);
                const __m512bh c1 = (__m512bh) _mm512_maskz_loadu_epi32(m1, c + 16);
                for (size_t v = 0; v < kUsers; ++v)
                {
                    const __m512bh b = (__m512bh) _mm512_set1_epi32(int(p[v * size_t(pairs) + size_t(g)]));
                    a[v][0] = _mm512_dpbf16_ps(a[v][0], b, c0);
                    a[v][1] = _mm512_dpbf16_ps(a[v][1], b, c1);
                }
            }
            for (size_t v = 0; v < kUsers; ++v)
            {
                float *s = scores + (u + v) * score_stride + j;
                _mm512_mask_storeu_ps(s, m0, a[v][0]);
                _mm512_mask_storeu_ps(s + 16, m1, a[v][1]);
            }
        }
        for (; u < n_users; ++u)
        {
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (int g = 0; g < pairs; ++g)
            {
                const uint32_t *c = column_words + size_t(g) * column_stride + j;
                const __m512bh b = (__m512bh) _mm512_set1_epi32(int(user_words[u * size_t(pairs) + size_t(g)]));
                a0 = _mm512_dpbf16_ps(a0, b, (__m512bh) _mm512_maskz_loadu_epi32(m0, c));
                a1 = _mm512_dpbf16_ps(a1, b, (__m512bh) _mm512_maskz_loadu_epi32(m1, c + 16));
            }
            _mm512_mask_storeu_ps(scores + u * score_stride + j, m0, a0);
            _mm512_mask_storeu_ps(scores + u * score_stride + j + 16, m1, a1);
        }
    }
}

// BF16 rows (row-major, `pairs` words each) times one user's words: sixteen rows at a time, each
// instruction taking sixteen pairs of factors; the sums reduced together as in the fp32 kernel.
__attribute__((target("avx512f,avx512bf16,avx2,fma"))) void
avx512bf16_rows_times_pair_vector(const uint32_t *rows, size_t n, int pairs, const uint32_t *user_words, float *out)
{
    const int vector_end = pairs & ~15;
    const __mmask16 tail = __mmask16((1u << (pairs & 15)) - 1u);
    const __m512bh u_tail = (__m512bh) _mm512_maskz_loadu_epi32(tail, user_words + vector_end);
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
    {
        const uint32_t *r = rows + j * size_t(pairs);
        __m512 a[16];
        for (int row = 0; row < 16; ++row)
            a[row] = _mm512_setzero_ps();
        for (int g = 0; g < vector_end; g += 16)
        {
            const __m512bh x = (__m512bh) _mm512_loadu_si512(user_words + g);
            for (int row = 0; row < 16; ++row)
                a[row] = _mm512_dpbf16_ps(
                    a[row], (__m512bh) _mm512_loadu_si512(r + size_t(row) * size_t(pairs) + size_t(g)), x);
        }
        if (tail)
            for (int row = 0; row < 16; ++row)
                a[row] = _mm512_dpbf16_ps(
                    a[row],
                    (__m512bh) _mm512_maskz_loadu_epi32(tail, r + size_t(row) * size_t(pairs) + size_t(vector_end)),
                    u_tail);
        _mm512_storeu_ps(out + j, sixteen_sums(a));
    }
    for (; j < n; ++j)
    {
        const uint32_t *r = rows + j * size_t(pairs);
        __m512 a = _mm512_setzero_ps();
        for (int g = 0; g < vector_end; g += 16)
            a = _mm512_dpbf16_ps(a, (__m512bh) _mm512_loadu_si512(r + g),
                                 (__m512bh) _mm512_loadu_si512(user_words + g));
        if (tail)
            a = _mm512_dpbf16_ps(a, (__m512bh) _mm512_maskz_loadu_epi32(tail, r + vector_end), u_tail);
        out[j] = _mm512_reduce_add_ps(a);
    }
}

const Bf16BatchKernel kAvx512Bf16{avx512bf16_users_times_pair_columns, avx512bf16_rows_times_pair_vector, "avx512bf16"};

// The training product rows_transpose_times_vector stays AVX2 (CG spends little time in it at the
// usual factor counts).
__attribute__((target("avx512f,avx2,fma"))) size_t
avx512_first_at_least(const float *values, size_t n, float threshold)
{
    const __m512 t = _mm512_set1_ps(threshold);
    size_t j = 0;
    for (; j + 16 <= n; j += 16)
    {
        const __mmask16 mask = _mm512_cmp_ps_mask(_mm512_loadu_ps(values + j), t, _CMP_GE_OQ);
        if (mask)
            return j + size_t(__builtin_ctz(unsigned(mask)));
    }
    const __mmask16 tail = __mmask16((1u << (n - j)) - 1u);
    const __mmask16 mask = _mm512_mask_cmp_ps_mask(tail, _mm512_maskz_loadu_ps(tail, values + j), t, _CMP_GE_OQ);
    return mask ? j + size_t(__builtin_ctz(unsigned(mask))) : n;
}

const RowKernels kAvx512{avx512_rows_times_vector,    avx2_rows_transpose_times_vector,
                         avx2_rows_gram_times_vector, avx512_users_times_columns,
                         avx512_first_at_least,       "avx512f"};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif

const RowKernels kPortable{portable_rows_times_vector,      portable_rows_transpose_times_vector,
                           portable_rows_gram_times_vector, portable_users_times_columns,
                           portable_first_at_least,         "portable"};

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

const RowKernels *
avx512_kernels()
{
#ifdef REC_HAVE_X86
    static const bool supported = avx2_kernels() && __builtin_cpu_supports("avx512f");
    return supported ? &kAvx512 : nullptr;
#else
    return nullptr;
#endif
}

const Bf16BatchKernel *
bf16_batch_kernel()
{
#ifdef REC_HAVE_X86
    static const bool supported = avx512_kernels() && __builtin_cpu_supports("avx512bf16");
    return supported ? &kAvx512Bf16 : nullptr;
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

const RowKernels &
best_scoring_kernels()
{
    static const RowKernels &best = avx512_kernels() ? *avx512_kernels() : best_kernels();
    return best;
}

}  // namespace rec::core
