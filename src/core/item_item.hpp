// Item-item models: a user's score for item j is the sum, over the items i the user has, of the
// user's value for i times the weight W[i][j],
//
//     score(u, j) = Σ_i x_ui · W_ij
//
// so a user is just their items (no solve), and a score splits exactly into one term per item. Two
// ways to learn W:
//
//   EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): the closed form
//     P = (XᵀX + λI)⁻¹, W_ij = -P_ij / P_jj (i ≠ j), W_ii = 0, with X the users x items matrix of
//     the source's values. Dense: n x n weights.
//   item-kNN as the `implicit` library's ItemItemRecommender (CosineRecommender, BM25Recommender,
//     TFIDFRecommender): W_ij = the similarity of items i and j's columns of X (weighted as below),
//     each row keeping its `neighbours` largest (the item itself among them, as implicit's K).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/interactions.hpp"
#include "core/large_vector.hpp"
#include "core/parallel.hpp"
#include "core/topn.hpp"

namespace rec::core {

// How item-kNN weighs X before taking dot products of item columns (implicit's names and defaults).
enum class ItemSimilarity : int32_t
{
    Cosine,  // columns scaled to unit length: cosine similarity (CosineRecommender)
    Bm25,    // BM25 weights, users as terms and items as documents (BM25Recommender; its K1 1.2, B 0.75)
    TfIdf,   // sqrt(x) · idf(user), then unit length (TFIDFRecommender)
};

struct EaseParams
{
    double regularization = 0;  // λ, added to the diagonal of XᵀX
    int neighbours = 0;         // 0: keep every weight (dense); else each row's largest |W_ij|
    int threads = 1;
};

struct ItemKnnParams
{
    int neighbours = 0;  // implicit's K
    ItemSimilarity similarity = ItemSimilarity::Cosine;
    double bm25_k1 = 1.2, bm25_b = 0.75;  // BM25Recommender's defaults
    int threads = 1;
};

// Borrowed weights: dense (neighbours == nullptr: row i is weights[i·items .. (i+1)·items)) or sparse
// (row i is neighbours/weights[offsets[i] .. offsets[i+1]), neighbour indexes ascending).
struct ItemWeightsView
{
    size_t items = 0;
    const int64_t *offsets = nullptr;  // items + 1, sparse only
    const int32_t *neighbours = nullptr;
    const float *weights = nullptr;

    bool dense() const { return neighbours == nullptr; }
    // scores[j] += value · W[item][j] for every j.
    void accumulate(int32_t item, float value, float *scores) const;
    // W[from][to], 0 where a sparse row has no such neighbour.
    float weight(int32_t from, int32_t to) const;
    // Scores of every item for a user with these items (indexes) and values: Σ_i x_i · W[i]. Dense
    // weights are summed by blocks of columns, split over `threads` (hooks->poll() between) where
    // scoring_runs_in_parallel says it pays.
    std::vector<float> score_all(const int32_t *items, const float *values, size_t count, int threads = 1,
                                 HostHooks *hooks = nullptr) const;
    // Whether summing `count` rows of these weights is worth more than one thread: dense rows
    // (memory-bound: each row streams items·4 bytes), at least 2^20 weights read.
    bool scoring_runs_in_parallel(size_t count) const { return dense() && items * count >= (size_t(1) << 20); }
    // One item's score: the sum of the terms `explain` returns.
    double score(const int32_t *items, const float *values, size_t count, int32_t target) const;
    // The terms x_i · W[i][target], in the order of `items`.
    std::vector<float> explain(const int32_t *items, const float *values, size_t count, int32_t target) const;
};

// Owned weights, as training returns them.
struct ItemWeights
{
    size_t items = 0;
    bool dense = true;
    LargeVector<int64_t> offsets;
    LargeVector<int32_t> neighbours;
    LargeVector<float> weights;

    ItemWeightsView view() const
    {
        return {items, dense ? nullptr : offsets.data(), dense ? nullptr : neighbours.data(), weights.data()};
    }
    size_t stored() const { return weights.size(); }
};

// EASE^R. The Gram matrix is factored in place by a blocked Cholesky and inverted by blocks of
// columns, both split over threads with hooks.poll() between chunks. Holds two n x n fp32 matrices
// while it runs (ease_training_bytes). Throws std::invalid_argument if λ ≤ 0 or the matrix is not
// positive definite.
ItemWeights train_ease(const Interactions &data, const EaseParams &params, HostHooks &hooks);

// Item-kNN: every item's dot products with the others by walking its users' rows (Σ_u |u|² work),
// keeping the best `neighbours` of each row.
ItemWeights train_itemknn(const Interactions &data, const ItemKnnParams &params, HostHooks &hooks);

// Upper estimates of what training holds beyond the interactions, in bytes (saturating).
size_t ease_training_bytes(size_t items, int neighbours, int threads);
size_t itemknn_training_bytes(size_t items, size_t nnz, int neighbours, int threads);
// What the weights take once trained.
size_t item_weights_bytes(size_t items, int neighbours);

}  // namespace rec::core
