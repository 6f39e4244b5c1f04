#include "core/bpr.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/random.hpp"
#include "core/pure_cpp.hpp"

namespace rec::core {

namespace {

constexpr size_t kSamplesPerBlock = 1 << 14;  // one unit of parallel work: a few milliseconds

// The liked items of every user (entries with a value > 0), sorted, for sampling and membership tests.
struct Likes
{
    std::vector<size_t> offsets;
    std::vector<int32_t> items;
    std::vector<int32_t> owner;  // user of each like, for uniform sampling of likes
    std::vector<float> weight;   // each like's weight (recency): scales its pairs' gradient; empty: 1

    bool contains(size_t user, int32_t item) const
    {
        return std::binary_search(items.begin() + ptrdiff_t(offsets[user]),
                                  items.begin() + ptrdiff_t(offsets[user + 1]), item);
    }
};

Likes
collect_likes(const SparseRows &by_user)
{
    Likes likes;
    likes.offsets.assign(by_user.rows() + 1, 0);
    for (size_t u = 0; u < by_user.rows(); ++u)
    {
        for (size_t e = by_user.offsets[u]; e < by_user.offsets[u + 1]; ++e)
            if (by_user.values[e] > 0)
            {
                likes.items.push_back(by_user.columns[e]);
                likes.owner.push_back(int32_t(u));
                if (by_user.weighted())
                    likes.weight.push_back(by_user.weights[e]);
            }
        likes.offsets[u + 1] = likes.items.size();
    }
    return likes;
}

}  // namespace

void
check_bpr_params(const BprParams &p)
{
    if (p.factors < 1)
        throw std::invalid_argument("factors must be at least 1");
    if (p.iterations < 1)
        throw std::invalid_argument("iterations must be at least 1");
    if (!(p.learning_rate > 0) || !std::isfinite(p.learning_rate))
        throw std::invalid_argument("learning_rate must be a finite number > 0");
    if (!(p.regularization >= 0) || !std::isfinite(p.regularization))
        throw std::invalid_argument("regularization must be a finite number >= 0");
}

FactorModel
train_bpr(const Interactions &data, const BprParams &params, TrainHooks &hooks)
{
    check_bpr_params(params);
    BprParams p = params;
    p.threads = resolve_threads(params.threads);
    const int k = p.factors;
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    const Likes likes = collect_likes(data.by_user);
    if (likes.items.empty())
        throw std::invalid_argument("BPR needs at least one positive value to learn from");

    FactorModel model;
    model.kind = ModelKind::Bpr;
    model.factors = k;
    model.solve.regularization = p.regularization;
    model.train_metric = "ranked pairs";
    model.user_factors.resize(users * size_t(k));
    model.item_factors.resize(items * size_t(k));
    for (size_t u = 0; u < users; ++u)
    {
        RowRandom rng(p.seed, 1, u);
        for (int f = 0; f < k; ++f)
            model.user_factors[u * size_t(k) + size_t(f)] = float((rng.uniform() - 0.5) / k);
    }
    for (size_t i = 0; i < items; ++i)
    {
        RowRandom rng(p.seed, 2, i);
        for (int f = 0; f < k; ++f)
            model.item_factors[i * size_t(k) + size_t(f)] = float((rng.uniform() - 0.5) / k);
    }
    model.user_bias.assign(users, 0.0f);
    model.item_bias.assign(items, 0.0f);

    const size_t samples = likes.items.size();
    const size_t blocks = (samples + kSamplesPerBlock - 1) / kSamplesPerBlock;
    const auto bounds = even_boundaries(blocks, size_t(p.threads) * 4);
    const float lr = float(p.learning_rate), reg = float(p.regularization);
    std::vector<size_t> correct(blocks), drawn(blocks);
    float *X = model.user_factors.data();
    float *Y = model.item_factors.data();
    float *bias = model.item_bias.data();

    run_iterations(model, p.iterations, hooks, "try a smaller learning_rate", [&](int epoch) {
        parallel_rows(bounds, p.threads, hooks, [&](size_t block, int) {
            // Each block has its own random stream, so one thread always draws the same samples.
            RowRandom rng(p.seed ^ (uint64_t(epoch) << 32), 3, block);
            const size_t count = std::min(kSamplesPerBlock, samples - block * kSamplesPerBlock);
            size_t right = 0, done = 0;
            for (size_t s = 0; s < count; ++s)
            {
                const size_t like = size_t(rng.uniform() * double(samples)) % samples;
                const size_t u = size_t(likes.owner[like]);
                const int32_t liked = likes.items[like];
                // A user who likes every item has no negative to draw.
                if (likes.offsets[u + 1] - likes.offsets[u] >= items)
                    continue;
                int32_t other;
                do
                    other = int32_t(size_t(rng.uniform() * double(items)) % items);
                while (likes.contains(u, other));
                float *x = X + u * size_t(k);
                float *yi = Y + size_t(liked) * size_t(k);
                float *yj = Y + size_t(other) * size_t(k);
                float score = bias[liked] - bias[other];
                for (int f = 0; f < k; ++f)
                    score += x[f] * (yi[f] - yj[f]);
                right += score > 0;
                ++done;
                // d/dscore of w log σ(score): a weighted like pulls as hard as its weight.
                const float z = (likes.weight.empty() ? 1.0f : likes.weight[like]) / (1.0f + std::exp(score));
                bias[liked] += lr * (z - reg * bias[liked]);
                bias[other] += lr * (-z - reg * bias[other]);
                for (int f = 0; f < k; ++f)
                {
                    const float xf = x[f], yif = yi[f], yjf = yj[f];
                    x[f] += lr * (z * (yif - yjf) - reg * xf);
                    yi[f] += lr * (z * xf - reg * yif);
                    yj[f] += lr * (-z * xf - reg * yjf);
                }
            }
            correct[block] = right;
            drawn[block] = done;
        });
        size_t right = 0, done = 0;
        for (size_t b = 0; b < blocks; ++b)
        {
            right += correct[b];
            done += drawn[b];
        }
        return done ? double(right) / double(done) : 1.0;
    });
    return model;
}

}  // namespace rec::core
