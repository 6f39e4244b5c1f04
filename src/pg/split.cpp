// rec.split: a source's rows into a new training table and a new test table, for evaluation and tuning.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/safe_sql.hpp"
#include "pg/spi_session.hpp"

#include <cmath>

namespace {

enum Arg
{
    SourceArg,
    TrainTableArg,
    TestTableArg,
    MethodArg,
    TestFractionArg,
    TimeColumnArg,
    SeedArg,
    UserColumnArg
};

// The quoted name of an existing column of `relid`, or an error naming the argument.
const char *
quoted_column(Oid relid, const char *relation, const char *column, const char *argument)
{
    const AttrNumber attnum = get_attnum(relid, column);
    if (attnum == InvalidAttrNumber || attnum < 0)
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("column \"%s\" does not exist in \"%s\"", column, relation),
                 errhint("Name the column with the %s argument of rec.split.", argument)));
    return quote_identifier(get_attname(relid, attnum, false));
}

}  // namespace

// rec.split(source, train_table, test_table, method, test_fraction, time_column, seed, user_column)
//   RETURNS TABLE (train_rows bigint, test_rows bigint)
//
// Every row goes to exactly one of the two new tables, which have the source's columns. A row's fate
// depends only on its contents and the seed (a hash of the row), so a split is repeatable; identical
// rows are interchangeable.
PGREC_FUNCTION(rec_split)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const char *source = rec::pg::required_text_arg(fcinfo, SourceArg, "source");
    const char *method = rec::pg::required_text_arg(fcinfo, MethodArg, "method");
    if (PG_ARGISNULL(TestFractionArg) || PG_ARGISNULL(SeedArg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("test_fraction and seed must not be NULL")));
    const double fraction = PG_GETARG_FLOAT8(TestFractionArg);
    if (!(fraction > 0 && fraction < 1))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("test_fraction must be between 0 and 1 (exclusive), not %g", fraction)));
    const int64 seed = PG_GETARG_INT64(SeedArg);
    const bool random_split = strcmp(method, "random") == 0, per_user = strcmp(method, "per_user") == 0,
               by_time = strcmp(method, "time") == 0;
    if (!random_split && !per_user && !by_time)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown split method \"%s\"", method),
                        errhint("Supported: 'random' (rows), 'per_user' (each user's rows, every user kept in "
                                "training), 'time' (each user's latest rows to test).")));
    if (by_time && PG_ARGISNULL(TimeColumnArg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("method 'time' needs a time_column")));
    if (!by_time && !PG_ARGISNULL(TimeColumnArg))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("time_column applies only to method 'time'")));

    const char *quoted_source;
    const Oid relid = rec::pg::readable_relation(source, &quoted_source);
    const char *user_col =
        per_user || by_time
            ? quoted_column(relid, source, rec::pg::required_text_arg(fcinfo, UserColumnArg, "user_column"),
                            "user_column")
            : nullptr;
    const char *time_col =
        by_time ? quoted_column(relid, source, text_to_cstring(PG_GETARG_TEXT_PP(TimeColumnArg)), "time_column")
                : nullptr;
    const char *train_table =
        rec::pg::new_table_name(rec::pg::required_text_arg(fcinfo, TrainTableArg, "train_table"), "train_table");
    const char *test_table =
        rec::pg::new_table_name(rec::pg::required_text_arg(fcinfo, TestTableArg, "test_table"), "test_table");
    if (strcmp(train_table, test_table) == 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("train_table and test_table are the same")));

    // A row's hash in [0, 1): its text form hashed with the seed.
    const char *row_hash =
        psprintf("((pg_catalog.hashtextextended(s::pg_catalog.text, %lld) & 1048575)::pg_catalog.float8"
                 " / 1048576)",
                 (long long) seed);
    // The test condition, over `s` (a source row) in a subquery that numbers each user's rows.
    const char *numbered;
    if (random_split)
        numbered = psprintf("SELECT s, %s < %.17g AS is_test FROM %s s", row_hash, fraction, quoted_source);
    else
        // Each user's rows in hash order (per_user) or latest first (time); the first
        // round(n * fraction) of them go to test, but never all of them: every user keeps a training row.
        numbered =
            psprintf("SELECT s, pg_catalog.row_number() OVER w <= "
                     "LEAST(pg_catalog.round(pg_catalog.count(*) OVER u * %.17g), pg_catalog.count(*) OVER u - 1) "
                     "AS is_test FROM %s s "
                     "WINDOW u AS (PARTITION BY s.%s), w AS (PARTITION BY s.%s ORDER BY %s%s)",
                     fraction, quoted_source, user_col, user_col,
                     by_time ? psprintf("s.%s DESC NULLS LAST, ", time_col) : "", row_hash);

    // Runs as the caller: their privileges and row-level security apply, the tables are theirs.
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    uint64 counts[2];
    const char *tables[2] = {train_table, test_table};
    for (int t = 0; t < 2; ++t)
    {
        rec::pg::run_sql(spi,
                         psprintf("CREATE TABLE %s AS SELECT (x.s).* FROM (%s) x WHERE %sx.is_test", tables[t],
                                  numbered, t == 0 ? "NOT " : ""),
                         0, nullptr, nullptr, SPI_OK_UTILITY);
        counts[t] = SPI_processed;
    }
    rec::pg::end_spi(spi);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    Datum row[2] = {Int64GetDatum(int64(counts[0])), Int64GetDatum(int64(counts[1]))};
    bool nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
    PG_RETURN_NULL();
}
