// Serving from the Citus workers (issue 15). rec.distribute_model installs a model's deployed version
// on every worker holding users of its source (the version's row, every item, the users of that
// worker's shards with their seen items, the grants, a deployment), and records it in rec.replicas on
// the coordinator; rec.recommend on the coordinator then hands a known user's call to the worker
// holding the user's shard, as a Citus router query. PostgreSQL-style code.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

// Where a replicated version's users live: its source and user column, quoted, and the column's type.
struct ReplicaRoute
{
    const char *source;
    const char *user_column;
    const char *user_type;
};

// Whether version `model_id` is installed on the workers at its current revision (and this call is
// not itself one a worker answers for the coordinator); then *route says how to reach a user's worker.
// False, without SQL, where the citus extension is absent.
bool replica_route(int64 model_id, ReplicaRoute *route);

// rec.recommend's arguments after the user, as the coordinator passes them on.
struct RecommendCall
{
    int64 user_id;
    int32 n;
    const char *model;  // the name serving the user
    bool exclude_seen;
    Datum candidates, exclude;  // bigint[] or 0 for NULL
    float diversity;
    const char *group_table;  // or NULL
    Datum per_group_limit;    // int4 or 0 for NULL
    bool per_group_limit_null;
};

// Runs rec.recommend for the user on the worker holding the user's shard; puts each (item_id, score)
// into `store`.
void recommend_on_worker(const ReplicaRoute &route, const RecommendCall &call, Tuplestorestate *store, TupleDesc desc);

// rec.recommend_all for a replicated version: creates `target` (quoted, new) as a table distributed
// like the source, its user_id column of `user_type`, and has every worker write the lists of its
// own users (a pushed-down INSERT … SELECT calling rec.recommend on each worker); returns the rows.
int64 recommend_all_on_workers(const ReplicaRoute &route, const char *model, int32 n, const char *target, Oid user_type,
                               Oid item_type);

}  // namespace rec::pg
