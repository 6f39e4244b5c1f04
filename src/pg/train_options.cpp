#include "pg/train_options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace rec::pg {

namespace {

// Largest `factors` accepted: one row's exact solve costs O(factors³), and it must stay well under the
// second within which a cancel is honoured.
constexpr int kMaxFactors = 1024;
constexpr int kMaxIterations = 100000;
constexpr int kMaxCgSteps = 100;

// Defaults that give a good model without tuning (docs/sql.md says why each). Explicit ALS: a
// count-weighted penalty λ n on the factors (Spark's ALS-WR) plus an unweighted c on factors and biases
// (the penalty of Koren, Bell and Volinsky, Surprise and LIBMF), no count-weighted bias penalty:
// five-fold MovieLens-100k test RMSE 0.911 (Surprise's SVD with its defaults: 0.934), and on 9 M
// synthetic ratings below LIBMF's after 5 iterations; 10 iterations converge both.
constexpr int kFactors = 64;
constexpr int kAlsIterations = 10;
constexpr double kAlsBiasRegularization = 0.0;
constexpr double kAlsUnweightedRegularization = 5.0;
constexpr int kAlsCgSteps = 2;       // within 0.0005 RMSE of the exact solve from the 5th iteration on
constexpr int kImplicitCgSteps = 3;  // implicit's
constexpr int kImplicitIterations = 15;
constexpr int kBprIterations = 100;
constexpr double kAlsRegularization = 0.05;
constexpr double kImplicitRegularization = 0.01;
constexpr double kBprRegularization = 0.01;
constexpr int64 kSeed = 42;
// Item-item models (docs/sql.md, "EASE and item-kNN", says how they were chosen). EASE's λ is added to
// the diagonal of XᵀX, whose entries are the items' interaction counts: it is the number of
// interactions below which an item's own evidence is shrunk towards nothing.
constexpr double kEaseRegularization = 250.0;
constexpr int kItemKnnNeighbours = 200;
// An item-item model holds up to n² weights; a row keeps at most this many neighbours when sparsified.
constexpr int kMaxNeighbours = 100000;

const char *const kNumericOptions[] = {
    "factors", "iterations", "regularization", "seed",           "bias_regularization", "unweighted_regularization",
    "alpha",   "cg_steps",   "learning_rate",  "noise_variance", "neighbours"};

[[noreturn]] void
invalid(const char *message, const char *hint)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message), errhint("%s", hint)));
    pg_unreachable();
}

// An option that only some algorithms use is refused when given to another one.
template <typename Given>
bool
given_for(const Given &option, const char *name, bool applies, const char *algorithm)
{
    if (!option.given)
        return false;
    if (!applies)
        invalid(psprintf("%s does not apply to algorithm '%s'", name, algorithm),
                "See the parameters of each algorithm in docs/sql.md.");
    return true;
}

// Penalties are applied in single precision, multiplied by up to billions of interactions: above this
// they would overflow, and far below it they already pin every factor to zero.
constexpr double kMaxPenalty = 1e20;

double
penalty(const GivenNumber &option, const char *name, double fallback)
{
    const double value = option.given ? option.value : fallback;
    if (!(value >= 0) || std::isinf(value))
        invalid(psprintf("%s must be a finite number >= 0, not %g", name, value),
                "See the hyperparameters in the pg_recommend documentation (docs/sql.md).");
    if (value > kMaxPenalty)
        invalid(psprintf("%s must be at most %g, not %g", name, kMaxPenalty, value),
                "A penalty this large pins every factor to zero; typical values are 0.001 to 100.");
    return value;
}

int
bounded(const GivenInteger &option, const char *name, int fallback, int low, int high, const char *hint)
{
    const int64 value = option.given ? option.value : fallback;
    if (value < low || value > high)
        invalid(psprintf("%s must be between %d and %d, not %lld", name, low, high, (long long) value), hint);
    return int(value);
}

rec::core::Solver
solver_of(const char *solver)
{
    if (solver == nullptr || strcmp(solver, "cg") == 0)
        return rec::core::Solver::ConjugateGradient;
    if (strcmp(solver, "cholesky") == 0)
        return rec::core::Solver::Cholesky;
    invalid(psprintf("unknown solver \"%s\"", solver),
            "Supported: 'cg' (conjugate gradient, the default) and 'cholesky' (exact).");
}

