// What Citus (the distributed PostgreSQL extension) says about a relation, where it is installed:
// read from its catalogue with SQL, never through its C API (not linked; see docs/architecture.md,
// "Citus"). PostgreSQL-style: raises errors.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

// The distribution column of a Citus distributed table, or NULL for any other relation (a reference
// or local table, or Citus not installed in this database).
const char *citus_distribution_column(Oid relid);

// Whether the coordinator itself holds shards of a distributed table (a one-node Citus, or a
// coordinator added with shouldhaveshards).
bool citus_coordinator_holds_shards(Oid relid);

}  // namespace rec::pg
