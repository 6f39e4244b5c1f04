#include "core/fold_in.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {
using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
using ConstRow = Eigen::Map<const Eigen::VectorXf>;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
}  // namespace

namespace {

// The normal equations one user's explicit solve has: a x = Σ_j weights[j] z_j with x = [b_u; p_u],
// z_j = [1; y_j] and weights[j] = r_j - μ - b_j.
Matrix
explicit_normal_matrix(const float *item_factors, const float *item_bias, int k, double global_mean,
                       const int32_t *items, const float *ratings, size_t count, double regularization,
                       double bias_regularization, double unweighted_regularization, std::vector<float> &weights)
{
    const int dim = k + 1;
    Matrix a = Matrix::Zero(dim, dim);
    Vector z(dim);
    weights.resize(count);
    for (size_t j = 0; j < count; ++j)
    {
        z(0) = 1.0f;
        z.tail(k) = ConstRow(item_factors + size_t(items[j]) * size_t(k), k);
        a.noalias() += z * z.transpose();
        weights[j] = float(ratings[j] - global_mean - item_bias[items[j]]);
    }
    const float n = float(count);
    a.diagonal().array() += float(regularization) * n + float(unweighted_regularization) + 1e-6f;
    a(0, 0) += float(bias_regularization - regularization) * n;
    return a;
}

// The same for implicit ALS: a = YᵀY + λI + Σ_j α v_j y_j y_jᵀ, weights[j] = 1 + α v_j (0 if v_j <= 0).
Matrix
implicit_normal_matrix(const float *item_factors, const float *gram, int k, const int32_t *items, const float *values,
                       size_t count, double regularization, double alpha, std::vector<float> &weights)
{
    Matrix a = Eigen::Map<const RowMatrix>(gram, k, k);
    a.diagonal().array() += float(regularization);
    weights.resize(count);
    for (size_t j = 0; j < count; ++j)
    {
        const ConstRow y(item_factors + size_t(items[j]) * size_t(k), k);
        const float extra = float(alpha) * values[j];
        a.noalias() += (extra * y) * y.transpose();
        weights[j] = values[j] > 0 ? 1.0f + extra : 0.0f;
    }
    return a;
}

// x = a⁻¹ Σ_j weights[j] z_j, where z_j is item j's factors, after a leading 1 when `with_bias`.
Vector
solve_weighted(const Matrix &a, const float *item_factors, int k, const int32_t *items, const std::vector<float> &weights,
               bool with_bias)
{
    const int offset = with_bias ? 1 : 0;
    Vector b = Vector::Zero(k + offset);
    for (size_t j = 0; j < weights.size(); ++j)
    {
        if (with_bias)
            b(0) += weights[j];
        b.tail(k) += weights[j] * ConstRow(item_factors + size_t(items[j]) * size_t(k), k);
    }
    return a.llt().solve(b);
}

// Item j's term of the target's score: (a⁻¹ z_target)ᵀ z_j · weights[j] (a is symmetric).
std::vector<float>
split_score(const Matrix &a, const float *item_factors, int k, const int32_t *items, const std::vector<float> &weights,
            int32_t target, bool with_bias)
{
    const int offset = with_bias ? 1 : 0;
    Vector z_target(k + offset);
    if (with_bias)
        z_target(0) = 1.0f;
    z_target.tail(k) = ConstRow(item_factors + size_t(target) * size_t(k), k);
    const Vector weighted_target = a.llt().solve(z_target);
    std::vector<float> out(weights.size());
    for (size_t j = 0; j < weights.size(); ++j)
    {
        float dot = with_bias ? weighted_target(0) : 0.0f;
        dot += weighted_target.tail(k).dot(ConstRow(item_factors + size_t(items[j]) * size_t(k), k));
        out[j] = dot * weights[j];
    }
    return out;
}

}  // namespace

FoldedUser
fold_in_explicit(const float *item_factors, const float *item_bias, int k, double global_mean, const int32_t *items,
                 const float *ratings, size_t count, double regularization, double bias_regularization,
                 double unweighted_regularization)
{
    std::vector<float> weights;
    const Matrix a = explicit_normal_matrix(item_factors, item_bias, k, global_mean, items, ratings, count,
                                            regularization, bias_regularization, unweighted_regularization, weights);
    const Vector x = solve_weighted(a, item_factors, k, items, weights, true);
    FoldedUser out;
    out.bias = x(0);
    out.factors.assign(x.data() + 1, x.data() + k + 1);
    return out;
}

FoldedUser
fold_in_implicit(const float *item_factors, const float *gram, int k, const int32_t *items, const float *values,
                 size_t count, double regularization, double alpha)
{
    std::vector<float> weights;
    const Matrix a = implicit_normal_matrix(item_factors, gram, k, items, values, count, regularization, alpha, weights);
    const Vector x = solve_weighted(a, item_factors, k, items, weights, false);
    FoldedUser out;
    out.factors.assign(x.data(), x.data() + k);
    return out;
}

std::vector<float>
explain_explicit(const float *item_factors, const float *item_bias, int k, double global_mean, const int32_t *items,
                 const float *ratings, size_t count, double regularization, double bias_regularization,
                 double unweighted_regularization, int32_t target)
{
    std::vector<float> weights;
    const Matrix a = explicit_normal_matrix(item_factors, item_bias, k, global_mean, items, ratings, count,
                                            regularization, bias_regularization, unweighted_regularization, weights);
    return split_score(a, item_factors, k, items, weights, target, true);
}

std::vector<float>
explain_implicit(const float *item_factors, const float *gram, int k, const int32_t *items, const float *values,
                 size_t count, double regularization, double alpha, int32_t target)
{
    std::vector<float> weights;
    const Matrix a = implicit_normal_matrix(item_factors, gram, k, items, values, count, regularization, alpha, weights);
    return split_score(a, item_factors, k, items, weights, target, false);
}

std::vector<float>
gram_of(const float *factors, size_t rows, int k)
{
    Matrix g = Matrix::Zero(k, k);
    g.selfadjointView<Eigen::Lower>().rankUpdate(Eigen::Map<const RowMatrix>(factors, Eigen::Index(rows), k).transpose());
    g = g.selfadjointView<Eigen::Lower>();
    std::vector<float> out(size_t(k) * size_t(k));
    Eigen::Map<RowMatrix>(out.data(), k, k) = g;
    return out;
}

}  // namespace rec::core
