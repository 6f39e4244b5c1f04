#include "core/training.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "core/checked_size.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

bool
all_finite(const LargeVector<float> &values)
{
    for (float v : values)
        if (!std::isfinite(v))
            return false;
    return true;
}

}  // namespace

FactorModelView
FactorModel::view() const
{
    FactorModelView v;
    v.kind = kind;
    v.k = factors;
    v.global_mean = global_mean;
    v.user_factors = user_factors.data();
    v.user_bias = user_bias.data();
    v.users = user_bias.size();
    v.item_factors = item_factors.data();
    v.item_bias = item_bias.data();
    v.items = item_bias.size();
    v.solve = solve;
    return v;
}

double
now_seconds()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void
run_iterations(FactorModel &model, int iterations, TrainHooks &hooks, const char *divergence_hint,
               const std::function<double(int)> &iteration)
{
    const double started = now_seconds();
    for (int it = 1; it <= iterations; ++it)
    {
        const double value = iteration(it);
        if (!std::isfinite(value))
            throw TrainingDiverged("training diverged at iteration " + std::to_string(it) + " (non-finite " +
                                   model.train_metric + "); " + divergence_hint);
        model.train_value = value;
        model.iterations = it;
        IterationStats stats;
        stats.iteration = it;
        stats.metric = model.train_metric;
        stats.value = value;
        const bool keep_going = hooks.keep_going(model, stats);
        stats.seconds = now_seconds() - started;
        hooks.iteration_done(stats);
        if (!keep_going)
            break;
    }
    for (const LargeVector<float> *v : {&model.user_factors, &model.item_factors, &model.user_bias, &model.item_bias})
        if (!all_finite(*v))
            throw TrainingDiverged(std::string("training produced non-finite factors; ") + divergence_hint);
}

size_t
estimate_training_bytes(size_t users, size_t items, int factors, int threads)
{
    const size_t k = size_t(factors < 1 ? 1 : factors);
    // Factors and biases of both sides, plus per-row losses and chunk bookkeeping.
    size_t bytes = sat_mul(sat_add(users, items), sat_add(sat_mul(k, sizeof(float)), 4 + 3 * sizeof(double)));
    // Per-thread scratch: up to 2048 gathered rows, and k x k matrices.
    const size_t dim = sat_add(k, 1);
    const size_t per_thread =
        sat_add(sat_mul(sat_mul(2048, dim), sizeof(float)), sat_mul(sat_mul(sat_mul(dim, dim), 4), sizeof(float)));
    return sat_add(bytes, sat_mul(per_thread, size_t(threads < 1 ? 1 : threads)));
}

size_t
estimate_variational_bytes(size_t users, size_t items, int factors)
{
    const size_t dim = sat_add(size_t(factors < 1 ? 1 : factors), 1);
    return sat_mul(sat_mul(sat_add(users, items), sat_mul(dim, dim)), sizeof(float));
}

}  // namespace rec::core
