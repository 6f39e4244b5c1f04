// CALL rec.tune(...): grid or random search over rec.train's hyperparameters. The sources are read
// and indexed once; each trial then trains through the same C++ path as rec.train and is stored as a
// version judged on the validation source; the best one is deployed.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/model_lifecycle.hpp"
#include "pg/settings.hpp"
#include "pg/spi_session.hpp"
#include "pg/train.hpp"

namespace {

enum Arg
{
    ModelArg,
    SourceArg,
    ValidationSourceArg,
    GridArg,
    UserColumnArg,
    ItemColumnArg,
    RatingColumnArg,
    AlgorithmArg,
    SearchArg,
    TrialsArg,
    SeedArg
};

constexpr double kMaxTrials = 1000;

// One combination of the grid: option names and their values (JSON numbers as text).
struct Combination
{
    int count;
    const char **names;
    const char **values;
    const char *text;  // "name => value, ..." for messages
};

// Checks the grid (an object of non-empty arrays of numbers, each key a tunable option, integer options
// whole numbers in range) and lists its combinations: all of them, or `trials` drawn by a seeded hash.
// Runs in an SPI session; the result is allocated in `context`.
Combination *
grid_combinations(Datum grid, bool random_search, int trials, int64 seed, MemoryContext context, uint64 *count)
{
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller, true);
    Oid types[] = {JSONBOID};
    Datum args[] = {grid};
    rec::pg::run_sql(spi, "SELECT jsonb_typeof($1) = 'object' AND $1 <> '{}'", 1, types, args, SPI_OK_SELECT);
    if (!DatumGetBool(rec::pg::result_value(0, 1)))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("grid must be a non-empty JSON object"),
                        errhint("For example '{\"factors\": [32, 64], \"regularization\": [0.01, 0.1]}'.")));
    // Per key: whether it is a non-empty array of numbers, and whether they are all integers that fit
    // an integer (a bigint for seed), as the integer options need.
    rec::pg::run_sql(spi,
                     "SELECT key, numbers, CASE WHEN numbers THEN (SELECT bool_and(n = trunc(n) AND "
                     "n BETWEEN CASE key WHEN 'seed' THEN -9223372036854775808 ELSE -2147483648 END AND "
                     "CASE key WHEN 'seed' THEN 9223372036854775807 ELSE 2147483647 END) "
                     "FROM (SELECT e::text::numeric AS n FROM jsonb_array_elements(value) e) v) END "
                     "FROM (SELECT key, value, jsonb_typeof(value) = 'array' AND jsonb_array_length(value) > 0 "
                     "AND (SELECT bool_and(jsonb_typeof(e) = 'number') FROM jsonb_array_elements(value) e) "
                     "AS numbers FROM jsonb_each($1)) k ORDER BY key",
                     1, types, args, SPI_OK_SELECT);
    for (uint64 r = 0; r < SPI_processed; ++r)
    {
        const char *key = TextDatumGetCString(rec::pg::result_value(r, 1));
        bool isnull;
        const Datum numbers = rec::pg::result_value(r, 2, &isnull);
        if (!rec::pg::is_tunable(key))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("\"%s\" cannot be tuned", key),
                            errhint("A grid may vary factors, iterations, regularization, bias_regularization, "
                                    "unweighted_regularization, noise_variance, alpha, cg_steps, learning_rate, "
                                    "neighbours and seed, or be keyed by algorithm ('als', 'ials', 'bpr', 'ease', "
                                    "'itemknn').")));
        if (isnull || !DatumGetBool(numbers))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("grid value for \"%s\" must be a non-empty array of numbers", key)));
        const Datum integers = rec::pg::result_value(r, 3, &isnull);
        if (rec::pg::is_integer_option(key) && !DatumGetBool(integers))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("grid values for \"%s\" must be whole numbers within the range of %s", key,
                                   strcmp(key, "seed") == 0 ? "bigint" : "integer")));
    }
    // A grid search trains every combination: refuse absurd grids before starting.
    rec::pg::run_sql(spi, "SELECT exp(sum(ln(jsonb_array_length(value)))) FROM jsonb_each($1)", 1, types, args,
                     SPI_OK_SELECT);
    const double combinations = DatumGetFloat8(rec::pg::result_value(0, 1));
    if (!random_search && combinations > kMaxTrials + 0.5)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("grid has %.0f combinations, more than %.0f", combinations, kMaxTrials),
                        errhint("Use search => 'random' with a number of trials, or a smaller grid.")));
    // A random search draws from every combination, listed first: that list is bounded too.
    if (random_search && (trials > kMaxTrials || combinations > 1e6))
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("random search over %.0f combinations with %d trials is too large", combinations, trials),
                 errhint("At most 1000 trials over at most 1000000 combinations.")));
    // Every combination as arrays of names and values (whole numbers written as integers, which the
    // integer options need and the others accept), in a stable order: by their text.
    rec::pg::run_sql(
        spi,
        psprintf("WITH RECURSIVE keys AS (SELECT key, value, row_number() OVER (ORDER BY key) AS k "
                 "FROM jsonb_each($1)), "
                 "combos(k, names, vals, args) AS (SELECT 0::bigint, '{}'::text[], '{}'::text[], ''::text "
                 "UNION ALL SELECT keys.k, combos.names || keys.key, combos.vals || v.text, "
                 "combos.args || CASE WHEN combos.k = 0 THEN '' ELSE ', ' END || keys.key || ' => ' || v.text "
                 "FROM combos JOIN keys ON keys.k = combos.k + 1, jsonb_array_elements(keys.value) e, "
                 "LATERAL (SELECT CASE WHEN e::text::numeric = trunc(e::text::numeric) AND "
                 "abs(e::text::numeric) < 9e18 THEN e::text::numeric::bigint::text ELSE e::text END AS text) v) "
                 "SELECT names, vals, args FROM combos WHERE k = (SELECT count(*) FROM keys) ORDER BY %s",
                 random_search ? psprintf("hashtextextended(args, %lld) LIMIT %d", (long long) seed, trials) : "args"),
        1, types, args, SPI_OK_SELECT);
    *count = SPI_processed;
    MemoryContext spi_context = MemoryContextSwitchTo(context);
    Combination *out = (Combination *) palloc(sizeof(Combination) * (SPI_processed + 1));
    for (uint64 t = 0; t < SPI_processed; ++t)
    {
        Datum *names, *values;
        bool *nulls;
        int n, m;
        deconstruct_array(DatumGetArrayTypeP(rec::pg::result_value(t, 1)), TEXTOID, -1, false, TYPALIGN_INT, &names,
                          &nulls, &n);
        deconstruct_array(DatumGetArrayTypeP(rec::pg::result_value(t, 2)), TEXTOID, -1, false, TYPALIGN_INT, &values,
                          &nulls, &m);
        out[t].count = n;
        out[t].names = (const char **) palloc(sizeof(char *) * size_t(n));
        out[t].values = (const char **) palloc(sizeof(char *) * size_t(n));
        for (int i = 0; i < n; ++i)
        {
            out[t].names[i] = TextDatumGetCString(names[i]);
            out[t].values[i] = TextDatumGetCString(values[i]);
        }
        out[t].text = TextDatumGetCString(rec::pg::result_value(t, 3));
    }
    MemoryContextSwitchTo(spi_context);
    rec::pg::end_spi(spi);
    return out;
}

