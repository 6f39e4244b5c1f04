// CALL rec.train(...), and the training runs it shares with rec.tune (train.hpp).
#include "pg/train.hpp"
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/distributed_train.hpp"
#include "pg/host_hooks.hpp"
#include "pg/item_features.hpp"
#include "pg/model_lifecycle.hpp"
#include "pg/model_store.hpp"
#include "pg/safe_sql.hpp"
#include "pg/settings.hpp"
#include "pg/worker_threads.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "core/checked_size.hpp"
#include "core/memory.hpp"
#include "core/interactions.hpp"
#include "core/validation.hpp"

namespace rec::pg {

struct IndexedRows
{
    explicit IndexedRows(size_t limit) : budget(limit) {}
    // What the run holds, counted from the rows read to the model trained: the peak is reported.
    rec::core::MemoryBudget budget;
    rec::core::Interactions data;
    rec::core::CleaningReport cleaning;
    bool cleaned = false;
    std::unique_ptr<rec::core::ValidationSet> validation;
    double seconds = 0;  // indexing
};

namespace {

// `json` (an object) with "name": <value> added at its end, `value` being JSON already.
const char *
with_json_value(const char *json, const char *name, const char *value)
{
    StringInfoData out;
    initStringInfo(&out);
    appendBinaryStringInfo(&out, json, int(strlen(json) - 1));  // all but the closing brace
    appendStringInfoString(&out, ", ");
    escape_json(&out, name);
    appendStringInfo(&out, ": %s}", value);
    return out.data;
}

// What one training run produces; owned by a memory context so that an error while storing frees it.
struct TrainedModel
{
    rec::core::FactorModel model;  // item-item models: the kind and zero biases, no factors
    rec::core::ItemWeights weights;
    double seconds = 0;
    std::string curve_json;  // with a validation set: [{"iteration", "training", "validation"}, ...]
    const char *validation_metric = nullptr;
    double validation_value = 0;
    bool lower_is_better = true;
};

template <typename T>
void
delete_object(void *object)
{
    delete static_cast<T *>(object);
}

// Makes `context` delete `object` when it is reset or deleted.
template <typename T>
T *
owned_by(MemoryContext context, T *object)
{
    MemoryContextCallback *callback = nullptr;
    pg_call(
        [&] { callback = (MemoryContextCallback *) MemoryContextAllocZero(context, sizeof(MemoryContextCallback)); });
    callback->func = delete_object<T>;
    callback->arg = object;
    MemoryContextRegisterResetCallback(context, callback);
    return object;
}

// ease and itemknn: the weights in one step (no iterations), judged once on the validation set.
void
train_item_item(const TrainSpec &spec, IndexedRows &indexed, int threads, TrainedModel &trained)
{
    const rec::core::Interactions &data = indexed.data;
    const size_t users = data.user_ids.size(), items = data.item_ids.size();
    const bool ease = spec.algorithm == Algorithm::Ease;
    const size_t bytes = ease ? rec::core::ease_training_bytes(items, spec.ease.neighbours, threads)
                              : rec::core::itemknn_training_bytes(items, data.nnz(), spec.itemknn.neighbours, threads);
    indexed.budget.take(bytes, "training");
    BackendHooks hooks;
    if (ease)
    {
        rec::core::EaseParams p = spec.ease;
        p.threads = threads;
        trained.weights = rec::core::train_ease(data, p, hooks);
    }
    else
    {
        rec::core::ItemKnnParams p = spec.itemknn;
        p.threads = threads;
        trained.weights = rec::core::train_itemknn(data, p, hooks);
    }
    indexed.budget.give(bytes);
    // The weights stay counted until they are stored.
    const rec::core::ItemWeights &w = trained.weights;
    indexed.budget.take(w.weights.size() * sizeof(float) + w.neighbours.size() * sizeof(int32_t) +
                            w.offsets.size() * sizeof(int64_t),
                        "training");
    rec::core::FactorModel &f = trained.model;
    f.kind = ease ? rec::core::ModelKind::Ease : rec::core::ModelKind::ItemKnn;
    f.factors = 0;
    f.user_bias.assign(users, 0.0f);
    f.item_bias.assign(items, 0.0f);
    f.train_metric = "weights stored";
    f.train_value = double(trained.weights.stored());
    f.iterations = 1;
    if (indexed.validation)
    {
        const rec::core::ItemWeightsView weights = trained.weights.view();
        const double value = rec::core::validation_metric(*indexed.validation, f, data, threads, hooks, &weights);
        trained.validation_metric = rec::core::validation_metric_name(*indexed.validation);
        trained.validation_value = value;
        trained.lower_is_better = indexed.validation->explicit_ratings;
        char text[128];
        snprintf(text, sizeof text, "[{\"iteration\": 1, \"training\": %.17g, \"validation\": %.17g}]", f.train_value,
                 value);
        trained.curve_json = text;
    }
}

TrainedModel *
train_model(const TrainSpec &spec, IndexedRows &indexed, const RunOptions &run, MemoryContext owner)
{
    const auto started = std::chrono::steady_clock::now();
    const rec::core::Interactions &data = indexed.data;
    // Held until the model is trained: the source is read before, the model stored after, on one thread.
    const WorkerThreads workers;
    const int threads = workers.threads();
    if (is_item_item(spec.algorithm))
    {
        auto trained = std::make_unique<TrainedModel>();
        train_item_item(spec, indexed, threads, *trained);
        trained->seconds =
            indexed.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return owned_by(owner, trained.release());
    }
    // Counted while the model is trained; the model's factors stay counted until it is stored.
    size_t training_bytes =
        rec::core::estimate_training_bytes(data.user_ids.size(), data.item_ids.size(), spec.factors, threads);
    if (spec.algorithm == Algorithm::Als && spec.als.noise_variance > 0)
        training_bytes = rec::core::sat_add(
            training_bytes,
            rec::core::estimate_variational_bytes(data.user_ids.size(), data.item_ids.size(), spec.factors));
    indexed.budget.take(training_bytes, "training");
    BackendHooks hooks(spec.iterations);
    std::unique_ptr<rec::core::ValidatingHooks> validating;
    rec::core::TrainHooks *train_hooks = &hooks;
    if (indexed.validation)
    {
        validating =
            std::make_unique<rec::core::ValidatingHooks>(hooks, *indexed.validation, data, run.early_stopping, threads);
        train_hooks = validating.get();
    }
    auto trained = std::make_unique<TrainedModel>();
    switch (spec.algorithm)
    {
        case Algorithm::Als:
        {
            rec::core::AlsParams p = spec.als;
            p.threads = threads;
            trained->model = rec::core::train_explicit_als(data, p, *train_hooks);
            break;
        }
        case Algorithm::ImplicitAls:
        {
            rec::core::ImplicitParams p = spec.ials;
            p.threads = threads;
            trained->model = rec::core::train_implicit_als(data, p, *train_hooks);
            break;
        }
        case Algorithm::Bpr:
        {
            rec::core::BprParams p = spec.bpr;
            p.threads = threads;
            trained->model = rec::core::train_bpr(data, p, *train_hooks);
            break;
        }
        case Algorithm::Ease:
        case Algorithm::ItemKnn:
            break;  // train_item_item
    }
    if (validating && !validating->curve().empty())
    {
        trained->curve_json = validating->curve_json();
        trained->validation_metric = validating->metric();
        trained->validation_value = validating->curve().back().validation;
        trained->lower_is_better = validating->lower_is_better();
    }
    trained->seconds =
        indexed.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    indexed.budget.give(training_bytes);
    return owned_by(owner, trained.release());
}

}  // namespace

TrainingRows
read_training_rows(const char *model, const SourceSpec &source, const char *validation_source, bool implicit_values,
                   size_t budget, double half_life_seconds)
{
    const TimestampTz started = GetCurrentTimestamp();
    TrainingRows out;
    out.source = source;
    out.half_life_seconds = half_life_seconds;
    out.source.rating_optional = implicit_values;
    out.rows = read_source(out.source, budget);
    ereport(NOTICE, (errmsg("read %zu rows from %s in %.2f s", out.rows.count, out.rows.qualified_name,
                            double(GetCurrentTimestamp() - started) / 1e6)));
    if (implicit_values)
        refuse_negative_values(out.rows, source.relation);
    out.validation_source = validation_source;
    if (validation_source)
    {
        SourceSpec held_out = out.source;
        held_out.relation = validation_source;
        held_out.time_column = nullptr;
        held_out.expect_user_type = out.rows.user_type;
        held_out.expect_item_type = out.rows.item_type;
        held_out.model_name = model;
        out.validation = read_source(held_out, budget);
        if (implicit_values)
            refuse_negative_values(out.validation, validation_source);
    }
    return out;
}

IndexedRows *
index_training_rows(TrainingRows &rows, Algorithm algorithm, MemoryContext owner, size_t budget)
{
    const auto started = std::chrono::steady_clock::now();
    SourceRows &r = rows.rows;
    auto indexed = std::make_unique<IndexedRows>(budget);
    // The rows read (the validation rows stay while training), then what indexing adds as it goes.
    indexed->budget.take(rec::core::sat_mul(r.count + rows.validation.count, rec::core::kBytesPerTriplet),
                         "reading the source");
    // Recency: ials takes the weight into the value (its confidence then grows with w·r), as ease and
    // itemknn do (X holds w·r); als and bpr weigh each entry's term of the loss.
    float *weights = nullptr;
    if (r.times && rows.half_life_seconds == 0)
    {
        pfree(r.times);
        r.times = nullptr;
    }
    if (r.times)
    {
        indexed->budget.take(rec::core::sat_mul(r.count, sizeof(float)), "reading the source");
        weights = (float *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(r.count, (size_t) 1));
        for (size_t row = 0; row < r.count; ++row)
            weights[row] = float(std::exp2(-(r.time_max - r.times[row]) / rows.half_life_seconds));
        pfree(r.times);
        r.times = nullptr;
        if (algorithm == Algorithm::ImplicitAls || is_item_item(algorithm))
        {
            for (size_t row = 0; row < r.count; ++row)
                r.ratings[row] *= weights[row];
            pfree(weights);
            weights = nullptr;
            indexed->budget.give(rec::core::sat_mul(r.count, sizeof(float)));
        }
    }
    // Ratings are averaged (a re-rating), implicit feedback is summed (plays add up).
    const bool explicit_ratings = algorithm == Algorithm::Als;
    const auto policy = explicit_ratings ? rec::core::DuplicatePolicy::Average : rec::core::DuplicatePolicy::Sum;
    {
        // The rows are handed back as soon as indexing has read them, so that the peak stays near
        // the size of the index itself.
        rec::core::TripletsView view{r.users,
                                     r.items,
                                     r.ratings,
                                     r.count,
                                     [](const void *array) { pg_call([&] { pfree(const_cast<void *>(array)); }); },
                                     weights};
        const WorkerThreads workers;
        BackendHooks hooks;
        indexed->data = rec::core::build_interactions(view, policy, workers.threads(), hooks, indexed->budget);
        r.users = nullptr;
        r.items = nullptr;
        r.ratings = nullptr;
    }
    if (rows.cleaning.any())
    {
        const WorkerThreads workers;
        BackendHooks hooks;
        const size_t before = indexed->data.nnz();
        indexed->cleaning =
            rec::core::clean_interactions(indexed->data, rows.cleaning, workers.threads(), hooks, indexed->budget);
        indexed->cleaned = true;
        const rec::core::CleaningReport &c = indexed->cleaning;
        pg_call([&] {
            ereport(NOTICE, (errmsg("cleaning: max_user_interactions dropped %zu users, %zu items, %zu interactions; "
                                    "min_user/item_interactions dropped %zu users, %zu items, %zu interactions in %d "
                                    "rounds; %zu of %zu interactions left",
                                    c.above_max_user.users, c.above_max_user.items, c.above_max_user.interactions,
                                    c.k_core.users, c.k_core.items, c.k_core.interactions, c.rounds,
                                    indexed->data.nnz(), before)));
        });
    }
    if (indexed->data.duplicates_merged > 0)
        pg_call([&] {
            ereport(NOTICE, (errmsg("%zu rows repeated an earlier (user, item) pair and were %s into it",
                                    indexed->data.duplicates_merged, explicit_ratings ? "averaged" : "added")));
        });
    if (rows.validation_source)
    {
        const SourceRows &v = rows.validation;
        indexed->budget.take(rec::core::sat_mul(v.count, 3 * sizeof(int32_t)), "validating");
        indexed->validation = std::make_unique<rec::core::ValidationSet>(rec::core::make_validation_set(
            indexed->data, v.users, v.items, v.ratings, v.count, explicit_ratings, r.rating_min, r.rating_max));
    }
    indexed->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return owned_by(owner, indexed.release());
}

TrainedVersion
train_version(const char *model, const TrainSpec &spec, const TrainingRows &rows, IndexedRows *indexed,
              const RunOptions &run)
{
    const TimestampTz started = GetCurrentTimestamp();
    MemoryContext job_context =
        AllocSetContextCreate(CurrentMemoryContext, "pg_recommend training", ALLOCSET_DEFAULT_SIZES);
    TrainedModel *trained = train_model(spec, *indexed, run, job_context);
    const SourceRows &r = rows.rows;
    const char *hyperparameters = spec.hyperparameters;
    if (indexed->cleaned)
    {
        const rec::core::CleaningReport &c = indexed->cleaning;
        const auto dropped = [](const rec::core::Dropped &d) {
            return psprintf("{\"users\": %zu, \"items\": %zu, \"interactions\": %zu}", d.users, d.items,
                            d.interactions);
        };
        hyperparameters = with_json_value(
            hyperparameters, "cleaning",
            psprintf("{\"max_user_interactions\": %zu, \"min_user_interactions\": %zu, "
                     "\"min_item_interactions\": %zu, \"dropped_above_max_user\": %s, \"dropped_k_core\": %s}",
                     rows.cleaning.max_user, rows.cleaning.min_user, rows.cleaning.min_item, dropped(c.above_max_user),
                     dropped(c.k_core)));
    }
    // The newest interaction trained on (seconds since 1970): rec.model_health counts what came after.
    if (rows.source.time_column != nullptr && r.count > 0)
        hyperparameters = with_json_value(hyperparameters, "newest_time", psprintf("%.17g", r.time_max));
    StoredFeatureMap features;
    if (run.item_features)
        features = attach_item_features(run.item_features, r.item_type, indexed->data, trained->model);
    ModelToStore store{model,
                       spec.algorithm_name,
                       r.qualified_name,
                       hyperparameters,
                       rows.source.user_column,
                       rows.source.item_column,
                       rows.source.rating_column,
                       r.rating_min,
                       r.rating_max,
                       trained->seconds,
                       &indexed->data,
                       &trained->model,
                       r.user_type,
                       r.item_type,
                       r.user_kind == IdKind::Integer ? nullptr : &r.user_keys,
                       r.item_kind == IdKind::Integer ? nullptr : &r.item_keys};
    TrainedVersion out{};
    out.validated = trained->validation_metric != nullptr;
    if (out.validated)
    {
        store.validation_metric = trained->validation_metric;
        store.validation_value = trained->validation_value;
        store.learning_curve = trained->curve_json.c_str();
        out.validation_metric = trained->validation_metric;
        out.validation_value = trained->validation_value;
        out.lower_is_better = trained->lower_is_better;
    }
    if (is_item_item(spec.algorithm))
        store.weights = &trained->weights;
    const StoredVersion stored = store_model(store);
    if (run.item_features)
        store_feature_map(stored.model_id, features);
    out.model_id = stored.model_id;
    out.version = stored.version;
    out.deployed = run.deploy;
    const char *why_not = "";
    if (out.deployed && run.deploy_if_better && out.validated)
    {
        // Compared with the deployed version's value of the same metric, if it has one.
        double deployed_value;
        if (deployed_validation(model, out.validation_metric, &deployed_value) &&
            (out.lower_is_better ? out.validation_value > deployed_value : out.validation_value < deployed_value))
        {
            out.deployed = false;
            why_not = psprintf(", worse than the deployed version's %.4f", deployed_value);
        }
    }
    if (out.deployed)
        record_deployment(model, stored.model_id);
    const rec::core::Interactions &data = indexed->data;
    // Item-item models are one step: the weights they keep instead of iterations and a training metric.
    const char *result = is_item_item(spec.algorithm)
                             ? psprintf("%.0f weights stored", trained->model.train_value)
                             : psprintf("%d iterations, %s %.4f", trained->model.iterations,
                                        trained->model.train_metric, trained->model.train_value);
    ereport(NOTICE, (errmsg("trained model \"%s\" version %d (%s%s): %zu users, %zu items, %zu interactions, "
                            "%s%s, %.2f s training, %.2f s in all, peak memory about %zu MB",
                            model, stored.version, out.deployed ? "deployed" : "not deployed", why_not,
                            data.user_ids.size(), data.item_ids.size(), data.nnz(), result,
                            out.validated ? psprintf(", %s %.4f", out.validation_metric, out.validation_value) : "",
                            trained->seconds, double(GetCurrentTimestamp() - started) / 1e6 + indexed->seconds,
                            (indexed->budget.peak() + (1 << 20) - 1) >> 20)));
    MemoryContextDelete(job_context);
    return out;
}

void
lock_model_name(const char *name, bool wait)
{
    // Field 4 of the lock tag is 3, a value pg_advisory_lock never uses, so no user lock collides.
    const uint64 key = hash_bytes_extended((const unsigned char *) name, int(strlen(name)), 0x7265632e747261ULL);
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, uint32(key >> 32), uint32(key), 3);
    if (LockAcquire(&tag, ExclusiveLock, false, !wait) == LOCKACQUIRE_NOT_AVAIL)
        ereport(ERROR,
                (errcode(ERRCODE_LOCK_NOT_AVAILABLE), errmsg("model \"%s\" is being trained by another session", name),
                 errhint("Wait for it to finish, or call rec.train with wait => true to queue behind it.")));
}

}  // namespace rec::pg