// The solver and its steps, for the ALS variants.
void
check_solver(const TrainOptions &o, rec::core::Solver *solver, int *cg_steps)
{
    *solver = solver_of(o.solver);
    if (o.cg_steps.given && *solver == rec::core::Solver::Cholesky)
        invalid("cg_steps applies only to solver 'cg'", "The Cholesky solver is exact: it takes no steps.");
    *cg_steps =
        bounded(o.cg_steps, "cg_steps", *cg_steps, 1, kMaxCgSteps, "2 or 3 steps per half-step are usually enough.");
}

const char *
solver_name(rec::core::Solver solver)
{
    return solver == rec::core::Solver::Cholesky ? "cholesky" : "cg";
}

// cg_steps as recorded with the version: null for the exact solver, which takes no steps (a number
// there would read as if it had, and rec.train refuses cg_steps with solver 'cholesky').
const char *
cg_steps_json(rec::core::Solver solver, int cg_steps)
{
    return solver == rec::core::Solver::Cholesky ? "null" : psprintf("%d", cg_steps);
}

// ease and itemknn: the options of the factor models are refused. factors and seed have defaults in
// rec.train's signature (it always passes them), so they are refused only at another value.
TrainSpec
check_item_item_options(const TrainOptions &o, TrainSpec spec)
{
    const char *name = spec.algorithm_name;
    const bool ease = spec.algorithm == Algorithm::Ease;
    given_for(o.iterations, "iterations", false, name);
    given_for(o.factors.given && o.factors.value != kFactors ? o.factors : GivenInteger{}, "factors", false, name);
    given_for(o.seed.given && o.seed.value != kSeed ? o.seed : GivenInteger{}, "seed", false, name);
    for (const auto &[option, option_name] :
         {std::pair{&o.bias_regularization, "bias_regularization"},
          std::pair{&o.unweighted_regularization, "unweighted_regularization"}, std::pair{&o.alpha, "alpha"},
          std::pair{&o.noise_variance, "noise_variance"}, std::pair{&o.learning_rate, "learning_rate"}})
        given_for(*option, option_name, false, name);
    given_for(o.cg_steps, "cg_steps", false, name);
    given_for(o.regularization, "regularization", ease, name);
    for (const auto &[text, text_name] : {std::pair{o.solver, "solver"}, std::pair{o.confidence, "confidence"},
                                          std::pair{ease ? o.similarity : nullptr, "similarity"}})
        if (text)
            invalid(psprintf("%s does not apply to algorithm '%s'", text_name, name),
                    "See the parameters of each algorithm in docs/sql.md.");
    spec.factors = 0;
    spec.iterations = 1;
    if (ease)
    {
        rec::core::EaseParams &p = spec.ease;
        p.regularization = penalty(o.regularization, "regularization", kEaseRegularization);
        if (!(p.regularization > 0))
            invalid("regularization must be > 0 for algorithm 'ease'",
                    "EASE adds it to the diagonal of the item-item Gram matrix, which must stay invertible; "
                    "typical values are 50 to 1000.");
        p.neighbours = bounded(o.neighbours, "neighbours", 0, 0, kMaxNeighbours,
                               "0 keeps every weight (the exact model); a positive number keeps each item's largest.");
        spec.hyperparameters = psprintf("{\"regularization\": %s, \"neighbours\": %d}",
                                        float8out_internal(p.regularization), p.neighbours);
        return spec;
    }
    rec::core::ItemKnnParams &p = spec.itemknn;
    p.neighbours = bounded(o.neighbours, "neighbours", kItemKnnNeighbours, 1, kMaxNeighbours,
                           "Each item keeps this many most similar items (the item itself among them).");
    const char *similarity = o.similarity ? o.similarity : "cosine";
    if (strcmp(similarity, "cosine") == 0)
        p.similarity = rec::core::ItemSimilarity::Cosine;
    else if (strcmp(similarity, "bm25") == 0)
        p.similarity = rec::core::ItemSimilarity::Bm25;
    else if (strcmp(similarity, "tfidf") == 0)
        p.similarity = rec::core::ItemSimilarity::TfIdf;
    else
        invalid(psprintf("unknown similarity \"%s\"", similarity),
                "Supported: 'cosine' (the default), 'bm25' (K1 1.2, B 0.75) and 'tfidf', as the implicit library's "
                "CosineRecommender, BM25Recommender and TFIDFRecommender.");
    spec.hyperparameters = psprintf("{\"neighbours\": %d, \"similarity\": \"%s\"}", p.neighbours, similarity);
    return spec;
}

}  // namespace

bool
is_tunable(const char *name)
{
    for (const char *option : kNumericOptions)
        if (strcmp(option, name) == 0)
            return true;
    return false;
}

