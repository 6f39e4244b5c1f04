// rec.train's hyperparameters: as given (rec.train's arguments, or one combination of a rec.tune grid),
// then checked, with defaults filled in, into the core's parameters. One place for every default and
// every message about a bad value, whoever gave it. PostgreSQL-style: errors are raised with ereport.
#pragma once
#include "pg/postgres_headers.hpp"

#include "core/als.hpp"
#include "core/bpr.hpp"
#include "core/ials.hpp"
#include "core/item_item.hpp"

namespace rec::pg {

enum class Algorithm
{
    Als,
    ImplicitAls,
    Bpr,
    Ease,     // EASE^R: item-item weights in closed form
    ItemKnn,  // item-item similarities, each item's nearest kept
};

// Whether an algorithm learns item-item weights (ease, itemknn) rather than factors.
inline bool
is_item_item(Algorithm algorithm)
{
    return algorithm == Algorithm::Ease || algorithm == Algorithm::ItemKnn;
}

// A hyperparameter that may not have been given.
struct GivenNumber
{
    bool given = false;
    double value = 0;
};
struct GivenInteger
{
    bool given = false;
    int64 value = 0;
};

struct TrainOptions
{
    const char *algorithm = "als";
    GivenInteger factors, iterations, cg_steps, seed, neighbours;
    GivenNumber regularization, bias_regularization, unweighted_regularization, alpha, learning_rate, noise_variance;
    const char *solver = nullptr;      // 'cg' or 'cholesky'
    const char *confidence = nullptr;  // ials: 'hu' (1 + alpha r) or 'implicit' (alpha r)
    const char *similarity = nullptr;  // itemknn: 'cosine', 'bm25' or 'tfidf'
};

// The hyperparameters a grid may vary: every numeric one.
bool is_tunable(const char *name);
// Those of an integer type (factors, iterations, cg_steps, seed, neighbours).
bool is_integer_option(const char *name);
// Sets the numeric option `name` from its text (a JSON number); false if it is no such option.
bool set_option(TrainOptions &options, const char *name, const char *value);

// The checked hyperparameters of one training run.
struct TrainSpec
{
    Algorithm algorithm;
    const char *algorithm_name;
    int factors, iterations;
    rec::core::AlsParams als;
    rec::core::ImplicitParams ials;
    rec::core::BprParams bpr;
    rec::core::EaseParams ease;
    rec::core::ItemKnnParams itemknn;
    const char *hyperparameters;  // JSON with every default filled in, as rec.model_versions stores it
};

// Raises 22023 for an unknown algorithm, a value out of range, or an option of another algorithm.
TrainSpec check_options(const TrainOptions &options);

}  // namespace rec::pg