// One algorithm's grid in a grid keyed by algorithm names ({"ials": {...}, "ease": {...}}).
struct Family
{
    const char *algorithm;
    Datum grid;
};

// The families of a grid keyed by algorithm names, in key order, allocated in `context`; *count is 0
// for the grid of one algorithm (no key names an algorithm).
Family *
algorithm_grids(Datum grid, MemoryContext context, int *count)
{
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller, true);
    Oid types[] = {JSONBOID};
    Datum args[] = {grid};
    rec::pg::run_sql(spi,
                     "SELECT key, value, key IN ('als', 'ials', 'bpr', 'ease', 'itemknn'), jsonb_typeof(value) = "
                     "'object' FROM jsonb_each(CASE WHEN jsonb_typeof($1) = 'object' THEN $1 END) ORDER BY key",
                     1, types, args, SPI_OK_SELECT);
    int families = 0;
    const uint64 keys = SPI_processed;
    for (uint64 r = 0; r < keys; ++r)
        families += DatumGetBool(rec::pg::result_value(r, 3)) ? 1 : 0;
    if (families > 0 && uint64(families) != keys)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("grid mixes algorithm names with hyperparameters"),
                 errhint("Key every grid by algorithm, as '{\"ials\": {\"factors\": [32, 64]}, \"ease\": "
                         "{\"regularization\": [100, 500]}}', or give one algorithm's hyperparameters.")));
    Family *out = (Family *) MemoryContextAlloc(context, sizeof(Family) * size_t(families + 1));
    for (int r = 0; r < families; ++r)
    {
        const char *name = TextDatumGetCString(rec::pg::result_value(uint64(r), 1));
        if (!DatumGetBool(rec::pg::result_value(uint64(r), 4)))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("grid for algorithm \"%s\" must be a JSON object", name),
                            errhint("For example '{\"%s\": {\"regularization\": [0.01, 0.1]}}'.", name)));
        MemoryContext outer = MemoryContextSwitchTo(context);
        out[r] = Family{pstrdup(name), datumCopy(rec::pg::result_value(uint64(r), 2), false, -1)};
        MemoryContextSwitchTo(outer);
    }
    rec::pg::end_spi(spi);
    *count = families;
    return out;
}

}  // namespace

