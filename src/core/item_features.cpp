#include "core/item_features.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

// 1 / the L2 norm of an item's feature weights (0 for none).
float
unit_scale(const float *weights, size_t count)
{
    double sum = 0;
    for (size_t e = 0; e < count; ++e)
        sum += double(weights[e]) * weights[e];
    return sum > 0 ? float(1.0 / std::sqrt(sum)) : 0.0f;
}

}  // namespace

FeatureMap
learn_feature_map(const ItemFeatureRows &rows, const std::vector<uint8_t> &learn_from, const float *item_factors,
                  const float *item_bias, int k, const FeatureMapParams &params, HostHooks &hooks)
{
    if (!(params.regularization > 0) || !std::isfinite(params.regularization))
        throw std::invalid_argument("the feature map's regularization must be a finite number > 0");
    const size_t items = rows.offsets.size() - 1, width = size_t(k) + 1;
    const size_t features = size_t(rows.feature_count) + 1;  // the intercept last
    const float lambda = float(params.regularization);
    // Matrix-free conjugate gradient on (XᵀX + λI) W = XᵀT, one system per column of W, all at once:
    // each step costs a pass over the feature rows (X P, then Xᵀ of it).
    std::vector<float> scale(items);
    for (size_t i = 0; i < items; ++i)
        scale[i] = unit_scale(rows.weights.data() + rows.offsets[i], size_t(rows.offsets[i + 1] - rows.offsets[i]));
    const auto times_gram = [&](const std::vector<float> &p, std::vector<float> &out) {
        // out = XᵀX p + λ p
        for (size_t j = 0; j < out.size(); ++j)
            out[j] = lambda * p[j];
        std::vector<float> xp(width);
        for (size_t i = 0; i < items; ++i)
        {
            if (!learn_from[i])
                continue;
            const int64_t begin = rows.offsets[i], end = rows.offsets[i + 1];
            std::fill(xp.begin(), xp.end(), 0.0f);
            for (size_t c = 0; c < width; ++c)
                xp[c] = p[(features - 1) * width + c];  // the intercept
            for (int64_t e = begin; e < end; ++e)
            {
                const float w = rows.weights[size_t(e)] * scale[i];
                const float *row = &p[size_t(rows.features[size_t(e)]) * width];
                for (size_t c = 0; c < width; ++c)
                    xp[c] += w * row[c];
            }
            for (size_t c = 0; c < width; ++c)
                out[(features - 1) * width + c] += xp[c];
            for (int64_t e = begin; e < end; ++e)
            {
                const float w = rows.weights[size_t(e)] * scale[i];
                float *row = &out[size_t(rows.features[size_t(e)]) * width];
                for (size_t c = 0; c < width; ++c)
                    row[c] += w * xp[c];
            }
        }
    };
    // r = XᵀT − (XᵀX + λI)·0 = XᵀT, T_i = [q_i, b_i].
    std::vector<float> w(features * width, 0.0f), r(features * width, 0.0f), p, ap(features * width);
    for (size_t i = 0; i < items; ++i)
    {
        if (!learn_from[i])
            continue;
        const float *q = item_factors + i * size_t(k);
        const float b = item_bias ? item_bias[i] : 0.0f;
        const auto add = [&](size_t feature, float weight) {
            float *row = &r[feature * width];
            for (int f = 0; f < k; ++f)
                row[f] += weight * q[f];
            row[k] += weight * b;
        };
        add(features - 1, 1.0f);
        for (int64_t e = rows.offsets[i]; e < rows.offsets[i + 1]; ++e)
            add(size_t(rows.features[size_t(e)]), rows.weights[size_t(e)] * scale[i]);
    }
    p = r;
    std::vector<double> rs_old(width, 0.0), first(width, 0.0);
    for (size_t j = 0; j < features; ++j)
        for (size_t c = 0; c < width; ++c)
            rs_old[c] += double(r[j * width + c]) * r[j * width + c];
    first = rs_old;
    for (int step = 0; step < params.iterations; ++step)
    {
        hooks.poll();
        times_gram(p, ap);
        std::vector<double> curvature(width, 0.0), rs_new(width, 0.0);
        for (size_t j = 0; j < features; ++j)
            for (size_t c = 0; c < width; ++c)
                curvature[c] += double(p[j * width + c]) * ap[j * width + c];
        bool converged = true;
        for (size_t c = 0; c < width; ++c)
        {
            const double alpha = curvature[c] > 0 ? rs_old[c] / curvature[c] : 0.0;
            for (size_t j = 0; j < features; ++j)
            {
                w[j * width + c] += float(alpha) * p[j * width + c];
                r[j * width + c] -= float(alpha) * ap[j * width + c];
            }
        }
        for (size_t j = 0; j < features; ++j)
            for (size_t c = 0; c < width; ++c)
                rs_new[c] += double(r[j * width + c]) * r[j * width + c];
        for (size_t c = 0; c < width; ++c)
        {
            if (rs_new[c] > 1e-10 * first[c] && rs_new[c] > 1e-20)
                converged = false;
            const double beta = rs_old[c] > 0 ? rs_new[c] / rs_old[c] : 0.0;
            for (size_t j = 0; j < features; ++j)
                p[j * width + c] = r[j * width + c] + float(beta) * p[j * width + c];
        }
        rs_old = rs_new;
        if (converged)
            break;
    }
    FeatureMap map;
    map.k = k;
    map.feature_count = rows.feature_count;
    map.weights = std::move(w);
    return map;
}

