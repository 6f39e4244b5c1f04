// The one bracket around pg_recommend's own SQL: connected to SPI, with search_path pinned to
// pg_catalog, pg_temp (a hostile schema on the caller's path cannot capture an operator or function)
// and, for writes to the model tables, running as the extension's owner under
// SECURITY_RESTRICTED_OPERATION. PostgreSQL-style: on error, the transaction's abort undoes all three.
//
// Serving reads run in the snapshot of the statement that called us (SPI's read-only mode), so one
// statement sees one consistent state of the model tables even while another session commits a new
// version. Other sessions see everything done so far, the current statement's own writes included.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

enum class SpiRole
{
    Caller,  // the caller's rights: reading users' tables, creating the caller's tables
    Owner,   // the extension owner's: writing (and reading every row of) the model tables
};

struct SpiSession
{
    int search_path_level;
    Oid saved_user;
    int saved_security;
    bool as_owner;
    bool statement_snapshot;
};

SpiSession begin_spi(SpiRole role, bool statement_snapshot = false);
void end_spi(const SpiSession &session);

// A statement prepared for this session (freed with it unless kept with SPI_keepplan).
SPIPlanPtr prepare_sql(const char *query, int nargs, Oid *types);
// Runs a prepared statement; raises an internal error unless it returns `expected`.
void execute_sql(const SpiSession &session, SPIPlanPtr plan, Datum *values, int expected, const char *nulls = nullptr);
// Prepares and runs a statement once.
void run_sql(const SpiSession &session, const char *query, int nargs, Oid *types, Datum *values, int expected,
             const char *nulls = nullptr);

// Column `column` (1-based) of result row `row`, which must not be NULL; or, with *isnull, may be.
Datum result_value(uint64 row, int column, bool *isnull = nullptr);

}  // namespace rec::pg
