#include "core/als.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/checked_size.hpp"
#include "core/random.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;

// Rows of the design matrix gathered at a time; bounds per-thread scratch for rows with millions of
// entries while keeping the rank update large enough to run at matrix-multiply speed.
constexpr size_t kGatherRows = 1024;
// About 30 ms of one core's work: the granularity at which cancellation is noticed.
constexpr double kChunkFlopsPerThread = 1.0e8;

struct Scratch
{
    RowMatrix design;  // gathered rows [1, factors of the other side]
    Vector target;     // rating minus everything that is fixed in this half-step
    Matrix gram;
    Vector rhs;
    Eigen::LLT<Matrix> llt;

    explicit Scratch(int dim) : design(kGatherRows, dim), target(kGatherRows), gram(dim, dim), rhs(dim), llt(dim) {}
};

// One half-step: for every row r of `rows`, solve for [bias_r, factors_r] given the other side.
// With `squared_error` set, also records each row's squared training error after its solve.
void
solve_side(const SparseRows &rows, const std::vector<float> &other_factors, const std::vector<float> &other_bias,
           std::vector<float> &own_factors, std::vector<float> &own_bias, double global_mean,
           const AlsParams &p, const std::vector<size_t> &bounds, std::vector<Scratch> &scratch,
           std::vector<double> *squared_error, TrainHooks &hooks)
{
    const int k = p.factors;
    const float lambda = float(p.regularization);
    const float bias_lambda = float(p.bias_regularization.value_or(p.regularization));
    const float unweighted = float(p.unweighted_regularization);
    const float mean = float(global_mean);
    parallel_rows(bounds, p.threads, hooks, [&](size_t r, int thread) {
        Scratch &s = scratch[size_t(thread)];
        const size_t begin = rows.offsets[r], count = rows.row_size(r);
        float *own = own_factors.data() + r * size_t(k);
        if (count == 0)
        {
            std::fill(own, own + k, 0.0f);
            own_bias[r] = 0;
            if (squared_error)
                (*squared_error)[r] = 0;
            return;
        }
        s.gram.setZero();
        s.rhs.setZero();
        for (size_t done = 0; done < count; done += kGatherRows)
        {
            const size_t n = std::min(kGatherRows, count - done);
            for (size_t j = 0; j < n; ++j)
            {
                const size_t entry = begin + done + j;
                const size_t other = size_t(rows.columns[entry]);
                s.design(Eigen::Index(j), 0) = 1.0f;
                s.design.row(Eigen::Index(j)).tail(k) =
                    Eigen::Map<const Eigen::RowVectorXf>(other_factors.data() + other * size_t(k), k);
                s.target(Eigen::Index(j)) = rows.values[entry] - mean - other_bias[other];
            }
            auto block = s.design.topRows(Eigen::Index(n));
            s.gram.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
            s.rhs.noalias() += block.transpose() * s.target.head(Eigen::Index(n));
        }
        // ALS-WR: the penalty grows with the row's number of ratings, as in Spark; the tiny constant
        // keeps the system positive definite when every penalty is zero.
        s.gram.diagonal().array() += lambda * float(count) + unweighted + 1e-6f;
        s.gram(0, 0) += (bias_lambda - lambda) * float(count);
        s.llt.compute(s.gram);
        s.llt.solveInPlace(s.rhs);
        own_bias[r] = s.rhs(0);
        Eigen::Map<Eigen::VectorXf>(own, k) = s.rhs.tail(k);
        if (squared_error)
        {
            Eigen::Map<const Eigen::VectorXf> mine(own, k);
            double sum = 0;
            for (size_t j = 0; j < count; ++j)
            {
                const size_t other = size_t(rows.columns[begin + j]);
                const float predicted = mean + own_bias[r] + other_bias[other] +
                                        mine.dot(Eigen::Map<const Eigen::VectorXf>(
                                            other_factors.data() + other * size_t(k), k));
                const double err = double(rows.values[begin + j]) - double(predicted);
                sum += err * err;
            }
            (*squared_error)[r] = sum;
        }
    });
}

std::vector<size_t>
side_chunks(const SparseRows &rows, int factors, int threads)
{
    const double dim = factors + 1;
    std::vector<double> costs(rows.rows());
    for (size_t r = 0; r < costs.size(); ++r)
        costs[r] = double(rows.row_size(r)) * dim * dim + dim * dim * dim / 3.0;
    return chunk_boundaries(costs, kChunkFlopsPerThread * threads);
}

void
init_factors(std::vector<float> &factors, size_t rows, int k, uint64_t seed, uint64_t stream)
{
    // Small random values: the first user half-step only needs the item factors to be distinct.
    const double scale = 0.1 / std::sqrt(double(k));
    factors.resize(rows * size_t(k));
    for (size_t r = 0; r < rows; ++r)
    {
        RowRandom rng(seed, stream, r);
        for (int f = 0; f < k; ++f)
            factors[r * size_t(k) + size_t(f)] = float(rng.normal() * scale);
    }
}

