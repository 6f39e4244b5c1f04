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

FoldedUser
fold_in_explicit(const float *item_factors, const float *item_bias, int k, double global_mean, const int32_t *items,
                 const float *ratings, size_t count, double regularization, double bias_regularization,
                 double unweighted_regularization)
{
    const int dim = k + 1;
    Matrix a = Matrix::Zero(dim, dim);
    Vector b = Vector::Zero(dim), z(dim);
    for (size_t j = 0; j < count; ++j)
    {
        z(0) = 1.0f;
        z.tail(k) = ConstRow(item_factors + size_t(items[j]) * size_t(k), k);
        a.noalias() += z * z.transpose();
        b += float(ratings[j] - global_mean - item_bias[items[j]]) * z;
    }
    const float n = float(count);
    a.diagonal().array() += float(regularization) * n + float(unweighted_regularization) + 1e-6f;
    a(0, 0) += float(bias_regularization - regularization) * n;
    const Vector x = a.llt().solve(b);
    FoldedUser out;
    out.bias = x(0);
    out.factors.assign(x.data() + 1, x.data() + dim);
    return out;
}

FoldedUser
fold_in_implicit(const float *item_factors, const float *gram, int k, const int32_t *items, const float *values,
                 size_t count, double regularization, double alpha)
{
    Matrix a = Eigen::Map<const RowMatrix>(gram, k, k);
    a.diagonal().array() += float(regularization);
    Vector b = Vector::Zero(k);
    for (size_t j = 0; j < count; ++j)
    {
        const ConstRow y(item_factors + size_t(items[j]) * size_t(k), k);
        const float extra = float(alpha) * values[j];
        a.noalias() += (extra * y) * y.transpose();
        if (values[j] > 0)
            b += (1.0f + extra) * y;
    }
    const Vector x = a.llt().solve(b);
    FoldedUser out;
    out.factors.assign(x.data(), x.data() + k);
    return out;
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