void
predict_from_features(const FeatureMap &map, const int32_t *features, const float *weights, size_t count,
                      float *factors, float *bias)
{
    const int k = map.k;
    const float *intercept = map.intercept();
    for (int f = 0; f < k; ++f)
        factors[f] = intercept[f];
    *bias = intercept[k];
    const float scale = unit_scale(weights, count);
    for (size_t e = 0; e < count; ++e)
    {
        if (features[e] < 0 || features[e] >= map.feature_count)
            continue;
        const float *row = map.row(features[e]);
        const float w = weights[e] * scale;
        for (int f = 0; f < k; ++f)
            factors[f] += w * row[f];
        *bias += w * row[k];
    }
}

void
blend_with_features(float *cf_factors, float *cf_bias, const float *feature_factors, float feature_bias, int k,
                    double interactions, double prior)
{
    const double total = interactions + prior;
    const float own = float(interactions / total), from_features = float(prior / total);
    for (int f = 0; f < k; ++f)
        cf_factors[f] = own * cf_factors[f] + from_features * feature_factors[f];
    *cf_bias = own * *cf_bias + from_features * feature_bias;
}

size_t
add_items(Interactions &data, FactorModel &model, const std::vector<int64_t> &ids)
{
    std::vector<int64_t> added;
    for (int64_t id : ids)
        if (find_id(data.item_ids, id) < 0)
            added.push_back(id);
    std::sort(added.begin(), added.end());
    added.erase(std::unique(added.begin(), added.end()), added.end());
    if (added.empty())
        return 0;
    const size_t old_count = data.item_ids.size(), new_count = old_count + added.size();
    const int k = model.factors;
    std::vector<int64_t> merged(new_count);
    std::merge(data.item_ids.begin(), data.item_ids.end(), added.begin(), added.end(), merged.begin());
    std::vector<int32_t> renumber(old_count);  // old index -> new index
    for (size_t o = 0, n = 0; o < old_count; ++o)
    {
        while (merged[n] != data.item_ids[o])
            ++n;
        renumber[o] = int32_t(n++);
    }
    for (int32_t &column : data.by_user.columns)
        column = renumber[size_t(column)];
    // by_item: the old rows at their new positions, empty rows for the added items.
    LargeVector<size_t> offsets(new_count + 1, 0);
    for (size_t o = 0; o < old_count; ++o)
        offsets[size_t(renumber[o]) + 1] = data.by_item.row_size(o);
    for (size_t n = 0; n < new_count; ++n)
        offsets[n + 1] += offsets[n];
    data.by_item.offsets.swap(offsets);
    LargeVector<float> factors(new_count * size_t(k), 0.0f), bias(new_count, 0.0f);
    for (size_t o = 0; o < old_count; ++o)
    {
        std::copy_n(model.item_factors.data() + o * size_t(k), k, factors.data() + size_t(renumber[o]) * size_t(k));
        bias[size_t(renumber[o])] = model.item_bias.empty() ? 0.0f : model.item_bias[o];
    }
    model.item_factors.swap(factors);
    model.item_bias.swap(bias);
    data.item_ids.swap(merged);
    return added.size();
}

}  // namespace rec::core
