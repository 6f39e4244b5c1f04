// CALL rec.train(...): read the source, train in parallel, store the new model version.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/model_store.hpp"
#include "pg/settings.hpp"
#include "pg/source_reader.hpp"
#include "pg/worker_threads.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "core/als.hpp"
#include "core/bpr.hpp"
#include "core/checked_size.hpp"
#include "core/ials.hpp"
#include "core/interactions.hpp"
#include "core/validation.hpp"

namespace {

// Largest `factors` accepted: one row's solve costs O(factors³), and it must stay well under the
// second within which a cancel is honoured.
constexpr int kMaxFactors = 1024;
constexpr int kMaxIterations = 100000;
constexpr int kMaxCgSteps = 100;

// Argument positions of rec.train, as declared in sql/pg_recommend.sql.
enum Arg
{
    ModelArg, SourceArg, UserColumnArg, ItemColumnArg, RatingColumnArg, AlgorithmArg, FactorsArg,
    IterationsArg, RegularizationArg, SeedArg, BiasRegularizationArg, UnweightedRegularizationArg, AlphaArg,
    CgStepsArg, SolverArg, LearningRateArg, DeployArg, WaitArg, ValidationSourceArg, EarlyStoppingArg,
    DeployIfBetterArg, ArgCount
};
const char *const kArgNames[ArgCount] = {
    "model", "source", "user_column", "item_column", "rating_column", "algorithm", "factors", "iterations",
    "regularization", "seed", "bias_regularization", "unweighted_regularization", "alpha", "cg_steps", "solver",
    "learning_rate", "deploy", "wait", "validation_source", "early_stopping", "deploy_if_better"};

enum class Algorithm
{
    Als,
    ImplicitAls,
    Bpr,
};

struct TrainArgs
{
    const char *model;
    rec::pg::SourceSpec source;
    Algorithm algorithm;
    const char *algorithm_name;
    rec::core::AlsParams als;
    rec::core::ImplicitParams ials;
    rec::core::BprParams bpr;
    int factors;
    int iterations;
    const char *hyperparameters;  // JSON, as stored in rec.model_versions
    bool deploy;                  // serve the new version at once
    bool wait;                    // wait for another training of the same model, else fail
    const char *validation_source;  // held-out rows for a metric per iteration, or NULL
    bool early_stopping;            // stop when the validation metric stops improving
    bool deploy_if_better;          // deploy only if not worse than the deployed version
};

const char *
text_arg(FunctionCallInfo fcinfo, int arg)
{
    return PG_ARGISNULL(arg) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

[[noreturn]] void
invalid_argument(const char *message, const char *hint)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message), errhint("%s", hint)));
    pg_unreachable();
}

// A parameter that only some algorithms use: refused when given to another one.
bool
given_for(FunctionCallInfo fcinfo, int arg, bool applies, const char *algorithm)
{
    if (PG_ARGISNULL(arg))
        return false;
    if (!applies)
        invalid_argument(psprintf("%s does not apply to algorithm '%s'", kArgNames[arg], algorithm),
                         "See the parameters of each algorithm in docs/sql.md.");
    return true;
}

double
checked_penalty(int arg, double value)
{
    if (!(value >= 0) || std::isinf(value))
        invalid_argument(psprintf("%s must be a finite number >= 0, not %g", kArgNames[arg], value),
                         "See the hyperparameters in the pg_recommend documentation (docs/sql.md).");
    return value;
}

// The hyperparameters every algorithm has.
template <typename Params>
void
set_common(Params &params, int factors, int iterations, double regularization, uint64_t seed)
{
    params.factors = factors;
    params.iterations = iterations;
    params.regularization = regularization;
    params.seed = seed;
}

template <typename Params>
Params
with_threads(Params params, int threads)
{
    params.threads = threads;
    return params;
}

