#include "pg/spi_session.hpp"
#include "pg/safe_sql.hpp"

namespace rec::pg {

SpiSession
begin_spi(SpiRole role, bool statement_snapshot)
{
    SpiSession s;
    s.as_owner = role == SpiRole::Owner;
    s.statement_snapshot = statement_snapshot;
    GetUserIdAndSecContext(&s.saved_user, &s.saved_security);
    s.search_path_level = pin_search_path();
    if (s.as_owner)
        SetUserIdAndSecContext(extension_owner(),
                               s.saved_security | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    return s;
}

void
end_spi(const SpiSession &s)
{
    SPI_finish();
    if (s.as_owner)
        SetUserIdAndSecContext(s.saved_user, s.saved_security);
    restore_search_path(s.search_path_level);
}

SPIPlanPtr
prepare_sql(const char *query, int nargs, Oid *types)
{
    SPIPlanPtr plan = SPI_prepare(query, nargs, types);
    if (plan == nullptr)
        elog(ERROR, "could not prepare \"%s\": %s", query, SPI_result_code_string(SPI_result));
    return plan;
}

void
execute_sql(const SpiSession &session, SPIPlanPtr plan, Datum *values, int expected, const char *nulls)
{
    const int rc = SPI_execute_plan(plan, values, nulls, session.statement_snapshot, 0);
    if (rc != expected)
        elog(ERROR, "pg_recommend statement failed: %s", SPI_result_code_string(rc));
}

void
run_sql(const SpiSession &session, const char *query, int nargs, Oid *types, Datum *values, int expected,
        const char *nulls)
{
    execute_sql(session, prepare_sql(query, nargs, types), values, expected, nulls);
}

Datum
result_value(uint64 row, int column, bool *isnull)
{
    bool null;
    const Datum value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &null);
    if (isnull)
        *isnull = null;
    else if (null)
        elog(ERROR, "unexpected NULL in column %d of pg_recommend's own query", column);
    return value;
}

}  // namespace rec::pg
