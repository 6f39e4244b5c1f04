#include "core/als.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <stdexcept>

#include "core/random.hpp"
#include "core/simd_kernels.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
using ConstRow = Eigen::Map<const Eigen::VectorXf>;
using Row = Eigen::Map<Eigen::VectorXf>;

// Rows of the other side gathered at a time; bounds per-thread scratch for rows with millions of
// entries while keeping each block large enough for the kernels (512 KB at k = 64).
constexpr size_t kGatherRows = 2048;
// About 30 ms of one core's work: the granularity at which cancellation is noticed.
constexpr double kChunkFlopsPerThread = 1.0e8;

// One half-step's fixed inputs: solve every row of `rows` for [bias, factors] given the other side.
struct HalfStep
{
    const SparseRows *rows;
    const float *other_factors;
    const float *other_bias;
    float *own_factors;
    float *own_bias;
    float mean;
    float lambda, bias_lambda, unweighted;  // the penalties (see als.hpp)
    int k;
    int cg_steps;
    double *squared_error;  // when set: each row's squared training error after its solve
    // Variational Bayes (noise_variance > 0): each row's posterior covariance, (k+1) x (k+1) over
    // [bias; factors], of the other side (read) and of this side (written).
    float noise_variance;
    const float *other_covariance;
    float *own_covariance;
};

struct Scratch
{
    RowMatrix gathered;                   // other-side rows of one block
    Vector target;                        // rating minus the fixed terms, per entry of the row
    Vector error;                         // target minus the current prediction, per entry (CG)
    Vector products;                      // per entry of a block
    Vector residual, direction, product;  // CG, over the k factors (biases apart)
    Matrix gram;
    Vector rhs;
    Eigen::LLT<Matrix> llt;
    Matrix inverse;  // variational Bayes: the row's A⁻¹
};

// Calls fn(first entry, count, gathered rows) for the row's entries in blocks of kGatherRows, after
// gathering each block's other-side rows (and, with `targets`, the entries' targets) into scratch.
// A row of one block is gathered only once (`gathered_row` remembers it).
template <typename Fn>
void
for_each_block(const HalfStep &h, size_t r, Scratch &s, bool &gathered_row, Fn &&fn)
{
    const SparseRows &rows = *h.rows;
    const size_t begin = rows.offsets[r], count = rows.row_size(r);
    const int k = h.k;
    for (size_t done = 0; done < count; done += kGatherRows)
    {
        const size_t n = std::min(kGatherRows, count - done);
        if (!gathered_row)
        {
            constexpr size_t kPrefetchAhead = 16;  // rows of the other side are scattered: ask early
            for (size_t j = 0; j < n; ++j)
            {
                const size_t e = begin + done + j;
                if (j + kPrefetchAhead < n)
                {
                    const char *ahead = reinterpret_cast<const char *>(
                        h.other_factors + size_t(rows.columns[e + kPrefetchAhead]) * size_t(k));
                    for (size_t byte = 0; byte < size_t(k) * sizeof(float); byte += 64)
                        __builtin_prefetch(ahead + byte);
                }
                const size_t other = size_t(rows.columns[e]);
                s.gathered.row(Eigen::Index(j)) = ConstRow(h.other_factors + other * size_t(k), k).transpose();
            }
            gathered_row = count <= kGatherRows;
        }
        fn(done, n, s.gathered.data());
    }
}

