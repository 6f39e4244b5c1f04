#include "core/factor_model.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <stdexcept>

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
using ConstRow = Eigen::Map<const Eigen::VectorXf>;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The normal equations of one user's solve, a x = Σ_j weights[j] z_j: z_j is item j's factors, after a
// leading 1 for explicit models (x = [b_u; p_u]).
//   explicit: a = Σ z_j z_jᵀ + diag(λ_b n + c, λ n + c, ...), weights[j] = r_j - μ - b_j
//   implicit: a = YᵀY + λI + Σ (c_j - 1) y_j y_jᵀ,             weights[j] = c_j p_j
struct NormalEquations
{
    Matrix a;
    std::vector<float> weights;
    bool with_bias;
};

NormalEquations
normal_equations(const FactorModelView &m, const int32_t *items, const float *values, size_t count)
{
    const int k = m.k;
    NormalEquations eq;
    eq.weights.resize(count);
    if (m.kind == ModelKind::ExplicitAls)
    {
        eq.with_bias = true;
        eq.a = Matrix::Zero(k + 1, k + 1);
        Vector z(k + 1);
        for (size_t j = 0; j < count; ++j)
        {
            z(0) = 1.0f;
            z.tail(k) = ConstRow(m.item_factors + size_t(items[j]) * size_t(k), k);
            eq.a.noalias() += z * z.transpose();
            eq.weights[j] = float(values[j] - m.global_mean - m.item_bias[items[j]]);
        }
        const float n = float(count);
        const SolveParams &s = m.solve;
        eq.a.diagonal().array() += float(s.regularization) * n + float(s.unweighted_regularization) + 1e-6f;
        eq.a(0, 0) += float(s.bias_regularization - s.regularization) * n;
        return eq;
    }
    eq.with_bias = false;
    if (m.item_gram)
        eq.a = Eigen::Map<const RowMatrix>(m.item_gram, k, k);
    else
    {
        const std::vector<float> gram = gram_of(m.item_factors, m.items, k);
        eq.a = Eigen::Map<const RowMatrix>(gram.data(), k, k);
    }
    eq.a.diagonal().array() += float(m.solve.regularization);
    for (size_t j = 0; j < count; ++j)
    {
        const ConstRow y(m.item_factors + size_t(items[j]) * size_t(k), k);
        eq.a.noalias() += (m.solve.extra_weight(values[j]) * y) * y.transpose();
        eq.weights[j] = m.solve.weighted_target(values[j]);
    }
    return eq;
}

// z_j: item j's factors, after a leading 1 when the equations have a bias.
Vector
design_row(const FactorModelView &m, const NormalEquations &eq, int32_t item)
{
    const int offset = eq.with_bias ? 1 : 0;
    Vector z(m.k + offset);
    if (eq.with_bias)
        z(0) = 1.0f;
    z.tail(m.k) = ConstRow(m.item_factors + size_t(item) * size_t(m.k), m.k);
    return z;
}

void
require_fold_in(const FactorModelView &m)
{
    if (!m.can_fold_in())
        throw std::invalid_argument("BPR models have no closed-form user solve");
}

}  // namespace

double
FactorModelView::clipped(double score) const
{
    return clip ? std::clamp(score, double(rating_min), double(rating_max)) : score;
}

double
FactorModelView::predict(int64_t user, int64_t item) const
{
    // Unknown users and items contribute nothing beyond the mean: the baseline estimate.
    double score = global_mean;
    if (user >= 0)
        score += user_bias[user];
    if (item >= 0)
        score += item_bias[item];
    if (user >= 0 && item >= 0)
    {
        const float *p = user_factors + size_t(user) * size_t(k);
        const float *q = item_factors + size_t(item) * size_t(k);
        for (int f = 0; f < k; ++f)
            score += double(p[f]) * double(q[f]);
    }
    return clipped(score);
}

FoldedUser
FactorModelView::fold_in(const int32_t *items, const float *values, size_t count) const
{
    require_fold_in(*this);
    const NormalEquations eq = normal_equations(*this, items, values, count);
    Vector b = Vector::Zero(eq.a.rows());
    for (size_t j = 0; j < count; ++j)
        b += eq.weights[j] * design_row(*this, eq, items[j]);
    const Vector x = eq.a.llt().solve(b);
    FoldedUser out;
    out.bias = eq.with_bias ? x(0) : 0.0f;
    out.factors.assign(x.data() + (eq.with_bias ? 1 : 0), x.data() + x.size());
    return out;
}

std::vector<float>
FactorModelView::explain(const int32_t *items, const float *values, size_t count, int32_t target) const
{
    require_fold_in(*this);
    // x = a⁻¹ Σ_j w_j z_j, so z_targetᵀx = Σ_j w_j (a⁻¹ z_target)ᵀ z_j (a is symmetric).
    const NormalEquations eq = normal_equations(*this, items, values, count);
    const Vector weighted_target = eq.a.llt().solve(design_row(*this, eq, target));
    std::vector<float> out(count);
    for (size_t j = 0; j < count; ++j)
        out[j] = weighted_target.dot(design_row(*this, eq, items[j])) * eq.weights[j];
    return out;
}

FactorModelView
FactorModelView::transposed() const
{
    FactorModelView t = *this;
    std::swap(t.user_factors, t.item_factors);
    std::swap(t.user_bias, t.item_bias);
    std::swap(t.users, t.items);
    t.item_gram = nullptr;
    t.item_bf16 = nullptr;
    t.item_norms = nullptr;
    return t;
}

std::vector<float>
gram_of(const float *factors, size_t rows, int k)
{
    Matrix g = Matrix::Zero(k, k);
    g.selfadjointView<Eigen::Lower>().rankUpdate(
        Eigen::Map<const RowMatrix>(factors, Eigen::Index(rows), k).transpose());
    g = g.selfadjointView<Eigen::Lower>();
    std::vector<float> out(size_t(k) * size_t(k));
    Eigen::Map<RowMatrix>(out.data(), k, k) = g;
    return out;
}

}  // namespace rec::core