bool
is_integer_option(const char *name)
{
    return strcmp(name, "factors") == 0 || strcmp(name, "iterations") == 0 || strcmp(name, "cg_steps") == 0 ||
           strcmp(name, "seed") == 0 || strcmp(name, "neighbours") == 0;
}

bool
set_option(TrainOptions &o, const char *name, const char *value)
{
    if (is_integer_option(name))
    {
        GivenInteger *target = strcmp(name, "factors") == 0      ? &o.factors
                               : strcmp(name, "iterations") == 0 ? &o.iterations
                               : strcmp(name, "cg_steps") == 0   ? &o.cg_steps
                               : strcmp(name, "neighbours") == 0 ? &o.neighbours
                                                                 : &o.seed;
        errno = 0;
        char *end;
        const long long parsed = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0')
            return false;
        *target = GivenInteger{true, parsed};
        return true;
    }
    GivenNumber *target = strcmp(name, "regularization") == 0              ? &o.regularization
                          : strcmp(name, "bias_regularization") == 0       ? &o.bias_regularization
                          : strcmp(name, "unweighted_regularization") == 0 ? &o.unweighted_regularization
                          : strcmp(name, "alpha") == 0                     ? &o.alpha
                          : strcmp(name, "learning_rate") == 0             ? &o.learning_rate
                          : strcmp(name, "noise_variance") == 0            ? &o.noise_variance
                                                                           : nullptr;
    if (target == nullptr)
        return false;
    *target = GivenNumber{true, strtod(value, nullptr)};
    return true;
}

