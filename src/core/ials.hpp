// Implicit-feedback ALS (Hu, Koren and Volinsky 2008): every (user, item) cell has a preference
// p = 1 if the value r > 0 (else 0) and a confidence c (1 for cells with no row), and training
// minimises
//
//     Σ_all c (p - x_uᵀ y_i)²  +  λ (Σ |x_u|² + Σ |y_i|²)
//
// with λ added unscaled, as in the `implicit` library and Hu et al. The confidence of a value is
// c = 1 + alpha·r by default (the paper's and Spark's), or c = alpha·r as `implicit` forms it
// (Confidence::Alpha; see core/factor_model.hpp). Each half-step solves, per row,
// (YᵀY + λI + Σ_i (c_i - 1) y_i y_iᵀ) x = Σ_i c_i p_i y_i, either exactly (Cholesky, O(n k² + k³)) or
// by a few conjugate-gradient steps warm-started from the previous factors (Takács, Pilászy and Tikk
// 2011), which only needs the shared YᵀY and costs O(n k) per step.
#pragma once
#include <cstdint>

#include "core/interactions.hpp"
#include "core/training.hpp"

namespace rec::core {

struct ImplicitParams
{
    int factors = 64;
    int iterations = 15;
    double regularization = 0.01;  // λ, unscaled
    double alpha = 1.0;            // the confidence's scale
    Confidence confidence = Confidence::OnePlusAlpha;
    int cg_steps = 3;
    Solver solver = Solver::ConjugateGradient;
    uint64_t seed = 42;
    int threads = 0;
};

void check_implicit_params(const ImplicitParams &params);

// Factors only (biases and global mean are zero). IterationStats::value is the loss of `implicit`'s
// calculate_loss: the objective above divided by the total confidence of all cells.
FactorModel train_implicit_als(const Interactions &data, const ImplicitParams &params, TrainHooks &hooks);

// The model before the first iteration, as train_implicit_als starts it (small random factors by
// (seed, row) on both sides). The distributed trainer starts from it too.
FactorModel initial_implicit_model(size_t users, size_t items, const ImplicitParams &params);

// One half-step of implicit ALS over any subset of a side's rows, as train_implicit_als runs it over
// all of them: YᵀY + λI from the whole other side, computed once (block by block in a fixed order,
// independent of the thread count), then each row solved from its own interactions, its previous
// factors and that matrix alone. So solving the rows of a side in any partition (the shards a Citus
// worker holds, issue 15) gives the factors of the whole half-step bit for bit.
class ImplicitHalfStep
{
public:
    // `other`: the other side's factors, other_rows × params.factors, row-major; kept by reference.
    ImplicitHalfStep(const LargeVector<float> &other, size_t other_rows, const ImplicitParams &params,
                     HostHooks &hooks);
    // The same with YᵀY + λI given (gram() of a half-step over the same factors), as a worker of a
    // distributed training receives it instead of computing it again in every backend.
    ImplicitHalfStep(const LargeVector<float> &other, const ImplicitParams &params, std::vector<float> gram);
    const std::vector<float> &gram() const { return gram_; }
    // Solves every row of `rows` (its columns index the other side's rows) in place in `own` (rows ×
    // factors), warm-started from what `own` holds. With row_losses (one entry per row), each row's
    // share of the training loss. `chunks`: train_implicit_als's scheduling of the rows, or NULL.
    void solve(const SparseRows &rows, LargeVector<float> &own, std::vector<double> *row_losses, HostHooks &hooks,
               const std::vector<size_t> *chunks = nullptr) const;

private:
    const LargeVector<float> &other_;
    ImplicitParams params_;    // threads resolved
    std::vector<float> gram_;  // YᵀY + λI, factors × factors, column-major
};

// The normalised objective for given factors, computed in O(nnz k + (users + items) k²).
double implicit_loss(const Interactions &data, const FactorModel &model, const ImplicitParams &params,
                     HostHooks &hooks);

}  // namespace rec::core