TrainArgs
parse_args(FunctionCallInfo fcinfo)
{
    for (int arg : {AlgorithmArg, FactorsArg, SeedArg, DeployArg, WaitArg, EarlyStoppingArg, DeployIfBetterArg})
        if (PG_ARGISNULL(arg))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("argument %s of rec.train must not be NULL", kArgNames[arg])));
    TrainArgs a{};
    a.model = text_arg(fcinfo, ModelArg);
    if (a.model == nullptr || a.model[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("model name must not be NULL or empty")));
    a.deploy = PG_GETARG_BOOL(DeployArg);
    a.wait = PG_GETARG_BOOL(WaitArg);
    a.validation_source = text_arg(fcinfo, ValidationSourceArg);
    a.early_stopping = PG_GETARG_BOOL(EarlyStoppingArg);
    a.deploy_if_better = PG_GETARG_BOOL(DeployIfBetterArg);
    if ((a.early_stopping || a.deploy_if_better) && a.validation_source == nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s needs a validation_source", a.early_stopping ? "early_stopping" : "deploy_if_better"),
                        errhint("Name held-out rows, for example a test table made by rec.split.")));
    a.source.relation = text_arg(fcinfo, SourceArg);
    a.source.user_column = text_arg(fcinfo, UserColumnArg);
    a.source.item_column = text_arg(fcinfo, ItemColumnArg);
    a.source.rating_column = text_arg(fcinfo, RatingColumnArg);
    a.algorithm_name = text_arg(fcinfo, AlgorithmArg);
    if (strcmp(a.algorithm_name, "als") == 0)
        a.algorithm = Algorithm::Als;
    else if (strcmp(a.algorithm_name, "ials") == 0)
        a.algorithm = Algorithm::ImplicitAls;
    else if (strcmp(a.algorithm_name, "bpr") == 0)
        a.algorithm = Algorithm::Bpr;
    else
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("unknown algorithm \"%s\"", a.algorithm_name),
                        errhint("Supported: 'als' (explicit ratings), 'ials' (implicit ALS), 'bpr' (Bayesian "
                                "Personalized Ranking).")));
    const bool als = a.algorithm == Algorithm::Als, ials = a.algorithm == Algorithm::ImplicitAls,
               bpr = a.algorithm == Algorithm::Bpr;
    const char *name = a.algorithm_name;

    const int factors = a.factors = PG_GETARG_INT32(FactorsArg);
    if (factors < 1 || factors > kMaxFactors)
        invalid_argument(psprintf("factors must be between 1 and %d, not %d", kMaxFactors, factors),
                         "Typical values are 16 to 256.");
    a.iterations = PG_ARGISNULL(IterationsArg) ? (bpr ? 100 : 15) : PG_GETARG_INT32(IterationsArg);
    if (a.iterations < 1 || a.iterations > kMaxIterations)
        invalid_argument(psprintf("iterations must be between 1 and %d, not %d", kMaxIterations, a.iterations),
                         bpr ? "BPR usually needs 50 to 200 epochs." : "ALS usually converges within 10 to 20 iterations.");
    const double regularization = checked_penalty(
        RegularizationArg, PG_ARGISNULL(RegularizationArg) ? (als ? 0.05 : 0.01) : PG_GETARG_FLOAT8(RegularizationArg));
    const uint64_t seed = uint64(PG_GETARG_INT64(SeedArg));

    if (als)
    {
        set_common(a.als, factors, a.iterations, regularization, seed);
        if (given_for(fcinfo, BiasRegularizationArg, als, name))
            a.als.bias_regularization = checked_penalty(BiasRegularizationArg, PG_GETARG_FLOAT8(BiasRegularizationArg));
        if (given_for(fcinfo, UnweightedRegularizationArg, als, name))
            a.als.unweighted_regularization =
                checked_penalty(UnweightedRegularizationArg, PG_GETARG_FLOAT8(UnweightedRegularizationArg));
    }
    else
    {
        given_for(fcinfo, BiasRegularizationArg, false, name);
        given_for(fcinfo, UnweightedRegularizationArg, false, name);
    }
    if (ials)
    {
        set_common(a.ials, factors, a.iterations, regularization, seed);
        if (given_for(fcinfo, AlphaArg, true, name))
        {
            a.ials.alpha = PG_GETARG_FLOAT8(AlphaArg);
            if (!(a.ials.alpha >= 0) || std::isinf(a.ials.alpha))
                invalid_argument(psprintf("alpha must be a finite number >= 0, not %g", a.ials.alpha),
                                 "alpha scales the confidence 1 + alpha * value; see docs/sql.md for how to choose it.");
        }
        if (given_for(fcinfo, SolverArg, true, name))
        {
            const char *solver = text_arg(fcinfo, SolverArg);
            if (strcmp(solver, "cholesky") == 0)
                a.ials.solver = rec::core::ImplicitSolver::Cholesky;
            else if (strcmp(solver, "cg") != 0)
                invalid_argument(psprintf("unknown solver \"%s\"", solver),
                                 "Supported: 'cg' (conjugate gradient, the default) and 'cholesky' (exact).");
        }
        if (!PG_ARGISNULL(CgStepsArg) && a.ials.solver == rec::core::ImplicitSolver::Cholesky)
            invalid_argument("cg_steps applies only to solver 'cg'", "The Cholesky solver is exact: it takes no steps.");
        if (given_for(fcinfo, CgStepsArg, true, name))
        {
            a.ials.cg_steps = PG_GETARG_INT32(CgStepsArg);
            if (a.ials.cg_steps < 1 || a.ials.cg_steps > kMaxCgSteps)
                invalid_argument(psprintf("cg_steps must be between 1 and %d, not %d", kMaxCgSteps, a.ials.cg_steps),
                                 "2 or 3 steps per half-step are usually enough.");
        }
    }
    else
        for (int arg : {AlphaArg, SolverArg, CgStepsArg})
            given_for(fcinfo, arg, false, name);
    if (bpr)
    {
        set_common(a.bpr, factors, a.iterations, regularization, seed);
        if (given_for(fcinfo, LearningRateArg, true, name))
        {
            a.bpr.learning_rate = PG_GETARG_FLOAT8(LearningRateArg);
            if (!(a.bpr.learning_rate > 0) || std::isinf(a.bpr.learning_rate))
                invalid_argument(psprintf("learning_rate must be a finite number > 0, not %g", a.bpr.learning_rate),
                                 "Typical values are 0.001 to 0.1.");
        }
    }
    else
        given_for(fcinfo, LearningRateArg, false, name);

    // The hyperparameters as they were used, defaults filled in; float8out_internal writes the
    // shortest text that reads back as the same double.
    const char *reg = float8out_internal(regularization);
    if (als)
        a.hyperparameters = psprintf(
            "{\"factors\": %d, \"iterations\": %d, \"regularization\": %s, \"bias_regularization\": %s, "
            "\"unweighted_regularization\": %s, \"seed\": %lld}",
            factors, a.iterations, reg, float8out_internal(a.als.bias_regularization.value_or(regularization)),
            float8out_internal(a.als.unweighted_regularization), (long long) seed);
    else if (ials)
        a.hyperparameters = psprintf(
            "{\"factors\": %d, \"iterations\": %d, \"regularization\": %s, \"alpha\": %s, \"solver\": \"%s\", "
            "\"cg_steps\": %d, \"seed\": %lld}",
            factors, a.iterations, reg, float8out_internal(a.ials.alpha),
            a.ials.solver == rec::core::ImplicitSolver::Cholesky ? "cholesky" : "cg", a.ials.cg_steps, (long long) seed);
    else
        a.hyperparameters = psprintf("{\"factors\": %d, \"iterations\": %d, \"regularization\": %s, "
                                     "\"learning_rate\": %s, \"seed\": %lld}",
                                     factors, a.iterations, reg, float8out_internal(a.bpr.learning_rate),
                                     (long long) seed);
    return a;
}

