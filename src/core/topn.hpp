// Exact top-N scoring of one user against every item: score = offset + item_bias + userᵀ item.
// Excluded items are removed before selection, so n results come back whenever n eligible items exist.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/parallel.hpp"

namespace rec::core {

struct ItemFactorsView
{
    const float *factors = nullptr;  // items x k, row-major
    const float *bias = nullptr;     // may be null
    size_t items = 0;
    int k = 0;
    // Optional (fill_bf16_rows), used where the CPU has AVX-512 BF16: each item's factors as bf16 pairs
    // and its Euclidean norm. top_n then bounds every score from above at half the memory traffic and
    // scores in fp32 only the items whose bound reaches the current n-th best: the same answer.
    const uint32_t *bf16_rows = nullptr;  // items x bf16_pairs(k) words
    const float *norms = nullptr;         // items
};

// Words per item of the bf16 rows: two factors a word.
inline int
bf16_pairs(int k)
{
    return (k + 1) / 2;
}

// Whether top_n can use bf16 rows on this CPU (else they need not be made).
bool bf16_scoring_available();

// The bf16 rows and norms of `items` x k factors (row-major), for ItemFactorsView.
void fill_bf16_rows(const float *factors, size_t items, int k, uint32_t *rows, float *norms);

struct Scored
{
    int32_t item;  // dense item index
    float score;
};

// Dense item indexes, any order, duplicates allowed.
struct IndexList
{
    const int32_t *indexes = nullptr;
    size_t count = 0;
};

// `excluded` lists items never returned. Ties are broken by the lower item index, so results are
// deterministic. Scores are computed block by block with the CPU's widest SIMD kernel and offered to a
// partial selection; a large catalogue is split over `threads` (as resolve_threads) with hooks->poll()
// before and after.
std::vector<Scored> top_n(const ItemFactorsView &items, const float *user, float offset, const int32_t *excluded,
                          size_t excluded_count, size_t n, int threads = 1, HostHooks *hooks = nullptr);

// Whether top_n splits a catalogue of this size over threads (else it runs on the calling thread).
bool top_n_runs_in_parallel(size_t items, int k);

// The same, choosing only among `candidates` (scoring only them), minus `excluded`.
std::vector<Scored> top_n_among(const ItemFactorsView &items, const float *user, float offset, IndexList candidates,
                                IndexList excluded, size_t n);

// The best n items of a score per item (`items` of them), filtered first (excluded never returned;
// with candidates only those, each once), ties to the lower index: as top_n, for scores computed
// elsewhere (item-item models, core/item_item.hpp).
std::vector<Scored> top_n_of_scores(const float *scores, size_t items, IndexList excluded, const IndexList *candidates,
                                    size_t n);

// The n best of `eligible`, best first (ties to the lower index).
std::vector<Scored> best_of(std::vector<Scored> eligible, size_t n);

// Top n of many users at once: scores come from one matrix product per block of users (much faster
// than one matrix-vector product per user), then each user's best n by a small heap. users: count x k;
// offsets: per-user constant added to every score; excluded items of user u are
// excluded_items[excluded_offsets[u] .. excluded_offsets[u+1]). Results: user u's best at
// out_items/out_scores[u * n ...], out_counts[u] of them. `threads` as resolve_threads. The result is
// exact either way; allow_bf16 = false keeps to fp32 products even where the CPU has AVX-512 BF16 (for
// tests).
void top_n_batch(const ItemFactorsView &items, const float *users, const float *offsets, size_t count,
                 const int64_t *excluded_offsets, const int32_t *excluded_items, size_t n, int threads,
                 HostHooks &hooks, int32_t *out_items, float *out_scores, int32_t *out_counts, bool allow_bf16 = true);

// The n rows most similar to row `query` by cosine of their factors (the query itself left out; rows
// with zero factors have similarity 0). `rows` is count x k, row-major.
std::vector<Scored> most_similar(const float *rows, size_t count, int k, size_t query, size_t n);

// The same, choosing only among `candidates` when given (nullptr: every row), minus `excluded`; the
// filters apply before selection, so n rows come back whenever n eligible rows exist.
std::vector<Scored> most_similar(const float *rows, size_t count, int k, size_t query, size_t n,
                                 const IndexList *candidates, IndexList excluded);

}  // namespace rec::core