// CALL rec.tune(model, source, validation_source, grid, user_column, item_column, rating_column,
//               algorithm, search, trials, seed)
PGREC_FUNCTION(rec_tune)
{
    const char *model = rec::pg::required_text_arg(fcinfo, ModelArg, "model");
    const char *search = rec::pg::required_text_arg(fcinfo, SearchArg, "search");
    if (PG_ARGISNULL(GridArg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("grid must not be NULL")));
    const bool random_search = strcmp(search, "random") == 0;
    if (!random_search && strcmp(search, "grid") != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown search \"%s\"", search),
                        errhint("Supported: 'grid' (every combination) and 'random' (trials combinations).")));
    if (random_search && (PG_ARGISNULL(TrialsArg) || PG_GETARG_INT32(TrialsArg) < 1))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("search 'random' needs trials >= 1")));
    if (!random_search && !PG_ARGISNULL(TrialsArg))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("trials applies only to search 'random'")));
    const int64 seed = PG_ARGISNULL(SeedArg) ? 42 : PG_GETARG_INT64(SeedArg);
    rec::pg::TrainOptions base;
    base.algorithm = rec::pg::required_text_arg(fcinfo, AlgorithmArg, "algorithm");
    rec::pg::SourceSpec source;
    source.relation = rec::pg::required_text_arg(fcinfo, SourceArg, "source");
    source.user_column = rec::pg::text_arg(fcinfo, UserColumnArg);
    source.item_column = rec::pg::text_arg(fcinfo, ItemColumnArg);
    source.rating_column = rec::pg::text_arg(fcinfo, RatingColumnArg);
    source.function = "rec.tune";
    const char *validation_source = rec::pg::required_text_arg(fcinfo, ValidationSourceArg, "validation_source");

    MemoryContext context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend tuning", ALLOCSET_DEFAULT_SIZES);
    // The grid of one algorithm (the `algorithm` argument), or grids keyed by algorithm.
    int families;
    const Family *family = algorithm_grids(PG_GETARG_DATUM(GridArg), context, &families);
    uint64 trials = 0;
    rec::pg::TrainSpec *specs = nullptr;
    const char **texts = nullptr;
    for (int f = 0; f < Max(families, 1); ++f)
    {
        uint64 count;
        const Combination *combinations =
            grid_combinations(families > 0 ? family[f].grid : PG_GETARG_DATUM(GridArg), random_search,
                              random_search ? PG_GETARG_INT32(TrialsArg) : 0, seed, context, &count);
        specs = (rec::pg::TrainSpec *) (specs ? repalloc(specs, sizeof(rec::pg::TrainSpec) * (trials + count + 1))
                                              : MemoryContextAlloc(context, sizeof(rec::pg::TrainSpec) * (count + 1)));
        texts = (const char **) (texts ? repalloc(texts, sizeof(char *) * (trials + count + 1))
                                       : MemoryContextAlloc(context, sizeof(char *) * (count + 1)));
        // Every trial's options are checked before anything is read or trained.
        for (uint64 t = 0; t < count; ++t, ++trials)
        {
            rec::pg::TrainOptions options = base;
            if (families > 0)
                options.algorithm = family[f].algorithm;
            for (int i = 0; i < combinations[t].count; ++i)
                if (!rec::pg::set_option(options, combinations[t].names[i], combinations[t].values[i]))
                    elog(ERROR, "grid value \"%s\" of \"%s\" did not read as a number", combinations[t].values[i],
                         combinations[t].names[i]);
            MemoryContext outer = MemoryContextSwitchTo(context);
            specs[trials] = rec::pg::check_options(options);
            texts[trials] =
                families > 0 ? psprintf("%s: %s", options.algorithm, combinations[t].text) : combinations[t].text;
            MemoryContextSwitchTo(outer);
        }
    }
    // One read and one index of the rows serve every trial: the algorithms must judge alike.
    for (uint64 t = 1; t < trials; ++t)
        if ((specs[t].algorithm == rec::pg::Algorithm::Als) != (specs[0].algorithm == rec::pg::Algorithm::Als))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("rec.tune cannot compare als with %s", specs[t].algorithm == rec::pg::Algorithm::Als
                                                                              ? specs[0].algorithm_name
                                                                              : specs[t].algorithm_name),
                            errhint("als is judged by validation RMSE of ratings, the other algorithms by validation "
                                    "ndcg@10 of rankings: tune als on its own.")));
    if (trials == 0)
        PG_RETURN_VOID();
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("cannot tune a model on a standby")));
    rec::pg::lock_model_name(model, true);
    rec::pg::require_model_owner_unless_new(model, "train a new version of");
    const size_t budget = rec::pg::memory_budget_bytes();
    const rec::pg::Algorithm algorithm = specs[0].algorithm;

    MemoryContext caller_context = MemoryContextSwitchTo(context);
    rec::pg::TrainingRows rows =
        rec::pg::read_training_rows(model, source, validation_source, algorithm != rec::pg::Algorithm::Als, budget);
    rec::pg::IndexedRows *indexed = rec::pg::index_training_rows(rows, algorithm, context, budget);
    rec::pg::RunOptions run;
    run.deploy = false;
    int32 best_version = 0;
    double best_value = 0;
    const char *metric = "";
    for (uint64 t = 0; t < trials; ++t)
    {
        CHECK_FOR_INTERRUPTS();
        const rec::pg::TrainedVersion trained = rec::pg::train_version(model, specs[t], rows, indexed, run);
        metric = trained.validation_metric;
        const bool better = best_version == 0 || (trained.lower_is_better ? trained.validation_value < best_value
                                                                          : trained.validation_value > best_value);
        if (better)
        {
            best_version = trained.version;
            best_value = trained.validation_value;
        }
        ereport(NOTICE, (errmsg("trial %llu/%llu: %s: version %d, %s %.4f%s", (unsigned long long) t + 1,
                                (unsigned long long) trials, texts[t], trained.version, metric,
                                trained.validation_value, better ? " (best so far)" : "")));
    }
    MemoryContextSwitchTo(caller_context);
    rec::pg::deploy_model(model, best_version);
    ereport(NOTICE, (errmsg("deployed version %d of model \"%s\": %s %.4f", best_version, model, metric, best_value)));
    MemoryContextDelete(context);
    PG_RETURN_VOID();
}