// What training produces; owned by a memory context (see rec_train) so that an error frees it.
struct TrainJob
{
    rec::core::Interactions data;
    rec::core::BiasedFactors model;
    double seconds = 0;
    // With a validation source: the metric after each iteration (the learning curve).
    const char *validation_metric = nullptr;
    bool validation_lower_is_better = true;
    std::vector<double> validation_curve;
    std::string curve_json;  // [{"iteration": 1, "training": .., "validation": ..}, ...]
};

// Hooks that compute the validation metric after every iteration, record the learning curve, and
// with early stopping end training once the metric has not improved on its best for kPatience
// iterations in a row.
class ValidatingHooks : public rec::pg::BackendHooks
{
public:
    static constexpr int kPatience = 2;

    ValidatingHooks(int iterations, const rec::core::ValidationSet &set, const rec::core::Interactions &data,
                    bool early_stopping, int threads, TrainJob &job)
        : BackendHooks(iterations), set_(set), data_(data), early_stopping_(early_stopping), threads_(threads), job_(job)
    {
        validation_metric_ = rec::core::validation_metric_name(set);
        job.validation_metric = validation_metric_;
        job.validation_lower_is_better = set.explicit_ratings;
    }

    bool keep_going(const rec::core::BiasedFactors &model, int iteration) override
    {
        validation_value_ = rec::core::validation_metric(set_, model, data_, threads_, *this);
        job_.validation_curve.push_back(validation_value_);
        job_.curve_json += (iteration == 1 ? "[" : ", ") + std::string("{\"iteration\": ") + std::to_string(iteration) +
                           ", \"training\": " + number(model.train_value) + ", \"validation\": " +
                           number(validation_value_) + "}";
        if (iteration == 1 || rec::core::validation_better(set_, validation_value_, best_))
        {
            best_ = validation_value_;
            since_best_ = 0;
        }
        else
            ++since_best_;
        return !(early_stopping_ && since_best_ >= kPatience);
    }

private:
    static std::string number(double value)
    {
        char text[64];
        snprintf(text, sizeof text, "%.17g", std::isfinite(value) ? value : 0.0);
        return text;
    }

