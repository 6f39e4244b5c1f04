// What every trainer (explicit ALS, implicit ALS, BPR) shares: the trained model they return, the
// host's callbacks for progress, early stopping and cancellation, and the iteration loop that calls
// them, checks for divergence and reports, written once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "core/factor_model.hpp"
#include "core/large_vector.hpp"
#include "core/parallel.hpp"

namespace rec::core {

// Training produced a non-finite loss or factor: the hyperparameters let it diverge. Nothing that
// diverged is ever returned, so no NaN reaches a stored model.
struct TrainingDiverged : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// How ALS solves each row's least-squares system.
enum class Solver
{
    ConjugateGradient,  // a few steps warm-started from the previous iteration: O(n k) per step
    Cholesky,           // exact: O(n k² + k³) per row
};

// A trained model, owning its arrays: row r of a factor matrix is factors[r*k .. r*k+k).
struct FactorModel
{
    ModelKind kind = ModelKind::ExplicitAls;
    int factors = 0;
    double global_mean = 0;  // explicit ratings only; 0 otherwise
    LargeVector<float> user_factors, item_factors;
    LargeVector<float> user_bias, item_bias;  // zeros where the kind has none
    SolveParams solve;                        // what folding a user in needs (core/factor_model.hpp)
    const char *train_metric = "";            // the last iteration's metric: its name and value
    double train_value = 0;
    int iterations = 0;  // run (fewer than asked when hooks stopped training early)

    // The model as serving sees it (predictions not clipped: the rating range is the caller's).
    FactorModelView view() const;
};

struct IterationStats
{
    int iteration = 0;                        // 1-based
    const char *metric = "";                  // what `value` is, e.g. "training RMSE"
    double value = 0;                         // that metric after this iteration
    double seconds = 0;                       // since training started
    const char *validation_metric = nullptr;  // with a validation set: its metric and value
    double validation_value = 0;
};

// Host callbacks for a training run; all run on the calling thread.
class TrainHooks : public HostHooks
{
public:
    virtual void iteration_done(const IterationStats &) {}

    // After each iteration, before it is reported: the model so far. Returning false ends training
    // there (early stopping); the model keeps this iteration's factors. `stats` may be filled in
    // further (a validation metric) for the report.
    virtual bool keep_going(const FactorModel &, IterationStats & /*stats*/) { return true; }
};

// Seconds on a steady clock, for timing iterations.
double now_seconds();

// The loop of every trainer: for it = 1..iterations, `iteration(it)` runs one iteration and returns
// the training metric; a non-finite value throws TrainingDiverged (with `divergence_hint`); then the
// hooks decide whether to go on, and the iteration is reported. Afterwards every factor and bias must
// be finite. model.train_metric names the metric.
void run_iterations(FactorModel &model, int iterations, TrainHooks &hooks, const char *divergence_hint,
                    const std::function<double(int)> &iteration);

// Upper estimate of the memory a trainer needs beyond the interactions, in bytes (factors, biases,
// per-row bookkeeping and per-thread scratch); saturates at SIZE_MAX instead of overflowing, so absurd
// parameters are refused before anything is allocated.
size_t estimate_training_bytes(size_t users, size_t items, int factors, int threads);

// What explicit ALS by variational Bayes (AlsParams::noise_variance > 0) needs on top: each row's
// (k+1) x (k+1) posterior covariance, as train_explicit_als allocates them. Saturates as above.
size_t estimate_variational_bytes(size_t users, size_t items, int factors);

}  // namespace rec::core