// A few CG steps on (Σ z zᵀ + D) x = Σ z t from the current x = [b; p], z_j = [1; q_j], D the
// penalties. The per-entry errors t - zᵀx are kept up to date along the way (each step's products
// zᵀd are computed anyway), so the row's squared error costs nothing extra.
void
solve_row_cg(const HalfStep &h, size_t r, Scratch &s, const RowKernels &kernels)
{
    const SparseRows &rows = *h.rows;
    const size_t begin = rows.offsets[r], count = rows.row_size(r);
    const int k = h.k;
    Row p(h.own_factors + r * size_t(k), k);
    float &b = h.own_bias[r];
    if (count == 0)
    {
        p.setZero();
        b = 0;
        if (h.squared_error)
            h.squared_error[r] = 0;
        return;
    }
    const float n = float(count);
    const float penalty_p = h.lambda * n + h.unweighted + 1e-6f;
    const float penalty_b = h.bias_lambda * n + h.unweighted + 1e-6f;
    for (size_t j = 0; j < count; ++j)
    {
        const size_t other = size_t(rows.columns[begin + j]);
        s.target(Eigen::Index(j)) = rows.values[begin + j] - h.mean - h.other_bias[other];
    }
    bool gathered = false;
    // residual = Σ z (t - zᵀx) - D x
    s.residual = -penalty_p * p;
    float residual_b = -penalty_b * b;
    // Weighted rows (recency): each entry's term of the loss is multiplied by its weight w_j, so the
    // system is (Σ w z zᵀ + D) x = Σ w z t; the errors kept are unweighted.
    const float *weights = rows.weighted() ? rows.weights.data() + begin : nullptr;
    for_each_block(h, r, s, gathered, [&](size_t first, size_t m, const float *block) {
        float *products = s.products.data();
        kernels.rows_times_vector(block, m, k, p.data(), products);
        float *error = s.error.data() + first;
        for (size_t j = 0; j < m; ++j)
        {
            error[j] = s.target(Eigen::Index(first + j)) - (b + products[j]);
            products[j] = weights ? weights[first + j] * error[j] : error[j];  // reused: the weighted error
            residual_b += products[j];
        }
        kernels.rows_transpose_times_vector(block, m, k, products, s.residual.data());
    });
    s.direction = s.residual;
    float direction_b = residual_b;
    float rs_old = s.residual.squaredNorm() + residual_b * residual_b;
    for (int step = 0; step < h.cg_steps && rs_old >= 1e-20f; ++step)
    {
        // product = (Σ z zᵀ + D) d; the zᵀd are kept in `products` (rows in one block) to update the errors.
        s.product = penalty_p * s.direction;
        float product_b = penalty_b * direction_b;
        for_each_block(h, r, s, gathered, [&](size_t first, size_t m, const float *block) {
            float *products = s.products.data();
            const float *w = weights ? weights + first : nullptr;
            kernels.rows_gram_times_vector(block, m, k, s.direction.data(), direction_b, w, products, s.product.data());
            for (size_t j = 0; j < m; ++j)
                product_b += w ? w[j] * products[j] : products[j];
        });
        const float curvature = s.direction.dot(s.product) + direction_b * product_b;
        if (!(curvature > 0))
            break;
        const float step_size = rs_old / curvature;
        p.noalias() += step_size * s.direction;
        b += step_size * direction_b;
        s.residual.noalias() -= step_size * s.product;
        residual_b -= step_size * product_b;
        // A row of one block has its products of this step at hand; longer rows (rare) have their
        // errors recomputed at the end instead.
        if (count <= kGatherRows)
            s.error.head(Eigen::Index(count)) -= step_size * s.products.head(Eigen::Index(count));
        const float rs_new = s.residual.squaredNorm() + residual_b * residual_b;
        if (rs_new < 1e-20f)
            break;
        const float beta = rs_new / rs_old;
        s.direction = s.residual + beta * s.direction;
        direction_b = residual_b + beta * direction_b;
        rs_old = rs_new;
    }
    if (!h.squared_error)
        return;
    double sum = 0;
    if (count <= kGatherRows)
        for (size_t j = 0; j < count; ++j)
            sum += double(s.error(Eigen::Index(j))) * s.error(Eigen::Index(j));
    else
        for_each_block(h, r, s, gathered, [&](size_t first, size_t m, const float *block) {
            kernels.rows_times_vector(block, m, k, p.data(), s.products.data());
            for (size_t j = 0; j < m; ++j)
            {
                const double e = double(s.target(Eigen::Index(first + j))) - (double(b) + s.products(Eigen::Index(j)));
                sum += e * e;
            }
        });
    h.squared_error[r] = sum;
}

