#include "pg/replicas.hpp"
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/citus.hpp"
#include "pg/model_lifecycle.hpp"
#include "pg/model_store.hpp"
#include "pg/safe_sql.hpp"
#include "pg/serving.hpp"
#include "pg/spi_session.hpp"

namespace rec::pg {

namespace {

// Set while this backend waits for a worker's answer: where the coordinator also holds shards, the
// router query comes back to this backend, whose rec.recommend must then answer itself.
bool answering_for_coordinator = false;

}  // namespace

bool
replica_route(int64 model_id, ReplicaRoute *route)
{
    // rec.recommend asks on every call: a server without Citus loaded answers from a GUC lookup (a
    // hash probe), not from pg_extension's catalogue.
    if (answering_for_coordinator || GetConfigOption("citus.shard_count", true, false) == nullptr ||
        !OidIsValid(get_extension_oid("citus", true)))
        return false;
    MemoryContext caller_context = CurrentMemoryContext;
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {INT8OID};
    Datum values[] = {Int64GetDatum(model_id)};
    run_sql(spi,
            "SELECT r.source, r.user_column, r.user_type FROM rec.replicas r JOIN rec.model_versions v "
            "USING (model_id) WHERE r.model_id = $1 AND r.revision = v.revision",
            1, types, values, SPI_OK_SELECT);
    const bool found = SPI_processed == 1;
    if (found)
    {
        route->source = MemoryContextStrdup(caller_context, TextDatumGetCString(result_value(0, 1)));
        route->user_column = MemoryContextStrdup(caller_context, TextDatumGetCString(result_value(0, 2)));
        route->user_type = MemoryContextStrdup(caller_context, TextDatumGetCString(result_value(0, 3)));
    }
    end_spi(spi);
    return found;
}

void
recommend_on_worker(const ReplicaRoute &route, const RecommendCall &call, Tuplestorestate *store, TupleDesc desc)
{
    // A router query: the subquery's filter on the distribution column sends the whole query to the
    // worker holding that user's shard, whose rec.recommend serves from its own copy of the version.
    const char *query = psprintf(
        "SELECT r.item_id, r.score FROM (SELECT %s AS u FROM %s WHERE %s OPERATOR(pg_catalog.=) CAST($1 AS %s) "
        "LIMIT 1) s CROSS JOIN LATERAL rec.recommend(s.u, $2, $3, $4, $5, $6, $7, $8, $9) r",
        route.user_column, route.source, route.user_column, route.user_type);
    Oid types[] = {INT8OID, INT4OID, TEXTOID, BOOLOID, INT8ARRAYOID, INT8ARRAYOID, FLOAT4OID, TEXTOID, INT4OID};
    Datum values[] = {Int64GetDatum(call.user_id),
                      Int32GetDatum(call.n),
                      CStringGetTextDatum(call.model),
                      BoolGetDatum(call.exclude_seen),
                      call.candidates,
                      call.exclude,
                      Float4GetDatum(call.diversity),
                      call.group_table ? CStringGetTextDatum(call.group_table) : (Datum) 0,
                      call.per_group_limit};
    const char nulls[] = {' ',
                          ' ',
                          ' ',
                          ' ',
                          call.candidates ? ' ' : 'n',
                          call.exclude ? ' ' : 'n',
                          ' ',
                          call.group_table ? ' ' : 'n',
                          call.per_group_limit_null ? 'n' : ' '};
    // As the extension's owner: the caller may serve the model (the coordinator checked) without
    // reading its source, which routes the call.
    const SpiSession spi = begin_spi(SpiRole::Owner, true);
    int rc;
    answering_for_coordinator = true;
    PG_TRY();
    {
        rc = SPI_execute_with_args(query, 9, types, values, nulls, true, 0);
    }
    PG_FINALLY();
    {
        answering_for_coordinator = false;
    }
    PG_END_TRY();
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "rec.recommend on a worker failed: %s", SPI_result_code_string(rc));
    for (uint64 r = 0; r < SPI_processed; ++r)
    {
        bool isnull[2] = {false, false};
        Datum row[2] = {result_value(r, 1), result_value(r, 2)};
        tuplestore_putvalues(store, desc, row, isnull);
    }
    end_spi(spi);
}

