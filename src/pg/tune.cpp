// CALL rec.tune(...): grid or random search over rec.train's hyperparameters, each trial a version
// judged on a validation source, the best one deployed.
#include "pg/bridge.hpp"
#include "pg/model_store.hpp"
#include "pg/safe_sql.hpp"

namespace {

enum Arg
{
    ModelArg, SourceArg, ValidationSourceArg, GridArg, UserColumnArg, ItemColumnArg, RatingColumnArg, AlgorithmArg,
    SearchArg, TrialsArg, SeedArg
};

// The hyperparameters a grid may vary: rec.train's numeric parameters.
const char *const kTunable[] = {"factors",       "iterations",          "regularization",
                                "bias_regularization", "unweighted_regularization", "alpha",
                                "cg_steps",      "learning_rate",       "seed"};

// Those of rec.train's integer (or bigint) type: a grid value 8.0 is passed as 8.
bool
integer_parameter(const char *name)
{
    return strcmp(name, "factors") == 0 || strcmp(name, "iterations") == 0 || strcmp(name, "cg_steps") == 0 ||
           strcmp(name, "seed") == 0;
}

bool
tunable(const char *name)
{
    for (const char *allowed : kTunable)
        if (strcmp(allowed, name) == 0)
            return true;
    return false;
}

const char *
required_text(FunctionCallInfo fcinfo, int arg, const char *name)
{
    if (PG_ARGISNULL(arg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", name)));
    return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

// A text argument as an SQL literal, or NULL.
const char *
literal_or_null(FunctionCallInfo fcinfo, int arg)
{
    return PG_ARGISNULL(arg) ? "NULL" : quote_literal_cstr(text_to_cstring(PG_GETARG_TEXT_PP(arg)));
}

}  // namespace

// CALL rec.tune(model, source, validation_source, grid, user_column, item_column, rating_column,
//               algorithm, search, trials, seed)
PGREC_FUNCTION(rec_tune)
{
    const char *model = required_text(fcinfo, ModelArg, "model");
    const char *search = required_text(fcinfo, SearchArg, "search");
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
    // Both sources resolved once with the caller's search_path; trials then use the quoted names.
    const char *source, *validation_source;
    rec::pg::readable_relation(required_text(fcinfo, SourceArg, "source"), &source);
    rec::pg::readable_relation(required_text(fcinfo, ValidationSourceArg, "validation_source"), &validation_source);

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    const int level = rec::pg::pin_search_path();
    // The grid: an object of non-empty arrays of numbers. Its combinations, as named-argument lists.
    Oid types[] = {JSONBOID};
    Datum grid[] = {PG_GETARG_DATUM(GridArg)};
    bool isnull = false;
    if (SPI_execute_with_args("SELECT jsonb_typeof($1) = 'object' AND $1 <> '{}'", 1, types, grid, nullptr, true, 1) !=
            SPI_OK_SELECT ||
        !DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("grid must be a non-empty JSON object"),
                        errhint("For example '{\"factors\": [32, 64], \"regularization\": [0.01, 0.1]}'.")));
    // Per key: whether it is a non-empty array of numbers, and whether they are all integers that fit
    // an integer (a bigint for seed), as rec.train's integer parameters need.
    SPI_execute_with_args("SELECT key, numbers, CASE WHEN numbers THEN (SELECT bool_and(n = trunc(n) AND "
                          "n BETWEEN CASE key WHEN 'seed' THEN -9223372036854775808 ELSE -2147483648 END AND "
                          "CASE key WHEN 'seed' THEN 9223372036854775807 ELSE 2147483647 END) "
                          "FROM (SELECT e::text::numeric AS n FROM jsonb_array_elements(value) e) v) END "
                          "FROM (SELECT key, value, jsonb_typeof(value) = 'array' AND jsonb_array_length(value) > 0 "
                          "AND (SELECT bool_and(jsonb_typeof(e) = 'number') FROM jsonb_array_elements(value) e) "
                          "AS numbers FROM jsonb_each($1)) k ORDER BY key",
                          1, types, grid, nullptr, true, 0);
    for (uint64 r = 0; r < SPI_processed; ++r)
    {
        const char *key = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        const Datum numbers = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull);
        if (!tunable(key))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("\"%s\" cannot be tuned", key),
                            errhint("A grid may vary factors, iterations, regularization, bias_regularization, "
                                    "unweighted_regularization, alpha, cg_steps, learning_rate and seed.")));
        if (isnull || !DatumGetBool(numbers))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("grid value for \"%s\" must be a non-empty array of numbers", key)));
        const Datum integers = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, &isnull);
        if (integer_parameter(key) && !DatumGetBool(integers))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("grid values for \"%s\" must be whole numbers within the range of %s", key,
                                   strcmp(key, "seed") == 0 ? "bigint" : "integer")));
    }
    // A grid search trains every combination: refuse absurd grids before starting.
    constexpr double kMaxTrials = 1000;
    SPI_execute_with_args("SELECT exp(sum(ln(jsonb_array_length(value)))) FROM jsonb_each($1)", 1, types, grid, nullptr,
                          true, 1);
    const double combinations_count =
        DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    if (!random_search && combinations_count > kMaxTrials + 0.5)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("grid has %.0f combinations, more than %.0f", combinations_count, kMaxTrials),
                        errhint("Use search => 'random' with a number of trials, or a smaller grid.")));
    // A random search draws from every combination, listed first: that list is bounded too.
    if (random_search && (PG_GETARG_INT32(TrialsArg) > kMaxTrials || combinations_count > 1e6))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("random search over %.0f combinations with %d trials is too large", combinations_count,
                               PG_GETARG_INT32(TrialsArg)),
                        errhint("At most 1000 trials over at most 1000000 combinations.")));
    // Every combination as "name => value, ..." (names checked above; values are JSON numbers, whose
    // text is a valid SQL numeric literal; whole numbers are written as integers, which integer parameters
    // need and float ones accept); random search keeps `trials` of them, chosen by a seeded hash.
    SPI_execute_with_args(psprintf("WITH RECURSIVE keys AS (SELECT key, value, row_number() OVER (ORDER BY key) AS k "
                                   "FROM jsonb_each($1)), "
                                   "combos(k, args) AS (SELECT 0::bigint, ''::text UNION ALL "
                                   "SELECT keys.k, combos.args || CASE WHEN combos.k = 0 THEN '' ELSE ', ' END || "
                                   "keys.key || ' => ' || CASE WHEN e::text::numeric = trunc(e::text::numeric) AND "
                                   "abs(e::text::numeric) < 9e18 THEN e::text::numeric::bigint::text ELSE e::text END "
                                   "FROM combos JOIN keys ON keys.k = combos.k + 1, "
                                   "jsonb_array_elements(keys.value) e) "
                                   "SELECT args FROM combos WHERE k = (SELECT count(*) FROM keys) "
                                   "ORDER BY %s",
                                   random_search ? psprintf("hashtextextended(args, %lld) LIMIT %d", (long long) seed,
                                                            PG_GETARG_INT32(TrialsArg))
                                                 : "args"),
                          1, types, grid, nullptr, true, 0);
    const uint64 trials = SPI_processed;
    // Copied into SPI's procedure context, which lasts until SPI_finish (the tuple table does not).
    char **combinations = (char **) palloc(sizeof(char *) * (trials + 1));
    for (uint64 t = 0; t < trials; ++t)
        combinations[t] = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[t], SPI_tuptable->tupdesc, 1, &isnull));

    const char *common = psprintf("model => %s, source => %s, validation_source => %s, user_column => %s, "
                                  "item_column => %s, rating_column => %s, algorithm => %s, deploy => false",
                                  quote_literal_cstr(model), quote_literal_cstr(source),
                                  quote_literal_cstr(validation_source), literal_or_null(fcinfo, UserColumnArg),
                                  literal_or_null(fcinfo, ItemColumnArg), literal_or_null(fcinfo, RatingColumnArg),
                                  literal_or_null(fcinfo, AlgorithmArg));
    int32 best_version = 0;
    double best_value = 0;
    bool lower_is_better = true;
    for (uint64 t = 0; t < trials; ++t)
    {
        CHECK_FOR_INTERRUPTS();
        if (SPI_execute(psprintf("CALL rec.train(%s, %s)", common, combinations[t]), false, 0) < 0)
            elog(ERROR, "trial %llu failed", (unsigned long long) t + 1);
        Oid name_type[] = {TEXTOID};
        Datum name[] = {CStringGetTextDatum(model)};
        SPI_execute_with_args("SELECT version, validation_value, validation_metric = 'validation RMSE' "
                              "FROM rec.model_versions WHERE name = $1 ORDER BY version DESC LIMIT 1",
                              1, name_type, name, nullptr, false, 1);
        const int32 version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        const double value = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
        lower_is_better = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
        const bool better = best_version == 0 || (lower_is_better ? value < best_value : value > best_value);
        if (better)
        {
            best_version = version;
            best_value = value;
        }
        ereport(NOTICE, (errmsg("trial %llu/%llu: %s: version %d, %s %.4f%s", (unsigned long long) t + 1,
                                (unsigned long long) trials, combinations[t], version,
                                lower_is_better ? "validation RMSE" : "validation ndcg@10", value,
                                better ? " (best so far)" : "")));
    }
    rec::pg::restore_search_path(level);
    SPI_finish();
    rec::pg::deploy_model(model, best_version);
    ereport(NOTICE, (errmsg("deployed version %d of model \"%s\": %s %.4f", best_version, model,
                            lower_is_better ? "validation RMSE" : "validation ndcg@10", best_value)));
    PG_RETURN_VOID();
}