// The exact solve: the Gram matrix of the gathered rows [1, q_j] by a symmetric rank update, plus the
// penalties, then Cholesky.
void
solve_row_cholesky(const HalfStep &h, size_t r, Scratch &s)
{
    const SparseRows &rows = *h.rows;
    const size_t begin = rows.offsets[r], count = rows.row_size(r);
    const int k = h.k;
    float *own = h.own_factors + r * size_t(k);
    if (count == 0)
    {
        std::fill(own, own + k, 0.0f);
        h.own_bias[r] = 0;
        if (h.squared_error)
            h.squared_error[r] = 0;
        if (h.own_covariance)  // no data: the prior's covariance
        {
            const Eigen::Index dim = k + 1;
            Eigen::Map<Matrix> covariance(h.own_covariance + r * size_t(dim * dim), dim, dim);
            covariance.setZero();
            covariance.diagonal().array() = h.noise_variance / (h.unweighted + 1e-6f);
        }
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
            s.gathered(Eigen::Index(j), 0) = 1.0f;
            s.gathered.row(Eigen::Index(j)).tail(k) =
                Eigen::Map<const Eigen::RowVectorXf>(h.other_factors + other * size_t(k), k);
            s.target(Eigen::Index(j)) = rows.values[entry] - h.mean - h.other_bias[other];
            if (rows.weighted())  // Σ w z zᵀ and Σ w z t: both sides of the entry scaled by √w
            {
                const float root = std::sqrt(rows.weights[entry]);
                s.gathered.row(Eigen::Index(j)) *= root;
                s.target(Eigen::Index(j)) *= root;
            }
        }
        auto block = s.gathered.topRows(Eigen::Index(n));
        s.gram.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
        s.rhs.noalias() += block.transpose() * s.target.head(Eigen::Index(n));
    }
    const Eigen::Index dim = k + 1;
    if (h.other_covariance)
    {
        // Variational Bayes: E[z zᵀ] = z̄ z̄ᵀ + Cov(z) for z = [1; q_j], and the target r - μ - b_j
        // moves with b_j: E[z (r - μ - b_j)] = z̄ (r - μ - b̄_j) - [0; Cov(q_j, b_j)].
        for (size_t j = 0; j < count; ++j)
        {
            const size_t other = size_t(rows.columns[begin + j]);
            const Eigen::Map<const Matrix> covariance(h.other_covariance + other * size_t(dim * dim), dim, dim);
            const float w = rows.weight(begin + j);
            s.gram.bottomRightCorner(k, k) += w * covariance.bottomRightCorner(k, k);
            s.rhs.tail(k) -= w * covariance.col(0).tail(k);
        }
    }
    // ALS-WR: the penalty grows with the row's number of ratings, as in Spark; the tiny constant
    // keeps the system positive definite when every penalty is zero.
    s.gram.diagonal().array() += h.lambda * float(count) + h.unweighted + 1e-6f;
    s.gram(0, 0) += (h.bias_lambda - h.lambda) * float(count);
    s.llt.compute(s.gram.selfadjointView<Eigen::Lower>());
    s.llt.solveInPlace(s.rhs);
    if (h.own_covariance)
    {
        // The row's posterior covariance: noise variance times A⁻¹.
        s.inverse.setIdentity();
        s.llt.solveInPlace(s.inverse);
        Eigen::Map<Matrix>(h.own_covariance + r * size_t(dim * dim), dim, dim) = h.noise_variance * s.inverse;
    }
    h.own_bias[r] = s.rhs(0);
    Eigen::Map<Eigen::VectorXf>(own, k) = s.rhs.tail(k);
    if (h.squared_error)
    {
        ConstRow mine(own, k);
        double sum = 0;
        for (size_t j = 0; j < count; ++j)
        {
            const size_t other = size_t(rows.columns[begin + j]);
            const float predicted = h.mean + h.own_bias[r] + h.other_bias[other] +
                                    mine.dot(ConstRow(h.other_factors + other * size_t(k), k));
            const double err = double(rows.values[begin + j]) - double(predicted);
            sum += err * err;
        }
        h.squared_error[r] = sum;
    }
}

