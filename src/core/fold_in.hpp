// Folding a new user in: the user's factors from a list of items (and values), solved against fixed
// item factors by the same least-squares problem one half-step of training solves for a user
// (`implicit`'s recalculate_user). No retraining.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rec::core {

struct FoldedUser
{
    float bias = 0;
    std::vector<float> factors;
};

// Explicit biased ALS: minimises Σ (r - μ - b_i - b - pᵀq_i)² + (λ n + c)|p|² + (λ_b n + c) b².
FoldedUser fold_in_explicit(const float *item_factors, const float *item_bias, int k, double global_mean,
                            const int32_t *items, const float *ratings, size_t count, double regularization,
                            double bias_regularization, double unweighted_regularization);

// Implicit ALS: (YᵀY + λI + Σ (c-1) y yᵀ) x = Σ c p y with c = 1 + alpha * value; `gram` is YᵀY (k x k).
FoldedUser fold_in_implicit(const float *item_factors, const float *gram, int k, const int32_t *items,
                            const float *values, size_t count, double regularization, double alpha);

// Why a folded-in user would score `target` as they do (implicit's ALS explain): the user's solve is
// linear in their items' values, so the score splits into one term per item, returned in the order of
// `items`. Explicit: the terms sum to the folded-in user's score minus μ and b_target. Implicit: they
// sum to the score. Arguments as the fold_in functions.
std::vector<float> explain_explicit(const float *item_factors, const float *item_bias, int k, double global_mean,
                                    const int32_t *items, const float *ratings, size_t count, double regularization,
                                    double bias_regularization, double unweighted_regularization, int32_t target);
std::vector<float> explain_implicit(const float *item_factors, const float *gram, int k, const int32_t *items,
                                    const float *values, size_t count, double regularization, double alpha,
                                    int32_t target);

// YᵀY of item factors (k x k, row-major), for fold_in_implicit.
std::vector<float> gram_of(const float *factors, size_t rows, int k);

}  // namespace rec::core
