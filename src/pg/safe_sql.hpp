// Running generated SQL safely: a pinned search_path (so a hostile schema on the caller's path can
// not capture an operator or function), and, for model writes, the extension owner's identity.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

// Sets search_path to pg_catalog, pg_temp until restore_search_path(level); an error in between is
// undone by the transaction's abort.
int pin_search_path();
void restore_search_path(int level);

// The role that owns pg_recommend's tables; model writes run as it (see model_store.cpp).
Oid extension_owner();

}  // namespace rec::pg