namespace {

// Argument positions of rec.train, as declared in sql/pg_recommend.sql.
enum Arg
{
    ModelArg,
    SourceArg,
    UserColumnArg,
    ItemColumnArg,
    RatingColumnArg,
    AlgorithmArg,
    FactorsArg,
    IterationsArg,
    RegularizationArg,
    SeedArg,
    BiasRegularizationArg,
    UnweightedRegularizationArg,
    AlphaArg,
    CgStepsArg,
    SolverArg,
    LearningRateArg,
    DeployArg,
    WaitArg,
    ValidationSourceArg,
    EarlyStoppingArg,
    DeployIfBetterArg,
    ConfidenceArg,
    NoiseVarianceArg,
    TimeColumnArg,
    HalfLifeArg,
    ItemFeaturesArg,
    MinUserInteractionsArg,
    MinItemInteractionsArg,
    MaxUserInteractionsArg,
    NeighboursArg,
    SimilarityArg,
    ArgCount
};
const char *const kArgNames[ArgCount] = {"model",
                                         "source",
                                         "user_column",
                                         "item_column",
                                         "rating_column",
                                         "algorithm",
                                         "factors",
                                         "iterations",
                                         "regularization",
                                         "seed",
                                         "bias_regularization",
                                         "unweighted_regularization",
                                         "alpha",
                                         "cg_steps",
                                         "solver",
                                         "learning_rate",
                                         "deploy",
                                         "wait",
                                         "validation_source",
                                         "early_stopping",
                                         "deploy_if_better",
                                         "confidence",
                                         "noise_variance",
                                         "time_column",
                                         "half_life",
                                         "item_features",
                                         "min_user_interactions",
                                         "min_item_interactions",
                                         "max_user_interactions",
                                         "neighbours",
                                         "similarity"};

rec::pg::GivenNumber
number_arg(FunctionCallInfo fcinfo, int arg)
{
    return PG_ARGISNULL(arg) ? rec::pg::GivenNumber{} : rec::pg::GivenNumber{true, PG_GETARG_FLOAT8(arg)};
}

rec::pg::GivenInteger
integer_arg(FunctionCallInfo fcinfo, int arg, bool bigint = false)
{
    if (PG_ARGISNULL(arg))
        return rec::pg::GivenInteger{};
    return rec::pg::GivenInteger{true, bigint ? PG_GETARG_INT64(arg) : int64(PG_GETARG_INT32(arg))};
}

// `json` (an object) with "name": "value" added at its end.
const char *
with_json_field(const char *json, const char *name, const char *value)
{
    StringInfoData out;
    initStringInfo(&out);
    const size_t length = strlen(json);
    appendBinaryStringInfo(&out, json, int(length - 1));  // all but the closing brace
    appendStringInfoString(&out, ", ");
    escape_json(&out, name);
    appendStringInfoString(&out, ": ");
    escape_json(&out, value);
    appendStringInfoChar(&out, '}');
    return out.data;
}

// How many arguments this call has: the procedure of an older install script (before confidence)
// calls the same C function with fewer.
bool
has_arg(FunctionCallInfo fcinfo, int arg)
{
    return arg < PG_NARGS();
}

}  // namespace