    const rec::core::ValidationSet &set_;
    const rec::core::Interactions &data_;
    bool early_stopping_;
    int threads_;
    TrainJob &job_;
    double best_ = 0;
    int since_best_ = 0;
};

void
delete_job(void *job)
{
    delete static_cast<TrainJob *>(job);
}

void
check_budget(size_t needed, size_t budget, const char *what)
{
    if (needed > budget)
        throw rec::pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                                std::string(what) + " needs about " + std::to_string(needed >> 20) +
                                    " MB, more than rec.max_memory (" + std::to_string(budget >> 20) + " MB)",
                                "Raise rec.max_memory, or use fewer factors or a smaller source.");
}

TrainJob *
run_training(const rec::pg::SourceRows &rows, const rec::pg::SourceRows *validation, const TrainArgs &args,
             size_t budget)
{
    const auto started = std::chrono::steady_clock::now();
    const size_t held = rec::core::sat_mul(rows.count, rec::pg::kBytesPerSourceRow);
    check_budget(rec::core::sat_add(held, rec::core::estimate_interactions_bytes(rows.count)), budget,
                 "indexing the source");
    rec::pg::BackendHooks hooks(args.iterations);
    auto job = std::make_unique<TrainJob>();
    const rec::core::TripletsView view{rows.users, rows.items, rows.ratings, rows.count};
    // Ratings are averaged (a re-rating), implicit feedback is summed (plays add up).
    const auto policy = args.algorithm == Algorithm::Als ? rec::core::DuplicatePolicy::Average
                                                         : rec::core::DuplicatePolicy::Sum;
    // Held until the model is trained: the source is read before, the model stored after, on one thread.
    const rec::pg::WorkerThreads workers;
    const int threads = workers.threads();
    job->data = rec::core::build_interactions(view, policy, threads, hooks);
    if (job->data.duplicates_merged > 0)
        rec::pg::pg_call([&] {
            ereport(NOTICE, (errmsg("%zu rows repeated an earlier (user, item) pair and were %s into it",
                                    job->data.duplicates_merged, policy == rec::core::DuplicatePolicy::Average
                                                                     ? "averaged"
                                                                     : "added")));
        });
    check_budget(rec::core::sat_add(held, rec::core::estimate_als_bytes(job->data.user_ids.size(),
                                                                        job->data.item_ids.size(), args.factors,
                                                                        threads)),
                 budget, "training");
    std::unique_ptr<rec::core::ValidationSet> set;
    std::unique_ptr<ValidatingHooks> validating;
    rec::pg::BackendHooks *train_hooks = &hooks;
    if (validation)
    {
        set = std::make_unique<rec::core::ValidationSet>(rec::core::make_validation_set(
            job->data, validation->users, validation->items, validation->ratings, validation->count,
            args.algorithm == Algorithm::Als, rows.rating_min, rows.rating_max));
        validating = std::make_unique<ValidatingHooks>(args.iterations, *set, job->data, args.early_stopping, threads, *job);
        train_hooks = validating.get();
    }
    switch (args.algorithm)
    {
        case Algorithm::Als:
            job->model = rec::core::train_explicit_als(job->data, with_threads(args.als, threads), *train_hooks);
            break;
        case Algorithm::ImplicitAls:
            job->model = rec::core::train_implicit_als(job->data, with_threads(args.ials, threads), *train_hooks);
            break;
        case Algorithm::Bpr:
            job->model = rec::core::train_bpr(job->data, with_threads(args.bpr, threads), *train_hooks);
            break;
    }
    job->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!job->curve_json.empty())
        job->curve_json += "]";
    return job.release();
}

// Trainings of one model name are serialized by a transaction-level advisory lock on the name (field
// 4 of the lock tag is 3, a value pg_advisory_lock never uses, so no user lock collides with it):
// the second waits, or fails at once when `wait` is false. Versions are then numbered without gaps.
void
lock_model_name(const char *name, bool wait)
{
    const uint64 key = hash_bytes_extended((const unsigned char *) name, int(strlen(name)), 0x7265632e747261ULL);
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, uint32(key >> 32), uint32(key), 3);
    if (LockAcquire(&tag, ExclusiveLock, false, !wait) == LOCKACQUIRE_NOT_AVAIL)
        ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                        errmsg("model \"%s\" is being trained by another session", name),
                        errhint("Wait for it to finish, or call rec.train with wait => true to queue behind it.")));
}

}  // namespace

