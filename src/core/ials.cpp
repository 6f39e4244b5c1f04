#include "core/ials.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/random.hpp"
#include "core/simd_kernels.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
using ConstRow = Eigen::Map<const Eigen::VectorXf>;
using Row = Eigen::Map<Eigen::VectorXf>;

constexpr double kChunkFlopsPerThread = 1.0e8;  // about 30 ms of one core's work
constexpr size_t kGramBlockRows = 4096;

// YᵀY + λI over the rows of `factors`, summed block by block in a fixed order, so the result does
// not depend on the number of threads.
Matrix
gram_plus_ridge(const LargeVector<float> &factors, size_t rows, int k, double lambda, int threads, HostHooks &hooks)
{
    const size_t blocks = (rows + kGramBlockRows - 1) / kGramBlockRows;
    std::vector<Matrix> partial(blocks, Matrix::Zero(k, k));
    using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    // Chunks of several blocks, so that poll() runs every few tens of milliseconds.
    const auto chunked = even_boundaries(blocks, size_t(std::max(1, threads)) * 8);
    parallel_rows(chunked, threads, hooks, [&](size_t b, int) {
        const size_t begin = b * kGramBlockRows, count = std::min(kGramBlockRows, rows - begin);
        Eigen::Map<const RowMatrix> block(factors.data() + begin * size_t(k), Eigen::Index(count), k);
        partial[b].selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
    });
    Matrix gram = Matrix::Zero(k, k);
    for (const Matrix &p : partial)
        gram += p;
    gram = gram.selfadjointView<Eigen::Lower>();
    gram.diagonal().array() += float(lambda);
    return gram;
}

// "Rows" of parallel_rows here are chunks of rows: cheap rows are batched so that scheduling costs
// stay small, and each chunk is about 30 ms of work.
std::vector<size_t>
implicit_chunks(const SparseRows &rows, int k, bool cholesky, int threads)
{
    std::vector<double> costs(rows.rows());
    const double kk = double(k) * k;
    for (size_t r = 0; r < costs.size(); ++r)
        costs[r] =
            cholesky ? double(rows.row_size(r)) * kk + kk * k / 3.0 : double(rows.row_size(r)) * 4.0 * k * 4 + kk * 4;
    return chunk_boundaries(costs, kChunkFlopsPerThread * threads);
}

struct SolveContext
{
    const SparseRows *rows;
    const LargeVector<float> *other;  // other side's factors (row-major)
    LargeVector<float> *own;          // this side's factors, updated in place
    const Matrix *gram;               // YᵀY + λI
    const SolveParams *solve;         // the confidence of each value
    int k;
    int cg_steps;
    float lambda;
    const RowKernels *kernels;  // products over gathered rows
    // When set, each row's share of the training loss once solved (see row_loss).
    std::vector<double> *row_losses = nullptr;
};

// Row r's share of Σ_all c (p - xᵀy)² for its solved x, without the regularisation:
// xᵀ(YᵀY)x + Σ_observed [(c-1) s² - 2 c p s + c p], with s = xᵀy taken from `projections` when the
// caller has them (the gathered rows times x) and computed here otherwise.
double
row_loss(const SolveContext &ctx, size_t r, const float *projections, Vector &scratch)
{
    const int k = ctx.k;
    const SparseRows &rows = *ctx.rows;
    ConstRow x(ctx.own->data() + r * size_t(k), k);
    scratch.noalias() = (*ctx.gram) * x;
    double loss = double(x.dot(scratch)) - double(ctx.lambda) * double(x.squaredNorm());
    for (size_t e = rows.offsets[r], j = 0; e < rows.offsets[r + 1]; ++e, ++j)
    {
        const double weight = ctx.solve->extra_weight(rows.values[e]);
        const double target = ctx.solve->weighted_target(rows.values[e]);
        const double score = projections
                                 ? double(projections[j])
                                 : double(ConstRow(ctx.other->data() + size_t(rows.columns[e]) * size_t(k), k).dot(x));
        loss += weight * score * score - 2.0 * target * score + target;
    }
    return loss;
}

// Rows with at most this many entries have the other side's vectors gathered into contiguous scratch
// once, so the CG steps read them from cache instead of from all over memory (the half-step is
// memory-bound: 4 passes over scattered 256-byte rows otherwise). 512 KB of scratch at k = 64.
constexpr size_t kGatherEntries = 2048;

struct CgScratch
{
    Vector residual, direction, product;
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> gathered;
    Vector weights, targets, projected;
};