int64
recommend_all_on_workers(const ReplicaRoute &route, const char *model, int32 n, const char *target, Oid user_type,
                         Oid item_type)
{
    // As the caller, who owns the new table and reads the source that places its rows.
    const SpiSession spi = begin_spi(SpiRole::Caller);
    run_sql(spi,
            psprintf("CREATE TABLE %s (user_id %s NOT NULL, item_id %s NOT NULL, score pg_catalog.float4 NOT NULL, "
                     "rank pg_catalog.int4 NOT NULL)",
                     target, format_type_extended(user_type, -1, FORMAT_TYPE_FORCE_QUALIFY),
                     format_type_extended(item_type, -1, FORMAT_TYPE_FORCE_QUALIFY)),
            0, nullptr, nullptr, SPI_OK_UTILITY);
    run_sql(spi,
            psprintf("SELECT pg_catalog.create_distributed_table(%s, 'user_id', colocate_with => %s)",
                     quote_literal_cstr(target), quote_literal_cstr(route.source)),
            0, nullptr, nullptr, SPI_OK_SELECT);
    Oid types[] = {INT4OID, TEXTOID};
    Datum values[] = {Int32GetDatum(n), CStringGetTextDatum(model)};
    run_sql(spi,
            psprintf("INSERT INTO %s (user_id, item_id, score, rank) SELECT s.u, r.item_id, r.score, "
                     "CAST(r.rank AS pg_catalog.int4) FROM (SELECT %s AS u FROM %s GROUP BY %s) s CROSS JOIN LATERAL "
                     "rec.recommend(s.u, $1, $2) WITH ORDINALITY AS r(item_id, score, rank)",
                     target, route.user_column, route.source, route.user_column),
            2, types, values, SPI_OK_INSERT);
    const int64 written = int64(SPI_processed);
    end_spi(spi);
    ereport(NOTICE, (errmsg("recommend_all: the Citus workers wrote %lld rows, each for the users of its shards",
                            (long long) written)));
    return written;
}

}  // namespace rec::pg

namespace {

// The distributed table whose shards place the model's users: its quoted name, user column and type.
struct Placement
{
    const char *source, *user_column, *user_type;
    int64 model_id;
    int32 revision;
};

Placement
placement_of(const char *model)
{
    const rec::pg::Deployment d = rec::pg::find_deployment(model);
    Placement p;
    p.model_id = d.main.model_id;
    p.revision = d.main.revision;
    MemoryContext caller_context = CurrentMemoryContext;
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Owner);
    Oid types[] = {INT8OID};
    Datum values[] = {Int64GetDatum(p.model_id)};
    rec::pg::run_sql(spi,
                     "SELECT source, user_column, format_type(user_type, NULL), user_type IN ('smallint'::regtype, "
                     "'integer'::regtype, 'bigint'::regtype) FROM rec.model_versions WHERE model_id = $1",
                     1, types, values, SPI_OK_SELECT);
    const char *source = MemoryContextStrdup(caller_context, TextDatumGetCString(rec::pg::result_value(0, 1)));
    const char *user_column = MemoryContextStrdup(caller_context, TextDatumGetCString(rec::pg::result_value(0, 2)));
    p.user_type = MemoryContextStrdup(caller_context, TextDatumGetCString(rec::pg::result_value(0, 3)));
    const bool integer_ids = DatumGetBool(rec::pg::result_value(0, 4));
    rec::pg::end_spi(spi);
    const Oid relid = rec::pg::readable_relation(source, &p.source);
    const char *distributed_by = rec::pg::citus_distribution_column(relid);
    p.user_column = quote_identifier(user_column);
    if (distributed_by == nullptr || strcmp(distributed_by, user_column) != 0 || !integer_ids)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("model \"%s\" cannot be served from the Citus workers: its source %s is not a table "
                               "distributed by its integer user column %s",
                               model, p.source, p.user_column),
                        errhint("Distribute the source with create_distributed_table(source, user column), train "
                                "again, then call rec.distribute_model.")));
    return p;
}

}  // namespace

