// Explicit-feedback alternating least squares with global mean and user/item biases:
//
//     r̂(u,i) = μ + b_u + b_i + p_uᵀ q_i
//
// minimising  Σ (r - r̂)²  +  Σ_u [(λ n_u + c) |p_u|² + (λ_b n_u + c) b_u²]  +  (the same over items),
// where n_u is the row's number of ratings. λ n is the count-weighted ("ALS-WR") penalty of Spark
// MLlib, so `regularization` (λ) means what Spark's regParam means; λ_b (`bias_regularization`) is the
// same for biases; c (`unweighted_regularization`) is added unscaled, as the λ of Koren, Bell and
// Volinsky's biased model (Surprise's SVD reg_all, LIBMF's -l2 on each side).
//
// Each half-step solves, per row, the (k+1)x(k+1) system of [b_u; p_u]:
//   - solver ConjugateGradient (default): a few conjugate-gradient steps warm-started from the previous
//     iteration's row (Takács, Pilászy and Tikk 2011), O(n k) per step: an iteration costs O(nnz k),
//     as an epoch of LIBMF's SGD does, with no learning rate to tune;
//   - solver Cholesky: the exact solve, O(n k² + k³) per row.
// Every row's solve depends only on the data and the other side's factors, so the result is
// bit-identical for any number of threads.
//
// With noise_variance > 0 the solves are those of variational Bayes (see AlsParams): the factors are
// posterior means that account for the other side's uncertainty, which fits small data better.
#pragma once
#include <cstdint>
#include <optional>

#include "core/interactions.hpp"
#include "core/training.hpp"

namespace rec::core {

struct AlsParams
{
    int factors = 64;
    int iterations = 15;
    double regularization = 0.05;               // λ, weighted by the row's rating count
    std::optional<double> bias_regularization;  // λ_b, weighted by the row's rating count; unset: λ
    double unweighted_regularization = 0.0;     // c, not weighted
    Solver solver = Solver::ConjugateGradient;
    int cg_steps = 3;
    // τ > 0: variational Bayes (Lim and Teh 2007; needs solver Cholesky). Ratings are taken as
    // Gaussian with variance τ around r̂ and the penalties as Gaussian priors; each row keeps its
    // posterior covariance S = τ A⁻¹ ((k+1)² floats), and every row's system takes the other side's
    // uncertainty in: A_u = Σ_j (z̄_j z̄_jᵀ + Cov z_j) + penalties. Predictions use the posterior means,
    // so the model serves as any other. 0: the plain (maximum a posteriori) solve.
    double noise_variance = 0;
    uint64_t seed = 42;
    int threads = 0;  // 0: every processor
};

void check_als_params(const AlsParams &params);

// Throws std::invalid_argument for bad parameters, TrainingDiverged if the solution is not finite,
// and whatever hooks throw. IterationStats::value is the training RMSE.
FactorModel train_explicit_als(const Interactions &data, const AlsParams &params, TrainHooks &hooks);

// The model before the first iteration, as train_explicit_als starts it: users zero, items small and
// random by (seed, row), biases zero. The distributed trainer starts from it too.
FactorModel initial_explicit_model(size_t users, size_t items, const AlsParams &params, double global_mean);

// One half-step of explicit ALS over any subset of a side's rows, as train_explicit_als runs it over
// all of them: each row of [bias; factors] solved from its own ratings, its previous values (CG's warm
// start) and the whole other side alone (and, under variational Bayes, the other side's covariances).
// So solving a side's rows in any partition (the shards a Citus worker holds, issue 15) gives the
// whole half-step's values bit for bit.
class ExplicitHalfStep
{
public:
    struct Side  // the other side: factors (rows × k), bias (rows), covariance (rows × (k+1)², or unused)
    {
        const LargeVector<float> *factors, *bias, *covariance;
    };
    struct MutableSide  // this side's rows, solved in place
    {
        LargeVector<float> *factors, *bias, *covariance;
    };
    // global_mean: μ of every rating trained on (not only those of the rows solved).
    ExplicitHalfStep(const AlsParams &params, double global_mean);
    // Solves every row of `rows` (its columns index the other side's rows). With squared_error (one
    // entry per row), each row's squared training error after its solve. `chunks`: the scheduling of
    // the rows, or NULL.
    void solve(const SparseRows &rows, const Side &other, const MutableSide &own, double *squared_error,
               HostHooks &hooks, const std::vector<size_t> *chunks = nullptr) const;

private:
    AlsParams params_;  // threads resolved
    double global_mean_;
};

}  // namespace rec::core