bool
all_finite(const std::vector<float> &v)
{
    for (float x : v)
        if (!std::isfinite(x))
            return false;
    return true;
}

}  // namespace

double
now_seconds()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void
TrainHooks::report(int iteration, const char *metric, double value, double started_seconds)
{
    IterationStats stats;
    stats.iteration = iteration;
    stats.metric = metric;
    stats.value = value;
    stats.seconds = now_seconds() - started_seconds;
    iteration_done(stats);
}

void
check_als_params(const AlsParams &p)
{
    if (p.factors < 1)
        throw std::invalid_argument("factors must be at least 1");
    if (p.iterations < 1)
        throw std::invalid_argument("iterations must be at least 1");
    for (double value : {p.regularization, p.bias_regularization.value_or(0.0), p.unweighted_regularization})
        if (!(value >= 0) || !std::isfinite(value))
            throw std::invalid_argument("regularization parameters must be finite numbers >= 0");
}

size_t
estimate_als_bytes(size_t users, size_t items, int factors, int threads)
{
    const size_t k = size_t(factors < 1 ? 1 : factors);
    const size_t dim = sat_add(k, 1);
    // Factors and biases of both sides, plus per-row error and chunk bookkeeping.
    size_t bytes = sat_mul(sat_add(users, items), sat_add(sat_mul(k, sizeof(float)), 4 + 3 * sizeof(double)));
    // Per-thread scratch: gathered rows, Gram matrix and its factorisation.
    const size_t per_thread = sat_add(sat_mul(sat_mul(kGatherRows, dim), sizeof(float)),
                                      sat_mul(sat_mul(sat_mul(dim, dim), 3), sizeof(float)));
    bytes = sat_add(bytes, sat_mul(per_thread, size_t(threads < 1 ? 1 : threads)));
    return bytes;
}

size_t
estimate_interactions_bytes(size_t rows)
{
    // Dense indexes, both compressed copies, and the id maps at their largest.
    return sat_mul(rows, 4 + 4 + 2 * (4 + 4 + sizeof(size_t)) + 2 * (2 * 16 + 8));
}

BiasedFactors
train_explicit_als(const Interactions &data, const AlsParams &params, TrainHooks &hooks)
{
    check_als_params(params);
    AlsParams p = params;
    p.threads = resolve_threads(params.threads);
    const double started = now_seconds();
    const size_t users = data.user_ids.size(), items = data.item_ids.size();

    BiasedFactors model;
    model.factors = p.factors;
    model.global_mean = data.value_mean;
    model.train_metric = "training RMSE";
    // Users are solved first, so their initial values are never read; items start small and random.
    model.user_factors.assign(users * size_t(p.factors), 0.0f);
    init_factors(model.item_factors, items, p.factors, p.seed, 2);
    model.user_bias.assign(users, 0.0f);
    model.item_bias.assign(items, 0.0f);

    std::vector<Scratch> scratch;
    scratch.reserve(size_t(p.threads));
    for (int t = 0; t < p.threads; ++t)
        scratch.emplace_back(p.factors + 1);
    const auto user_chunks = side_chunks(data.by_user, p.factors, p.threads);
    const auto item_chunks = side_chunks(data.by_item, p.factors, p.threads);
    std::vector<double> item_error(items);

    for (int it = 1; it <= p.iterations; ++it)
    {
        solve_side(data.by_user, model.item_factors, model.item_bias, model.user_factors, model.user_bias,
                   model.global_mean, p, user_chunks, scratch, nullptr, hooks);
        solve_side(data.by_item, model.user_factors, model.user_bias, model.item_factors, model.item_bias,
                   model.global_mean, p, item_chunks, scratch, &item_error, hooks);
        double total = 0;  // summed in row order, so the figure is the same for any thread count
        for (double e : item_error)
            total += e;
        model.train_value = std::sqrt(total / double(data.nnz()));
        if (!std::isfinite(model.train_value))
            throw TrainingDiverged("training diverged at iteration " + std::to_string(it) +
                                     " (non-finite error): ratings or penalties too large for single-precision factors");
        model.iterations = it;
        const bool keep_going = hooks.keep_going(model, it);
        hooks.report(it, model.train_metric, model.train_value, started);
        if (!keep_going)
            break;
    }
    if (!all_finite(model.user_factors) || !all_finite(model.item_factors) || !all_finite(model.user_bias) ||
        !all_finite(model.item_bias))
        throw TrainingDiverged("training produced non-finite factors; try a larger regularization");
    return model;
}

}  // namespace rec::core
