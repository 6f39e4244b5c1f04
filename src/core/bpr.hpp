// Bayesian Personalized Ranking (Rendle et al. 2009) by stochastic gradient descent, with an item
// bias, as the `implicit` library trains it: each epoch draws as many (user, liked item) pairs as there
// are likes, each with a uniformly drawn item the user has not liked, and moves the factors to rank
// the liked item higher. Threads update shared factors without locks (Hogwild), so results are
// deterministic for a given seed only with one thread.
#pragma once
#include <cstdint>

#include "core/interactions.hpp"
#include "core/training.hpp"

namespace rec::core {

struct BprParams
{
    int factors = 64;
    int iterations = 100;  // epochs over the likes
    double learning_rate = 0.01;
    double regularization = 0.01;
    uint64_t seed = 42;
    int threads = 0;
};

void check_bpr_params(const BprParams &params);

// Likes are the entries with a value > 0. IterationStats::value is the fraction of sampled pairs the
// model ranked correctly before their update. Item biases are in item_bias; user_bias stays 0.
FactorModel train_bpr(const Interactions &data, const BprParams &params, TrainHooks &hooks);

}  // namespace rec::core