// A few conjugate-gradient steps on (YᵀY + λI + Σ (c-1) y yᵀ) x = Σ c p y, from the current x.
void
solve_row_cg(const SolveContext &ctx, size_t r, CgScratch &s)
{
    const int k = ctx.k;
    const SparseRows &rows = *ctx.rows;
    const size_t begin = rows.offsets[r], end = rows.offsets[r + 1], n = end - begin;
    Row x(ctx.own->data() + r * size_t(k), k);
    if (n == 0)
    {
        x.setZero();
        if (ctx.row_losses)
            (*ctx.row_losses)[r] = 0;
        return;
    }
    const float *other = ctx.other->data();
    Vector &residual = s.residual, &direction = s.direction, &product = s.product;
    const bool gather = n <= kGatherEntries;
    const Eigen::Index rows_n = Eigen::Index(n);
    if (gather)
    {
        constexpr size_t kPrefetchAhead = 8;  // rows of the other side are scattered: ask for them early
        for (size_t j = 0; j < n; ++j)
        {
            const size_t e = begin + j;
            if (j + kPrefetchAhead < n)
            {
                const char *ahead =
                    reinterpret_cast<const char *>(other + size_t(rows.columns[e + kPrefetchAhead]) * size_t(k));
                for (size_t byte = 0; byte < size_t(k) * sizeof(float); byte += 64)
                    __builtin_prefetch(ahead + byte);
            }
            s.gathered.row(Eigen::Index(j)) = ConstRow(other + size_t(rows.columns[e]) * size_t(k), k).transpose();
            s.weights(Eigen::Index(j)) = ctx.solve->extra_weight(rows.values[e]);     // c - 1
            s.targets(Eigen::Index(j)) = ctx.solve->weighted_target(rows.values[e]);  // c * p
        }
    }
    // residual = b - A x
    residual.noalias() = -(*ctx.gram) * x;
    const RowKernels &kernels = *ctx.kernels;
    if (gather)
    {
        kernels.rows_times_vector(s.gathered.data(), n, k, x.data(), s.projected.data());
        s.projected.head(rows_n) =
            s.targets.head(rows_n) - s.weights.head(rows_n).cwiseProduct(s.projected.head(rows_n));
        kernels.rows_transpose_times_vector(s.gathered.data(), n, k, s.projected.data(), residual.data());
    }
    else
        for (size_t e = begin; e < end; ++e)
        {
            ConstRow y(other + size_t(rows.columns[e]) * size_t(k), k);
            const float extra = ctx.solve->extra_weight(rows.values[e]);
            const float target = ctx.solve->weighted_target(rows.values[e]);
            residual.noalias() += (target - extra * y.dot(x)) * y;
        }
    direction = residual;
    float rs_old = residual.squaredNorm();
    for (int step = 0; step < ctx.cg_steps && rs_old >= 1e-20f; ++step)
    {
        product.noalias() = (*ctx.gram) * direction;
        if (gather)
            kernels.rows_gram_times_vector(s.gathered.data(), n, k, direction.data(), 0.0f, s.weights.data(),
                                           s.projected.data(), product.data());
        else
            for (size_t e = begin; e < end; ++e)
            {
                ConstRow y(other + size_t(rows.columns[e]) * size_t(k), k);
                product.noalias() += (ctx.solve->extra_weight(rows.values[e]) * y.dot(direction)) * y;
            }
        const float step_size = rs_old / direction.dot(product);
        x.noalias() += step_size * direction;
        residual.noalias() -= step_size * product;
        const float rs_new = residual.squaredNorm();
        if (rs_new < 1e-20f)
            break;
        direction = residual + (rs_new / rs_old) * direction;
        rs_old = rs_new;
    }
    if (ctx.row_losses)
    {
        if (gather)  // from cache, while the rows are still there
            kernels.rows_times_vector(s.gathered.data(), n, k, x.data(), s.projected.data());
        (*ctx.row_losses)[r] = row_loss(ctx, r, gather ? s.projected.data() : nullptr, product);
    }
}

void
solve_row_cholesky(const SolveContext &ctx, size_t r, Matrix &a, Vector &b, Eigen::LLT<Matrix> &llt)
{
    const int k = ctx.k;
    const SparseRows &rows = *ctx.rows;
    const size_t begin = rows.offsets[r], end = rows.offsets[r + 1];
    Row x(ctx.own->data() + r * size_t(k), k);
    if (begin == end)
    {
        x.setZero();
        if (ctx.row_losses)
            (*ctx.row_losses)[r] = 0;
        return;
    }
    a = *ctx.gram;
    b.setZero();
    for (size_t e = begin; e < end; ++e)
    {
        ConstRow y(ctx.other->data() + size_t(rows.columns[e]) * size_t(k), k);
        const float extra = ctx.solve->extra_weight(rows.values[e]);
        b.noalias() += ctx.solve->weighted_target(rows.values[e]) * y;
        a.selfadjointView<Eigen::Lower>().rankUpdate(y, extra);
    }
    llt.compute(a.selfadjointView<Eigen::Lower>());
    x = llt.solve(b);
    if (ctx.row_losses)
        (*ctx.row_losses)[r] = row_loss(ctx, r, nullptr, b);
}

