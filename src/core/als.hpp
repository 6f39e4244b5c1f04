// Explicit-feedback alternating least squares with global mean and user/item biases:
//
//     r̂(u,i) = μ + b_u + b_i + p_uᵀ q_i
//
// minimising  Σ (r - r̂)²  +  Σ_u [(λ n_u + c) |p_u|² + (λ_b n_u + c) b_u²]  +  (the same over items),
// where n_u is the row's number of ratings. λ n is the count-weighted ("ALS-WR") penalty of Spark
// MLlib, so `regularization` (λ) means what Spark's regParam means; λ_b (`bias_regularization`) is the
// same for biases; c (`unweighted_regularization`) is added unscaled, as the λ of Koren, Bell and
// Volinsky's biased model and of the `implicit` library. The defaults (λ_b = λ, c = 0) are Spark's.
// Each half-step solves one (k+1)x(k+1) Cholesky system per user (or item), rows in parallel; every
// row's solve depends only on the data and the other side's factors, so the result is bit-identical
// for any number of threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/interactions.hpp"
#include "core/parallel.hpp"

namespace rec::core {

// Training produced a non-finite loss or factor: the hyperparameters let it diverge. Nothing that
// diverged is ever returned, so no NaN reaches a stored model.
struct TrainingDiverged : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct AlsParams
{
    int factors = 64;
    int iterations = 15;
    double regularization = 0.05;             // λ, weighted by the row's rating count
    std::optional<double> bias_regularization;  // λ_b, weighted by the row's rating count; unset: λ
    double unweighted_regularization = 0.0;   // c, not weighted
    uint64_t seed = 42;
    int threads = 0;  // 0: every processor
};

struct IterationStats
{
    int iteration = 0;              // 1-based
    const char *metric = "";        // what `value` is, e.g. "training RMSE"
    double value = 0;               // that metric after this iteration
    double seconds = 0;             // since training started
};

// Host callbacks for a training run; all run on the calling thread.
struct BiasedFactors;

class TrainHooks : public HostHooks
{
public:
    virtual void iteration_done(const IterationStats &) {}

    // After each iteration, before it is reported: the model so far. Returning false ends training
    // there (early stopping); the model keeps this iteration's factors.
    virtual bool keep_going(const BiasedFactors &, int /*iteration*/) { return true; }

    // Reports an iteration, timed from `started_seconds` (a steady-clock reading, see now_seconds()).
    void report(int iteration, const char *metric, double value, double started_seconds);
};

// Seconds on a steady clock, for timing iterations.
double now_seconds();

// Row-major factor rows: row r is factors[r*k .. r*k+k).
struct BiasedFactors
{
    int factors = 0;
    double global_mean = 0;
    std::vector<float> user_factors, item_factors;
    std::vector<float> user_bias, item_bias;
    const char *train_metric = "";  // the last iteration's metric: its name and value
    double train_value = 0;
    int iterations = 0;  // run (fewer than asked when hooks stopped training early)
};

// Throws std::invalid_argument for bad parameters, std::runtime_error if the solution is not finite,
// and whatever hooks throw.
BiasedFactors train_explicit_als(const Interactions &data, const AlsParams &params, TrainHooks &hooks);

// Upper estimate of the memory any of the factor trainers (explicit ALS, implicit ALS, BPR) needs
// beyond `data`, in bytes; saturates at
// SIZE_MAX instead of overflowing, so absurd parameters are refused before anything is allocated.
size_t estimate_als_bytes(size_t users, size_t items, int factors, int threads);

// Upper estimate of the memory build_interactions needs for `rows` input rows, in bytes.
size_t estimate_interactions_bytes(size_t rows);

void check_als_params(const AlsParams &params);

}  // namespace rec::core
