// CALL rec.train(...): read the source, train in parallel, store the new model version.
#include "pg/bridge.hpp"
#include "pg/model_store.hpp"
#include "pg/settings.hpp"
#include "pg/source_reader.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "core/als.hpp"
#include "core/checked_size.hpp"
#include "core/interactions.hpp"

namespace {

// Largest `factors` accepted: one row's solve costs O(factors³), and it must stay well under the
// second within which a cancel is honoured.
constexpr int kMaxFactors = 1024;
constexpr int kMaxIterations = 100000;

struct TrainArgs
{
    const char *model;
    rec::pg::SourceSpec source;
    const char *algorithm;
    rec::core::AlsParams als;
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

TrainArgs
parse_args(FunctionCallInfo fcinfo)
{
    static const char *const names[] = {"model",          "source", "user_column", "item_column",
                                        "rating_column",  "algorithm", "factors", "iterations",
                                        "regularization", "seed", "bias_regularization",
                                        "unweighted_regularization"};
    for (int arg : {5, 6, 7, 8, 9, 11})
        if (PG_ARGISNULL(arg))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("argument %s of rec.train must not be NULL", names[arg])));
    TrainArgs a{};
    a.model = text_arg(fcinfo, 0);
    if (a.model == nullptr || a.model[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("model name must not be NULL or empty")));
    a.source.relation = text_arg(fcinfo, 1);
    a.source.user_column = text_arg(fcinfo, 2);
    a.source.item_column = text_arg(fcinfo, 3);
    a.source.rating_column = text_arg(fcinfo, 4);
    a.algorithm = text_arg(fcinfo, 5);
    if (strcmp(a.algorithm, "als") != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown algorithm \"%s\"", a.algorithm),
                        errhint("Supported: 'als' (explicit-feedback ALS with biases).")));
    a.als.factors = PG_GETARG_INT32(6);
    a.als.iterations = PG_GETARG_INT32(7);
    a.als.regularization = PG_GETARG_FLOAT8(8);
    a.als.seed = uint64(PG_GETARG_INT64(9));
    if (!PG_ARGISNULL(10))
        a.als.bias_regularization = PG_GETARG_FLOAT8(10);
    a.als.unweighted_regularization = PG_GETARG_FLOAT8(11);
    a.als.threads = rec::pg::training_threads();
    if (a.als.factors < 1 || a.als.factors > kMaxFactors)
        invalid_argument(psprintf("factors must be between 1 and %d, not %d", kMaxFactors, a.als.factors),
                         "Typical values are 16 to 256.");
    if (a.als.iterations < 1 || a.als.iterations > kMaxIterations)
        invalid_argument(psprintf("iterations must be between 1 and %d, not %d", kMaxIterations, a.als.iterations),
                         "ALS usually converges within 10 to 20 iterations.");
    const double penalties[] = {a.als.regularization, a.als.bias_regularization.value_or(0.0),
                                a.als.unweighted_regularization};
    const char *const penalty_names[] = {names[8], names[10], names[11]};
    for (int p = 0; p < 3; ++p)
        if (!(penalties[p] >= 0) || std::isinf(penalties[p]))
            invalid_argument(psprintf("%s must be a finite number >= 0, not %g", penalty_names[p], penalties[p]),
                             "See the hyperparameters in the pg_recommend documentation (docs/sql.md).");
    return a;
}

// Training reports to the backend on the backend's own thread, between parallel chunks.
class PgTrainHooks : public rec::core::TrainHooks
{
public:
    explicit PgTrainHooks(int iterations) : iterations_(iterations) {}

    void poll() override
    {
        if (INTERRUPTS_PENDING_CONDITION())
            rec::pg::pg_call([] { CHECK_FOR_INTERRUPTS(); });
    }

    void iteration_done(const rec::core::IterationStats &s) override
    {
        rec::pg::pg_call([&] {
            ereport(NOTICE, (errmsg("iteration %d/%d: training RMSE %.4f, %.2f s", s.iteration, iterations_,
                                    s.train_rmse, s.seconds)));
        });
    }

private:
    int iterations_;
};

// What training produces; owned by a memory context (see rec_train) so that an error frees it.
struct TrainJob
{
    rec::core::Interactions data;
    rec::core::BiasedFactors model;
    double seconds = 0;
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
run_training(const rec::pg::SourceRows &rows, const TrainArgs &args, size_t budget)
{
    const auto started = std::chrono::steady_clock::now();
    const size_t held = rec::core::sat_mul(rows.count, rec::pg::kBytesPerSourceRow);
    check_budget(rec::core::sat_add(held, rec::core::estimate_interactions_bytes(rows.count)), budget,
                 "indexing the source");
    PgTrainHooks hooks(args.als.iterations);
    auto job = std::make_unique<TrainJob>();
    const rec::core::TripletsView view{rows.users, rows.items, rows.ratings, rows.count};
    job->data = rec::core::build_interactions(view, rec::core::DuplicatePolicy::Average, args.als.threads, hooks);
    if (job->data.duplicates_merged > 0)
        rec::pg::pg_call([&] {
            ereport(NOTICE, (errmsg("%zu rows repeated an earlier (user, item) pair and were averaged into it",
                                    job->data.duplicates_merged)));
        });
    check_budget(rec::core::sat_add(held, rec::core::estimate_als_bytes(job->data.user_ids.size(),
                                                                        job->data.item_ids.size(),
                                                                        args.als.factors, args.als.threads)),
                 budget, "training");
    job->model = rec::core::train_explicit_als(job->data, args.als, hooks);
    job->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return job.release();
}

}  // namespace

// CALL rec.train(model, source, user_column, item_column, rating_column, algorithm, factors,
//                iterations, regularization, seed)
PGREC_FUNCTION(rec_train)
{
    const TrainArgs args = parse_args(fcinfo);
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("cannot train a model on a standby"),
                        errhint("Train on the primary: models reach standbys by replication.")));
    const size_t budget = rec::pg::memory_budget_bytes();
    const TimestampTz started = GetCurrentTimestamp();

    MemoryContext job_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend training",
                                                      ALLOCSET_DEFAULT_SIZES);
    MemoryContext caller_context = MemoryContextSwitchTo(job_context);
    const rec::pg::SourceRows rows = rec::pg::read_source(args.source, budget);
    ereport(NOTICE, (errmsg("read %zu rows from %s in %.2f s", rows.count, rows.qualified_name,
                            double(GetCurrentTimestamp() - started) / 1e6)));

    MemoryContextCallback *cleanup = (MemoryContextCallback *) palloc0(sizeof(MemoryContextCallback));
    TrainJob *job = run_training(rows, args, budget);
    cleanup->func = delete_job;
    cleanup->arg = job;
    MemoryContextRegisterResetCallback(job_context, cleanup);

    rec::pg::ModelToStore store{args.model, args.algorithm, rows.qualified_name, &args.als,
                                rows.rating_min, rows.rating_max, job->seconds, &job->data, &job->model};
    const rec::pg::StoredVersion stored = rec::pg::store_model(store);
    ereport(NOTICE, (errmsg("trained model \"%s\" version %d: %zu users, %zu items, %zu ratings, training RMSE "
                            "%.4f, %.2f s in all",
                            args.model, stored.version, job->data.user_ids.size(), job->data.item_ids.size(),
                            job->data.nnz(), job->model.train_rmse, double(GetCurrentTimestamp() - started) / 1e6)));
    MemoryContextSwitchTo(caller_context);
    MemoryContextDelete(job_context);
    PG_RETURN_VOID();
}