SolveParams
solve_params(const ImplicitParams &p)
{
    SolveParams solve;
    solve.regularization = p.regularization;
    solve.alpha = p.alpha;
    solve.confidence = p.confidence;
    return solve;
}

void
init_small_random(LargeVector<float> &factors, size_t rows, int k, uint64_t seed, uint64_t stream)
{
    // As `implicit`: small positive-centred values, so the first half-step starts well conditioned.
    factors.resize(rows * size_t(k));
    for (size_t r = 0; r < rows; ++r)
    {
        RowRandom rng(seed, stream, r);
        for (int f = 0; f < k; ++f)
            factors[r * size_t(k) + size_t(f)] = float(rng.uniform() * 0.01);
    }
}

}  // namespace

ImplicitHalfStep::ImplicitHalfStep(const LargeVector<float> &other, size_t other_rows, const ImplicitParams &params,
                                   HostHooks &hooks)
    : other_(other), params_(params)
{
    params_.threads = resolve_threads(params.threads);
    const Matrix gram =
        gram_plus_ridge(other, other_rows, params_.factors, params_.regularization, params_.threads, hooks);
    gram_.assign(gram.data(), gram.data() + gram.size());
}

ImplicitHalfStep::ImplicitHalfStep(const LargeVector<float> &other, const ImplicitParams &params,
                                   std::vector<float> gram)
    : other_(other), params_(params), gram_(std::move(gram))
{
    params_.threads = resolve_threads(params.threads);
    if (gram_.size() != size_t(params_.factors) * size_t(params_.factors))
        throw std::invalid_argument("the Gram matrix does not match the factors");
}

void
ImplicitHalfStep::solve(const SparseRows &rows, LargeVector<float> &own, std::vector<double> *row_losses,
                        HostHooks &hooks, const std::vector<size_t> *chunks) const
{
    const ImplicitParams &p = params_;
    const int k = p.factors;
    const Matrix gram = Eigen::Map<const Matrix>(gram_.data(), k, k);
    const SolveParams solve = solve_params(p);
    SolveContext ctx{&rows,           &other_,   &own, &gram, &solve, k, p.cg_steps, float(p.regularization),
                     &best_kernels(), row_losses};
    struct Scratch
    {
        CgScratch cg;
        Vector b;
        Matrix a;
        Eigen::LLT<Matrix> llt;
    };
    // No longer than the longest row: a worker solving one short row at a time (issue 15) would
    // otherwise allocate and fault in half a megabyte per row.
    size_t gather_rows = 0;
    for (size_t r = 0; r < rows.rows() && gather_rows < kGatherEntries; ++r)
        gather_rows = std::max(gather_rows, std::min(kGatherEntries, rows.row_size(r)));
    std::vector<Scratch> scratch(size_t(p.threads));
    for (Scratch &s : scratch)
    {
        if (p.solver == Solver::Cholesky)
        {
            s.b.resize(k);
            s.a.resize(k, k);
            // Sized once by factoring the identity: LLT's sizing constructor leaves its status
            // unset, and moving that is undefined (UndefinedBehaviorSanitizer caught it).
            s.llt.compute(Matrix::Identity(k, k));
        }
        else
        {
            for (Vector *v : {&s.cg.residual, &s.cg.direction, &s.cg.product})
                v->resize(k);
            s.cg.gathered.resize(Eigen::Index(gather_rows), k);
            for (Vector *v : {&s.cg.weights, &s.cg.targets, &s.cg.projected})
                v->resize(Eigen::Index(gather_rows));
        }
    }
    const std::vector<size_t> own_chunks =
        chunks ? std::vector<size_t>() : implicit_chunks(rows, k, p.solver == Solver::Cholesky, p.threads);
    parallel_rows(chunks ? *chunks : own_chunks, p.threads, hooks, [&](size_t r, int thread) {
        Scratch &s = scratch[size_t(thread)];
        if (p.solver == Solver::Cholesky)
            solve_row_cholesky(ctx, r, s.a, s.b, s.llt);
        else
            solve_row_cg(ctx, r, s.cg);
    });
}

void
check_implicit_params(const ImplicitParams &p)
{
    if (p.factors < 1)
        throw std::invalid_argument("factors must be at least 1");
    if (p.iterations < 1)
        throw std::invalid_argument("iterations must be at least 1");
    if (!(p.regularization >= 0) || !std::isfinite(p.regularization))
        throw std::invalid_argument("regularization must be a finite number >= 0");
    if (!(p.alpha >= 0) || !std::isfinite(p.alpha))
        throw std::invalid_argument("alpha must be a finite number >= 0");
    if (p.cg_steps < 1)
        throw std::invalid_argument("cg_steps must be at least 1");
}