// CALL rec.train(model, source, user_column, item_column, rating_column, algorithm, factors, iterations,
//                regularization, seed, bias_regularization, unweighted_regularization, alpha, cg_steps,
//                solver, learning_rate, deploy, wait, validation_source, early_stopping, deploy_if_better,
//                confidence)
PGREC_FUNCTION(rec_train)
{
    for (int arg : {AlgorithmArg, FactorsArg, SeedArg, DeployArg, WaitArg, EarlyStoppingArg, DeployIfBetterArg})
        if (PG_ARGISNULL(arg))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("argument %s of rec.train must not be NULL", kArgNames[arg])));
    const char *model = rec::pg::text_arg(fcinfo, ModelArg);
    if (model == nullptr || model[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("model name must not be NULL or empty")));
    rec::pg::RunOptions run;
    run.deploy = PG_GETARG_BOOL(DeployArg);
    const bool wait = PG_GETARG_BOOL(WaitArg);
    const char *validation_source = rec::pg::text_arg(fcinfo, ValidationSourceArg);
    run.early_stopping = PG_GETARG_BOOL(EarlyStoppingArg);
    run.deploy_if_better = PG_GETARG_BOOL(DeployIfBetterArg);
    if ((run.early_stopping || run.deploy_if_better) && validation_source == nullptr)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("%s needs a validation_source", run.early_stopping ? "early_stopping" : "deploy_if_better"),
                 errhint("Name held-out rows, for example a test table made by rec.split.")));
    rec::pg::TrainOptions options;
    options.algorithm = rec::pg::text_arg(fcinfo, AlgorithmArg);
    options.factors = integer_arg(fcinfo, FactorsArg);
    options.iterations = integer_arg(fcinfo, IterationsArg);
    options.regularization = number_arg(fcinfo, RegularizationArg);
    options.seed = integer_arg(fcinfo, SeedArg, true);
    options.bias_regularization = number_arg(fcinfo, BiasRegularizationArg);
    options.unweighted_regularization = number_arg(fcinfo, UnweightedRegularizationArg);
    options.alpha = number_arg(fcinfo, AlphaArg);
    options.cg_steps = integer_arg(fcinfo, CgStepsArg);
    options.solver = rec::pg::text_arg(fcinfo, SolverArg);
    options.learning_rate = number_arg(fcinfo, LearningRateArg);
    options.confidence = has_arg(fcinfo, ConfidenceArg) ? rec::pg::text_arg(fcinfo, ConfidenceArg) : nullptr;
    if (has_arg(fcinfo, NoiseVarianceArg))
        options.noise_variance = number_arg(fcinfo, NoiseVarianceArg);
    if (has_arg(fcinfo, NeighboursArg))
        options.neighbours = integer_arg(fcinfo, NeighboursArg);
    if (has_arg(fcinfo, SimilarityArg))
        options.similarity = rec::pg::text_arg(fcinfo, SimilarityArg);
    rec::pg::TrainSpec spec = rec::pg::check_options(options);
    const char *time_column = has_arg(fcinfo, TimeColumnArg) ? rec::pg::text_arg(fcinfo, TimeColumnArg) : nullptr;
    const double half_life =
        has_arg(fcinfo, HalfLifeArg) ? rec::pg::interval_seconds_arg(fcinfo, HalfLifeArg, "half_life", "rec.train") : 0;
    if (half_life > 0 && time_column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("half_life needs a time_column"),
                        errhint("Name the column holding each interaction's time in the time_column argument of "
                                "rec.train.")));
    if (time_column)
        spec.hyperparameters = with_json_field(spec.hyperparameters, "time_column", time_column);
    // Cleaning: counts of distinct (user, item) pairs, each at least 1 when given.
    rec::core::CleaningOptions cleaning;
    size_t *limits[] = {&cleaning.min_user, &cleaning.min_item, &cleaning.max_user};
    for (int arg = MinUserInteractionsArg; arg <= MaxUserInteractionsArg; ++arg)
    {
        if (!has_arg(fcinfo, arg) || PG_ARGISNULL(arg))
            continue;
        if (PG_GETARG_INT32(arg) < 1)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s must be at least 1, not %d", kArgNames[arg], PG_GETARG_INT32(arg)),
                            errhint("It counts distinct (user, item) pairs; NULL applies no limit (rec.train).")));
        *limits[arg - MinUserInteractionsArg] = size_t(PG_GETARG_INT32(arg));
    }
    if (has_arg(fcinfo, ItemFeaturesArg) && !PG_ARGISNULL(ItemFeaturesArg))
    {
        // Resolved now (an unknown table fails before training), stored schema-qualified for refreshes.
        const char *quoted;
        rec::pg::readable_relation(rec::pg::text_arg(fcinfo, ItemFeaturesArg), &quoted);
        if (rec::pg::is_item_item(spec.algorithm))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("item_features does not apply to algorithm '%s'", spec.algorithm_name),
                            errhint("Features give cold-start items factors; ease and itemknn have none. Train "
                                    "'als', 'ials' or 'bpr' with item_features (rec.train).")));
        run.item_features = quoted;
        spec.hyperparameters = with_json_field(spec.hyperparameters, "item_features", quoted);
    }
    if (half_life > 0)
        spec.hyperparameters =
            with_json_field(spec.hyperparameters, "half_life",
                            DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(HalfLifeArg))));

    rec::pg::SourceSpec source;
    source.relation = rec::pg::text_arg(fcinfo, SourceArg);
    source.user_column = rec::pg::text_arg(fcinfo, UserColumnArg);
    source.item_column = rec::pg::text_arg(fcinfo, ItemColumnArg);
    source.rating_column = rec::pg::text_arg(fcinfo, RatingColumnArg);
    source.time_column = time_column;
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("cannot train a model on a standby"),
                        errhint("Train on the primary: models reach standbys by replication.")));
    rec::pg::lock_model_name(model, wait);
    // Another role's model name cannot get versions (and deployments) from this caller.
    rec::pg::require_model_owner_unless_new(model, "train a new version of");
    const size_t budget = rec::pg::memory_budget_bytes();
    // A Citus table distributed by user trains on the workers, unless an option needs every row here.
    const char *coordinator_only =
        validation_source   ? "validation_source needs the rows on one node"
        : time_column       ? "time_column needs the rows on one node"
        : cleaning.any()    ? "min_user_interactions, min_item_interactions and max_user_interactions need the rows "
                              "on one node"
        : run.item_features ? "item_features needs the rows on one node"
                            : nullptr;
    if (rec::pg::train_distributed(model, spec, source, run, coordinator_only))
        PG_RETURN_VOID();

    MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend rows", ALLOCSET_DEFAULT_SIZES);
    MemoryContext caller_context = MemoryContextSwitchTo(context);
    // Without a half_life the time column is checked and recorded (rec.trending reads it), not weighed.
    rec::pg::TrainingRows rows = rec::pg::read_training_rows(
        model, source, validation_source, spec.algorithm != rec::pg::Algorithm::Als, budget, half_life);
    rows.cleaning = cleaning;
    rec::pg::IndexedRows *indexed = rec::pg::index_training_rows(rows, spec.algorithm, context, budget);
    rec::pg::train_version(model, spec, rows, indexed, run);
    MemoryContextSwitchTo(caller_context);
    MemoryContextDelete(context);
    PG_RETURN_VOID();
}