std::vector<size_t>
side_chunks(const SparseRows &rows, const AlsParams &p)
{
    const double dim = p.factors + 1;
    std::vector<double> costs(rows.rows());
    for (size_t r = 0; r < costs.size(); ++r)
        costs[r] = p.solver == Solver::Cholesky ? double(rows.row_size(r)) * dim * dim + dim * dim * dim / 3.0
                                                : double(rows.row_size(r)) * 4.0 * dim * (1 + p.cg_steps) + dim * 8;
    return chunk_boundaries(costs, kChunkFlopsPerThread * p.threads);
}

void
init_factors(LargeVector<float> &factors, size_t rows, int k, uint64_t seed, uint64_t stream)
{
    // Small random values: the first user half-step only needs the item factors to be distinct.
    const double scale = 1.0 / std::sqrt(double(k));
    factors.resize(rows * size_t(k));
    for (size_t r = 0; r < rows; ++r)
    {
        RowRandom rng(seed, stream, r);
        for (int f = 0; f < k; ++f)
            factors[r * size_t(k) + size_t(f)] = float(rng.normal() * scale);
    }
}

size_t
longest_row(const SparseRows &rows)
{
    size_t longest = 0;
    for (size_t r = 0; r < rows.rows(); ++r)
        longest = std::max(longest, rows.row_size(r));
    return longest;
}

}  // namespace

ExplicitHalfStep::ExplicitHalfStep(const AlsParams &params, double global_mean)
    : params_(params), global_mean_(global_mean)
{
    params_.threads = resolve_threads(params.threads);
}

void
ExplicitHalfStep::solve(const SparseRows &rows, const Side &other, const MutableSide &own, double *squared_error,
                        HostHooks &hooks, const std::vector<size_t> *chunks) const
{
    const AlsParams &p = params_;
    const int k = p.factors;
    const bool cholesky = p.solver == Solver::Cholesky;
    const size_t longest = longest_row(rows);
    std::vector<Scratch> scratch(size_t(p.threads));
    for (Scratch &s : scratch)
    {
        const Eigen::Index dim = cholesky ? k + 1 : k;
        // No longer than the longest row: a worker solving one short row at a time (issue 15) would
        // otherwise allocate and fault in half a megabyte per row.
        const size_t block = std::min(kGatherRows, longest);
        s.gathered.resize(Eigen::Index(block), dim);
        s.target.resize(Eigen::Index(cholesky ? block : longest));
        s.error.resize(Eigen::Index(longest));
        s.products.resize(Eigen::Index(block));
        for (Vector *v : {&s.residual, &s.direction, &s.product})
            v->resize(k);
        if (cholesky)
        {
            s.gram.resize(k + 1, k + 1);
            if (p.noise_variance > 0)
                s.inverse.resize(k + 1, k + 1);
            s.rhs.resize(k + 1);
            // Sized by factoring the identity: LLT's sizing constructor leaves its status unset, and
            // moving that is undefined (UndefinedBehaviorSanitizer caught it).
            s.llt.compute(Matrix::Identity(k + 1, k + 1));
        }
    }
    const bool variational = p.noise_variance > 0;
    const HalfStep h{&rows,
                     other.factors->data(),
                     other.bias->data(),
                     own.factors->data(),
                     own.bias->data(),
                     float(global_mean_),
                     float(p.regularization),
                     float(p.bias_regularization.value_or(p.regularization)),
                     float(p.unweighted_regularization),
                     k,
                     p.cg_steps,
                     squared_error,
                     float(p.noise_variance),
                     variational ? other.covariance->data() : nullptr,
                     variational ? own.covariance->data() : nullptr};
    const RowKernels &kernels = best_kernels();
    const std::vector<size_t> own_chunks = chunks ? std::vector<size_t>() : side_chunks(rows, p);
    parallel_rows(chunks ? *chunks : own_chunks, p.threads, hooks, [&](size_t r, int thread) {
        if (cholesky)
            solve_row_cholesky(h, r, scratch[size_t(thread)]);
        else
            solve_row_cg(h, r, scratch[size_t(thread)], kernels);
    });
}