TrainSpec
check_options(const TrainOptions &o)
{
    TrainSpec spec{};
    const char *name = spec.algorithm_name = o.algorithm;
    if (strcmp(name, "als") == 0)
        spec.algorithm = Algorithm::Als;
    else if (strcmp(name, "ials") == 0)
        spec.algorithm = Algorithm::ImplicitAls;
    else if (strcmp(name, "bpr") == 0)
        spec.algorithm = Algorithm::Bpr;
    else if (strcmp(name, "ease") == 0)
        spec.algorithm = Algorithm::Ease;
    else if (strcmp(name, "itemknn") == 0)
        spec.algorithm = Algorithm::ItemKnn;
    else
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown algorithm \"%s\"", name),
                        errhint("Supported: 'als' (explicit ratings), 'ials' (implicit ALS), 'bpr' (Bayesian "
                                "Personalized Ranking), 'ease' (EASE^R item-item weights) and 'itemknn' "
                                "(item-item similarities).")));
    if (is_item_item(spec.algorithm))
        return check_item_item_options(o, spec);
    const bool als = spec.algorithm == Algorithm::Als, ials = spec.algorithm == Algorithm::ImplicitAls,
               bpr = spec.algorithm == Algorithm::Bpr;
    const int factors = spec.factors =
        bounded(o.factors, "factors", kFactors, 1, kMaxFactors, "Typical values are 16 to 256.");
    spec.iterations =
        bounded(o.iterations, "iterations", als ? kAlsIterations : (ials ? kImplicitIterations : kBprIterations), 1,
                kMaxIterations,
                bpr ? "BPR usually needs 50 to 200 epochs." : "ALS usually converges within 10 to 20 iterations.");
    const double regularization =
        penalty(o.regularization, "regularization",
                als ? kAlsRegularization : (ials ? kImplicitRegularization : kBprRegularization));
    const uint64_t seed = uint64(o.seed.given ? o.seed.value : kSeed);
    for (const auto &[option, option_name] : {std::pair{&o.bias_regularization, "bias_regularization"},
                                              std::pair{&o.unweighted_regularization, "unweighted_regularization"}})
        given_for(*option, option_name, als, name);
    given_for(o.alpha, "alpha", ials, name);
    given_for(o.noise_variance, "noise_variance", als, name);
    given_for(o.learning_rate, "learning_rate", bpr, name);
    given_for(o.cg_steps, "cg_steps", !bpr, name);
    given_for(o.neighbours, "neighbours", false, name);
    if (o.similarity)
        invalid(psprintf("similarity does not apply to algorithm '%s'", name),
                "See the parameters of each algorithm in docs/sql.md.");
    if (o.solver && bpr)
        invalid(psprintf("solver does not apply to algorithm '%s'", name),
                "See the parameters of each algorithm in docs/sql.md.");
    if (o.confidence && !ials)
        invalid(psprintf("confidence does not apply to algorithm '%s'", name),
                "See the parameters of each algorithm in docs/sql.md.");
    const char *reg = float8out_internal(regularization);

    if (als)
    {
        rec::core::AlsParams &p = spec.als;
        p.factors = factors;
        p.iterations = spec.iterations;
        p.regularization = regularization;
        p.seed = seed;
        p.bias_regularization = penalty(o.bias_regularization, "bias_regularization", kAlsBiasRegularization);
        p.unweighted_regularization =
            penalty(o.unweighted_regularization, "unweighted_regularization", kAlsUnweightedRegularization);
        p.cg_steps = kAlsCgSteps;
        if (o.noise_variance.given)
        {
            // Variational Bayes keeps each row's covariance, A⁻¹: the exact solver's.
            p.noise_variance = penalty(o.noise_variance, "noise_variance", 0.0);
            if (o.solver && strcmp(o.solver, "cholesky") != 0)
                invalid("noise_variance needs solver 'cholesky'",
                        "Variational Bayes needs each row's exact inverse; leave solver NULL or pass 'cholesky'.");
            if (o.cg_steps.given)
                invalid("cg_steps applies only to solver 'cg'", "noise_variance trains with the exact solver.");
            p.solver = rec::core::Solver::Cholesky;
        }
        else
            check_solver(o, &p.solver, &p.cg_steps);
        spec.hyperparameters =
            psprintf("{\"factors\": %d, \"iterations\": %d, \"regularization\": %s, \"bias_regularization\": %s, "
                     "\"unweighted_regularization\": %s, \"solver\": \"%s\", \"cg_steps\": %s, \"noise_variance\": %s, "
                     "\"seed\": %lld}",
                     factors, p.iterations, reg, float8out_internal(*p.bias_regularization),
                     float8out_internal(p.unweighted_regularization), solver_name(p.solver),
                     cg_steps_json(p.solver, p.cg_steps), float8out_internal(p.noise_variance), (long long) seed);
    }
    else if (ials)
    {
        rec::core::ImplicitParams &p = spec.ials;
        p.factors = factors;
        p.iterations = spec.iterations;
        p.regularization = regularization;
        p.seed = seed;
        if (o.alpha.given)
        {
            p.alpha = o.alpha.value;
            if (!(p.alpha >= 0) || std::isinf(p.alpha))
                invalid(psprintf("alpha must be a finite number >= 0, not %g", p.alpha),
                        "alpha scales the confidence of a value; see docs/sql.md for how to choose it.");
        }
        if (o.confidence == nullptr || strcmp(o.confidence, "hu") == 0)
            p.confidence = rec::core::Confidence::OnePlusAlpha;
        else if (strcmp(o.confidence, "implicit") == 0)
            p.confidence = rec::core::Confidence::Alpha;
        else
            invalid(psprintf("unknown confidence \"%s\"", o.confidence),
                    "Supported: 'hu' (1 + alpha * value: Hu, Koren and Volinsky; Spark) and 'implicit' "
                    "(alpha * value, as the implicit library forms it).");
        p.cg_steps = kImplicitCgSteps;
        check_solver(o, &p.solver, &p.cg_steps);
        spec.hyperparameters = psprintf(
            "{\"factors\": %d, \"iterations\": %d, \"regularization\": %s, \"alpha\": %s, \"confidence\": \"%s\", "
            "\"solver\": \"%s\", \"cg_steps\": %s, \"seed\": %lld}",
            factors, p.iterations, reg, float8out_internal(p.alpha),
            p.confidence == rec::core::Confidence::Alpha ? "implicit" : "hu", solver_name(p.solver),
            cg_steps_json(p.solver, p.cg_steps), (long long) seed);
    }
    else
    {
        rec::core::BprParams &p = spec.bpr;
        p.factors = factors;
        p.iterations = spec.iterations;
        p.regularization = regularization;
        p.seed = seed;
        if (o.learning_rate.given)
        {
            p.learning_rate = o.learning_rate.value;
            if (!(p.learning_rate > 0) || std::isinf(p.learning_rate))
                invalid(psprintf("learning_rate must be a finite number > 0, not %g", p.learning_rate),
                        "Typical values are 0.001 to 0.1.");
        }
        spec.hyperparameters =
            psprintf("{\"factors\": %d, \"iterations\": %d, \"regularization\": %s, "
                     "\"learning_rate\": %s, \"seed\": %lld}",
                     factors, p.iterations, reg, float8out_internal(p.learning_rate), (long long) seed);
    }
    return spec;
}

}  // namespace rec::pg
