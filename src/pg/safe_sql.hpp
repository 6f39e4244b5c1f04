// Running generated SQL safely: a pinned search_path (so a hostile schema on the caller's path can
// not capture an operator or function), and, for model writes, the extension owner's identity.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

// Sets search_path to pg_catalog, pg_temp until restore_search_path(level); an error in between is
// undone by the transaction's abort.
int pin_search_path();
void restore_search_path(int level);

// A table the caller asks us to create, named as the caller would name it (their search_path): its
// schema-qualified, quoted name, the only form that reaches generated SQL. 42P07 if it exists; a bad
// name raises the parser's error (42602) and an unknown schema 3F000. `argument` names the parameter
// in messages.
const char *new_table_name(const char *name, const char *argument);

// A relation the caller reads (table, view, materialized view, foreign table), resolved once under a
// lock: its OID; *quoted is its schema-qualified, quoted name. 42P01 if unknown, 42809 if not readable
// rows.
Oid readable_relation(const char *name, const char **quoted);

// The role that owns pg_recommend's tables; model writes run as it (see model_store.cpp).
Oid extension_owner();

}  // namespace rec::pg