// rec.distribute_model(model text) RETURNS integer: installs the deployed version on the workers
// holding users of its source; returns how many workers got it.
PGREC_FUNCTION(rec_distribute_model)
{
    const char *model = rec::pg::required_text_arg(fcinfo, 0, "model");
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("cannot distribute a model on a standby")));
    rec::pg::require_model_owner(model, "distribute");
    if (!OidIsValid(get_extension_oid("citus", true)))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("the citus extension is not installed"),
                        errhint("rec.distribute_model serves a model from the workers of a Citus cluster.")));
    if (rec::core::is_item_item(rec::pg::serving_model(model)->model.kind))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("rec.distribute_model does not support item-item models"),
                        errhint("ease and itemknn models are served from the coordinator; distribute an 'als', "
                                "'ials' or 'bpr' model.")));
    const Placement p = placement_of(model);
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Owner);
    Oid id_type[] = {INT8OID};
    Datum id[] = {Int64GetDatum(p.model_id)};
    // What every worker gets: the version's row, its items and grants.
    rec::pg::run_sql(spi,
                     "SELECT to_jsonb(v), (SELECT jsonb_agg(to_jsonb(i)) FROM rec.item_factors i WHERE i.model_id = "
                     "v.model_id), (SELECT coalesce(jsonb_agg(to_jsonb(g)), '[]') FROM rec.model_grants g WHERE "
                     "g.name = v.name) FROM rec.model_versions v WHERE v.model_id = $1",
                     1, id_type, id, SPI_OK_SELECT);
    Datum shared[3];
    for (int c = 0; c < 3; ++c)
        shared[c] = SPI_datumTransfer(rec::pg::result_value(0, c + 1), false, -1);
    // Each worker's users, with one of them to route the install by.
    rec::pg::run_sql(spi,
                     psprintf("SELECT min(u.user_id), jsonb_agg(to_jsonb(u)) FROM rec.user_factors u, "
                              "LATERAL (SELECT pl.groupid FROM pg_catalog.pg_dist_placement pl WHERE pl.shardid = "
                              "pg_catalog.get_shard_id_for_distribution_column(%s, CAST(u.user_id AS %s))) g "
                              "WHERE u.model_id = $1 AND g.groupid <> 0 GROUP BY g.groupid",
                              quote_literal_cstr(p.source), p.user_type),
                     1, id_type, id, SPI_OK_SELECT);
    const uint64 workers = SPI_processed;
    SPITupleTable *per_worker = SPI_tuptable;
    Oid types[] = {JSONBOID, JSONBOID, JSONBOID, JSONBOID, INT8OID};
    SPIPlanPtr install = rec::pg::prepare_sql(
        psprintf("SELECT rec.install_replica($1, $2, $3, $4, CAST(s.%s AS pg_catalog.int8)) FROM %s s WHERE s.%s "
                 "OPERATOR(pg_catalog.=) CAST($5 AS %s) LIMIT 1",
                 p.user_column, p.source, p.user_column, p.user_type),
        5, types);
    for (uint64 w = 0; w < workers; ++w)
    {
        bool isnull;
        Datum values[] = {shared[0], shared[1], SPI_getbinval(per_worker->vals[w], per_worker->tupdesc, 2, &isnull),
                          shared[2], SPI_getbinval(per_worker->vals[w], per_worker->tupdesc, 1, &isnull)};
        rec::pg::execute_sql(spi, install, values, SPI_OK_SELECT);
    }
    Oid record_types[] = {INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
    Datum record[] = {Int64GetDatum(p.model_id),        Int32GetDatum(p.revision),
                      CStringGetTextDatum(p.source),    CStringGetTextDatum(p.user_column),
                      CStringGetTextDatum(p.user_type), Int32GetDatum(int32(workers))};
    rec::pg::run_sql(spi, "DELETE FROM rec.replicas WHERE model_id = $1", 1, record_types, record, SPI_OK_DELETE);
    rec::pg::run_sql(spi,
                     "INSERT INTO rec.replicas (model_id, revision, source, user_column, user_type, workers) "
                     "VALUES ($1, $2, $3, $4, $5, $6)",
                     6, record_types, record, SPI_OK_INSERT);
    rec::pg::end_spi(spi);
    PG_RETURN_INT32(int32(workers));
}