void
check_als_params(const AlsParams &p)
{
    if (p.factors < 1)
        throw std::invalid_argument("factors must be at least 1");
    if (p.iterations < 1)
        throw std::invalid_argument("iterations must be at least 1");
    if (p.cg_steps < 1)
        throw std::invalid_argument("cg_steps must be at least 1");
    for (double value : {p.regularization, p.bias_regularization.value_or(0.0), p.unweighted_regularization})
        if (!(value >= 0) || !std::isfinite(value))
            throw std::invalid_argument("regularization parameters must be finite numbers >= 0");
    if (!(p.noise_variance >= 0) || !std::isfinite(p.noise_variance))
        throw std::invalid_argument("noise_variance must be a finite number >= 0");
    if (p.noise_variance > 0 && p.solver != Solver::Cholesky)
        throw std::invalid_argument("noise_variance needs solver 'cholesky'");
}

FactorModel
initial_explicit_model(size_t users, size_t items, const AlsParams &p, double global_mean)
{
    const int k = p.factors;
    FactorModel model;
    model.kind = ModelKind::ExplicitAls;
    model.factors = k;
    model.global_mean = global_mean;
    model.train_metric = "training RMSE";
    model.solve.regularization = p.regularization;
    model.solve.bias_regularization = p.bias_regularization.value_or(p.regularization);
    model.solve.unweighted_regularization = p.unweighted_regularization;
    // Users are solved first: the exact solver never reads their initial values, and CG starts them
    // from zero. Items start small and random.
    model.user_factors.assign(users * size_t(k), 0.0f);
    init_factors(model.item_factors, items, k, p.seed, 2);
    model.user_bias.assign(users, 0.0f);
    model.item_bias.assign(items, 0.0f);
    return model;
}

FactorModel
train_explicit_als(const Interactions &data, const AlsParams &params, TrainHooks &hooks)
{
    check_als_params(params);
    AlsParams p = params;
    p.threads = resolve_threads(params.threads);
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    const int k = p.factors;

    FactorModel model = initial_explicit_model(users, items, p, data.value_mean);

    const auto user_chunks = side_chunks(data.by_user, p);
    const auto item_chunks = side_chunks(data.by_item, p);
    std::vector<double> item_error(items);
    const ExplicitHalfStep step(p, model.global_mean);
    // Variational Bayes: each row's posterior covariance; the items' start at zero, so the first user
    // half-step is the plain one.
    const bool variational = p.noise_variance > 0;
    const size_t covariance_size = variational ? size_t(k + 1) * size_t(k + 1) : 0;
    LargeVector<float> user_covariance(users * covariance_size), item_covariance(items * covariance_size, 0.0f);
    run_iterations(
        model, p.iterations, hooks,
        "ratings or penalties too large for single-precision factors: try a larger unweighted_regularization",
        [&](int) {
            step.solve(data.by_user, {&model.item_factors, &model.item_bias, &item_covariance},
                       {&model.user_factors, &model.user_bias, &user_covariance}, nullptr, hooks, &user_chunks);
            step.solve(data.by_item, {&model.user_factors, &model.user_bias, &user_covariance},
                       {&model.item_factors, &model.item_bias, &item_covariance}, item_error.data(), hooks,
                       &item_chunks);
            double total = 0;  // summed in row order: the same for any thread count
            for (double e : item_error)
                total += e;
            return std::sqrt(total / double(data.nnz()));
        });
    return model;
}

}  // namespace rec::core