double
implicit_loss(const Interactions &data, const FactorModel &model, const ImplicitParams &params, HostHooks &hooks)
{
    ImplicitParams p = params;
    p.threads = resolve_threads(params.threads);
    const SolveParams solve = solve_params(p);
    const int k = p.factors;
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    const Matrix gram = gram_plus_ridge(model.item_factors, items, k, 0.0, p.threads, hooks);
    const SparseRows &rows = data.by_user;
    std::vector<double> per_user(users), confidence(users);
    std::vector<Vector> scratch(size_t(p.threads), Vector(k));
    const auto bounds = implicit_chunks(rows, k, false, p.threads);
    // Σ_all c (p - xᵀy)² = Σ_u [xᵀ(YᵀY)x + Σ_observed ((c-1)(xᵀy)² - 2 c p xᵀy + c p)].
    parallel_rows(bounds, p.threads, hooks, [&](size_t u, int thread) {
        ConstRow x(model.user_factors.data() + u * size_t(k), k);
        Vector &gx = scratch[size_t(thread)];
        gx.noalias() = gram * x;
        double loss = double(x.dot(gx)), total_confidence = 0;
        for (size_t e = rows.offsets[u]; e < rows.offsets[u + 1]; ++e)
        {
            ConstRow y(model.item_factors.data() + size_t(rows.columns[e]) * size_t(k), k);
            const double extra = solve.extra_weight(rows.values[e]);
            const double target = solve.weighted_target(rows.values[e]);
            const double score = y.dot(x);
            loss += extra * score * score - 2.0 * target * score + target;
            total_confidence += 1.0 + extra;
        }
        per_user[u] = loss;
        confidence[u] = total_confidence;
    });
    double loss = 0, total_confidence = 0, norms = 0;
    for (size_t u = 0; u < users; ++u)
    {
        loss += per_user[u];
        total_confidence += confidence[u];
    }
    for (float v : model.user_factors)
        norms += double(v) * v;
    for (float v : model.item_factors)
        norms += double(v) * v;
    loss += p.regularization * norms;
    // Cells without a row have confidence 1.
    const double cells = double(users) * double(items);
    return loss / (total_confidence + cells - double(data.nnz()));
}

FactorModel
initial_implicit_model(size_t users, size_t items, const ImplicitParams &p)
{
    FactorModel model;
    model.kind = ModelKind::ImplicitAls;
    model.factors = p.factors;
    model.train_metric = "loss";
    model.solve = solve_params(p);
    init_small_random(model.user_factors, users, p.factors, p.seed, 1);
    init_small_random(model.item_factors, items, p.factors, p.seed, 2);
    model.user_bias.assign(users, 0.0f);
    model.item_bias.assign(items, 0.0f);
    return model;
}

FactorModel
train_implicit_als(const Interactions &data, const ImplicitParams &params, TrainHooks &hooks)
{
    check_implicit_params(params);
    ImplicitParams p = params;
    p.threads = resolve_threads(params.threads);
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    FactorModel model = initial_implicit_model(users, items, p);
    const bool cholesky = p.solver == Solver::Cholesky;
    const auto user_chunks = implicit_chunks(data.by_user, p.factors, cholesky, p.threads);
    const auto item_chunks = implicit_chunks(data.by_item, p.factors, cholesky, p.threads);
    // The loss is summed from the item half-step, row by row while each item's users are in cache,
    // and in row order, so it does not depend on the number of threads.
    std::vector<double> item_losses(items);
    double total_confidence = 0;
    for (float v : data.by_item.values)
        total_confidence += 1.0 + double(model.solve.extra_weight(v));
    const double unobserved = double(users) * double(items) - double(data.nnz());
    run_iterations(model, p.iterations, hooks, "try a larger regularization or a smaller alpha", [&](int) {
        ImplicitHalfStep(model.item_factors, items, p, hooks)
            .solve(data.by_user, model.user_factors, nullptr, hooks, &user_chunks);
        ImplicitHalfStep(model.user_factors, users, p, hooks)
            .solve(data.by_item, model.item_factors, &item_losses, hooks, &item_chunks);
        double loss = 0, norms = 0;
        for (double l : item_losses)
            loss += l;
        for (float v : model.user_factors)
            norms += double(v) * v;
        for (float v : model.item_factors)
            norms += double(v) * v;
        return (loss + p.regularization * norms) / (total_confidence + unobserved);
    });
    return model;
}

}  // namespace rec::core
