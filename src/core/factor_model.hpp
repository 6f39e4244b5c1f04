// A trained factor model as it serves, and every operation on it, dispatched on the model's kind in
// one place (as implicit's MatrixFactorizationBase): the prediction formula, folding a new user in,
// and explaining a score.
//
//     score(u, i) = μ + b_u + b_i + p_uᵀ q_i
//
// Explicit ALS has all four terms; implicit ALS only p_uᵀq_i; BPR p_uᵀq_i + b_i. Folding a user in
// solves the least-squares problem one half-step of training solves for a user, against the fixed
// item factors (implicit's recalculate_user); explaining splits that solve's score into one term per
// item of the user (implicit's explain), as the solve is linear in the user's values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/topn.hpp"

namespace rec::core {

enum class ModelKind : int32_t
{
    ExplicitAls,
    ImplicitAls,
    Bpr,
    Ease,  // item-item kinds: no factors (k = 0); see core/item_item.hpp and core/recommender.hpp
    ItemKnn,
};

// How implicit ALS turns a value r into a confidence c (the weight of the cell's squared error) and a
// preference p (its target).
enum class Confidence : int32_t
{
    // c = 1 + alpha·r, p = 1 if r > 0: Hu, Koren and Volinsky (2008), Spark's implicitPrefs.
    OnePlusAlpha,
    // c = alpha·r, p = 1 if c > 0: the `implicit` library, which takes the (scaled) values as the
    // confidences themselves (cells without a value still weigh 1).
    Alpha,
};

// Hyperparameters a user's solve needs besides the other side's factors (0 where they do not apply).
struct SolveParams
{
    double regularization = 0;             // λ: weighted by the row's count (explicit), unscaled (implicit)
    double bias_regularization = 0;        // explicit: λ_b, weighted by the row's count
    double unweighted_regularization = 0;  // explicit: c, added unscaled
    double alpha = 0;                      // implicit
    Confidence confidence = Confidence::OnePlusAlpha;

    // Implicit ALS: the extra weight (c - 1) and the weighted target (c·p) of a cell with value r >= 0.
    float extra_weight(float value) const
    {
        return confidence == Confidence::OnePlusAlpha ? float(alpha) * value : float(alpha) * value - 1.0f;
    }
    float weighted_target(float value) const
    {
        if (!(value > 0))
            return 0.0f;
        return confidence == Confidence::OnePlusAlpha ? 1.0f + float(alpha) * value : float(alpha) * value;
    }
};

struct FoldedUser
{
    float bias = 0;
    std::vector<float> factors;
};

// Borrowed arrays of a model, from a trained FactorModel or a served model image.
struct FactorModelView
{
    ModelKind kind = ModelKind::ExplicitAls;
    int k = 0;
    double global_mean = 0;
    const float *user_factors = nullptr;  // users x k
    const float *user_bias = nullptr;     // users
    size_t users = 0;
    const float *item_factors = nullptr;  // items x k
    const float *item_bias = nullptr;     // items
    size_t items = 0;
    const float *item_gram = nullptr;     // YᵀY (k x k) for implicit fold-in; computed when null
    const uint32_t *item_bf16 = nullptr;  // optional: the item factors as bf16 pairs, for faster top n
    const float *item_norms = nullptr;    // and their norms (see ItemFactorsView)
    SolveParams solve;
    // Explicit ratings: predict() stays within the training range, as Surprise and LIBMF predict.
    bool clip = false;
    float rating_min = 0, rating_max = 0;

    // The items as top-n scoring takes them: score = offset + b_i + uᵀq_i with offset = user_offset.
    ItemFactorsView item_view() const { return {item_factors, item_bias, items, k, item_bf16, item_norms}; }
    // μ + b_u, the part of a known user's score that does not depend on the item.
    float user_offset(size_t user) const { return float(global_mean) + user_bias[user]; }
    // μ + b_u + b_i + p_uᵀq_i for dense indexes; -1 for an unknown user or item leaves its terms out
    // (the baseline estimate). Clipped when `clip`.
    double predict(int64_t user, int64_t item) const;
    // A score as a prediction: clipped to the rating range when `clip`.
    double clipped(double score) const;

    // Whether fold_in and explain apply: BPR has no closed-form user solve.
    bool can_fold_in() const { return kind != ModelKind::Bpr; }
    // A new user's bias and factors from item indexes and their values (ratings, counts).
    FoldedUser fold_in(const int32_t *items, const float *values, size_t count) const;
    // The user's folded-in score for `target` split into one term per item, in the order of `items`.
    // Explicit: the terms sum to the score minus μ and b_target. Implicit: they sum to the score.
    std::vector<float> explain(const int32_t *items, const float *values, size_t count, int32_t target) const;

    // The model seen from the other side: items as users, so that fold_in solves an item against
    // the fixed user factors (refreshing items). item_gram is then left to be computed.
    FactorModelView transposed() const;
};

// YᵀY of factor rows (k x k, row-major).
std::vector<float> gram_of(const float *factors, size_t rows, int k);

}  // namespace rec::core