// CALL rec.train(model, source, user_column, item_column, rating_column, algorithm, factors, iterations,
//                regularization, seed, bias_regularization, unweighted_regularization, alpha, cg_steps,
//                solver, learning_rate)
PGREC_FUNCTION(rec_train)
{
    const TrainArgs args = parse_args(fcinfo);
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("cannot train a model on a standby"),
                        errhint("Train on the primary: models reach standbys by replication.")));
    lock_model_name(args.model, args.wait);
    // Another role's model name cannot get versions (and deployments) from this caller.
    rec::pg::require_model_owner_unless_new(args.model, "train a new version of");
    const size_t budget = rec::pg::memory_budget_bytes();
    const TimestampTz started = GetCurrentTimestamp();

    MemoryContext job_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend training",
                                                      ALLOCSET_DEFAULT_SIZES);
    MemoryContext caller_context = MemoryContextSwitchTo(job_context);
    rec::pg::SourceSpec source = args.source;
    source.rating_optional = args.algorithm != Algorithm::Als;
    const rec::pg::SourceRows rows = rec::pg::read_source(source, budget);
    ereport(NOTICE, (errmsg("read %zu rows from %s in %.2f s", rows.count, rows.qualified_name,
                            double(GetCurrentTimestamp() - started) / 1e6)));
    if (args.algorithm != Algorithm::Als)
        rec::pg::refuse_negative_values(rows, args.source.relation);
    rec::pg::SourceRows validation;
    if (args.validation_source)
    {
        rec::pg::SourceSpec held_out = source;
        held_out.relation = args.validation_source;
        held_out.expect_user_type = rows.user_type;
        held_out.expect_item_type = rows.item_type;
        held_out.model_name = args.model;
        validation = rec::pg::read_source(held_out, budget);
        if (args.algorithm != Algorithm::Als)
            rec::pg::refuse_negative_values(validation, args.validation_source);
    }

    MemoryContextCallback *cleanup = (MemoryContextCallback *) palloc0(sizeof(MemoryContextCallback));
    TrainJob *job = run_training(rows, args.validation_source ? &validation : nullptr, args, budget);
    cleanup->func = delete_job;
    cleanup->arg = job;
    MemoryContextRegisterResetCallback(job_context, cleanup);

    const bool validated = !job->validation_curve.empty();
    const double validation_value = validated ? job->validation_curve.back() : 0.0;
    rec::pg::ModelToStore store{args.model, args.algorithm_name, rows.qualified_name, args.hyperparameters,
                                args.source.user_column, args.source.item_column, args.source.rating_column,
                                rows.rating_min, rows.rating_max, job->seconds, &job->data, &job->model,
                                rows.user_type, rows.item_type,
                                rows.user_kind == rec::pg::IdKind::Integer ? nullptr : &rows.user_keys,
                                rows.item_kind == rec::pg::IdKind::Integer ? nullptr : &rows.item_keys};
    if (validated)
    {
        store.validation_metric = job->validation_metric;
        store.validation_value = validation_value;
        store.learning_curve = job->curve_json.c_str();
    }
    const rec::pg::StoredVersion stored = rec::pg::store_model(store);
    bool deploy = args.deploy;
    const char *why_not = "";
    if (deploy && args.deploy_if_better && validated)
    {
        // Compared with the deployed version's value of the same metric, if it has one.
        double deployed_value;
        if (rec::pg::deployed_validation(args.model, job->validation_metric, &deployed_value) &&
            (job->validation_lower_is_better ? validation_value > deployed_value : validation_value < deployed_value))
        {
            deploy = false;
            why_not = psprintf(", worse than the deployed version's %.4f", deployed_value);
        }
    }
    if (deploy)
        rec::pg::record_deployment(args.model, stored.model_id);
    ereport(NOTICE, (errmsg("trained model \"%s\" version %d (%s%s): %zu users, %zu items, %zu interactions, "
                            "%d iterations, %s %.4f%s, %.2f s in all",
                            args.model, stored.version, deploy ? "deployed" : "not deployed", why_not,
                            job->data.user_ids.size(), job->data.item_ids.size(), job->data.nnz(),
                            job->model.iterations, job->model.train_metric, job->model.train_value,
                            validated ? psprintf(", %s %.4f", job->validation_metric, validation_value) : "",
                            double(GetCurrentTimestamp() - started) / 1e6)));
    MemoryContextSwitchTo(caller_context);
    MemoryContextDelete(job_context);
    PG_RETURN_VOID();
}