// rec.install_replica(version jsonb, items jsonb, users jsonb, grants jsonb, routed_by bigint) RETURNS
// integer: on a worker, replaces the copy of the version's model name with this version (its row,
// items, these users, grants and a deployment); returns how many users. Only rec.distribute_model calls
// it, as the extension's owner (EXECUTE is revoked from PUBLIC).
PGREC_FUNCTION(rec_install_replica)
{
    for (int arg = 0; arg < 4; ++arg)
        if (PG_ARGISNULL(arg))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("rec.install_replica takes no NULL")));
    const auto refuse = [] {
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("rec.install_replica runs on Citus workers only"),
                 errhint("Call rec.distribute_model on the coordinator.")));
    };
    if (!OidIsValid(get_extension_oid("citus", true)))
        refuse();
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Owner);
    rec::pg::run_sql(spi, "SELECT groupid FROM pg_catalog.pg_dist_local_group", 0, nullptr, nullptr, SPI_OK_SELECT);
    if (SPI_processed != 1 || DatumGetInt32(rec::pg::result_value(0, 1)) == 0)
        refuse();
    Oid types[] = {JSONBOID, JSONBOID, JSONBOID, JSONBOID};
    Datum values[] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3)};
    // The worker keeps one version of a name: the one the coordinator serves.
    for (const char *statement :
         {"DELETE FROM rec.user_factors WHERE model_id IN (SELECT model_id FROM rec.model_versions WHERE name = "
          "$1->>'name')",
          "DELETE FROM rec.item_factors WHERE model_id IN (SELECT model_id FROM rec.model_versions WHERE name = "
          "$1->>'name')",
          "DELETE FROM rec.deployments WHERE name = $1->>'name'",
          "DELETE FROM rec.model_grants WHERE name = $1->>'name'",
          "DELETE FROM rec.model_versions WHERE name = $1->>'name' OR model_id = CAST($1->>'model_id' AS bigint)"})
        rec::pg::run_sql(spi, statement, 4, types, values, SPI_OK_DELETE);
    rec::pg::run_sql(spi,
                     "INSERT INTO rec.model_versions SELECT * FROM jsonb_populate_record(NULL::rec.model_versions, $1)",
                     4, types, values, SPI_OK_INSERT);
    rec::pg::run_sql(spi,
                     "INSERT INTO rec.item_factors SELECT * FROM jsonb_populate_recordset(NULL::rec.item_factors, $2)",
                     4, types, values, SPI_OK_INSERT);
    rec::pg::run_sql(spi,
                     "INSERT INTO rec.user_factors SELECT * FROM jsonb_populate_recordset(NULL::rec.user_factors, $3)",
                     4, types, values, SPI_OK_INSERT);
    const uint64 users = SPI_processed;
    rec::pg::run_sql(spi,
                     "INSERT INTO rec.model_grants SELECT * FROM jsonb_populate_recordset(NULL::rec.model_grants, $4)",
                     4, types, values, SPI_OK_INSERT);
    // The worker's copy holds its own users: its counts are theirs (the serving image checks them).
    rec::pg::run_sql(spi,
                     "UPDATE rec.model_versions v SET n_users = u.users, n_ratings = u.seen FROM (SELECT count(*) AS "
                     "users, coalesce(sum(cardinality(seen_items)), 0) AS seen FROM rec.user_factors WHERE model_id = "
                     "CAST($1->>'model_id' AS bigint)) u WHERE v.model_id = CAST($1->>'model_id' AS bigint)",
                     4, types, values, SPI_OK_UPDATE);
    rec::pg::run_sql(spi,
                     "INSERT INTO rec.deployments (name, model_id, deployed_by) VALUES ($1->>'name', "
                     "CAST($1->>'model_id' AS bigint), CAST($1->>'owner' AS regrole))",
                     4, types, values, SPI_OK_INSERT);
    // The worker's own trainings (if any) must not take this version's id.
    rec::pg::run_sql(spi,
                     "SELECT setval('rec.model_id_seq', greatest(CAST($1->>'model_id' AS bigint), "
                     "(SELECT last_value FROM rec.model_id_seq)))",
                     4, types, values, SPI_OK_SELECT);
    rec::pg::end_spi(spi);
    rec::pg::serving_changed();
    PG_RETURN_INT32(int32(users));
}
