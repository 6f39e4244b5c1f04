#include "pg/model_lifecycle.hpp"
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/model_cache.hpp"
#include "pg/serving.hpp"
#include "pg/spi_session.hpp"

namespace rec::pg {

namespace {

// The versions of `name` (model_id, version), newest first, after checking that the caller owns every
// one of them (or is a member of its owner). Allocated in `context`; *count is how many.
struct VersionRow
{
    int64 model_id;
    int32 version;
};

VersionRow *
owned_versions(const char *name, const char *action, MemoryContext context, int32 *count, bool missing_ok = false)
{
    const Oid caller = GetUserId();
    const SpiSession spi = begin_spi(SpiRole::Owner);  // every version, also those the caller may not read
    Oid types[] = {TEXTOID};
    Datum args[] = {CStringGetTextDatum(name)};
    run_sql(spi,
            "SELECT model_id, version, owner::oid FROM rec.model_versions WHERE name = $1 "
            "ORDER BY version DESC",
            1, types, args, SPI_OK_SELECT);
    *count = int32(SPI_processed);
    if (*count == 0 && !missing_ok)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" does not exist", name),
                        errhint("SELECT name FROM rec.models lists the trained models.")));
    // SPI_finish frees what is allocated in between: the rows go to the caller's context.
    VersionRow *rows = (VersionRow *) MemoryContextAlloc(context, sizeof(VersionRow) * size_t(*count));
    for (int32 v = 0; v < *count; ++v)
    {
        HeapTuple t = SPI_tuptable->vals[v];
        bool isnull;
        rows[v].model_id = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
        rows[v].version = DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
        const Oid owner = DatumGetObjectId(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
        if (!has_privs_of_role(caller, owner))
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("must be owner of model \"%s\" to %s it", name, action),
                            errdetail("The model was trained by role \"%s\".", GetUserNameFromId(owner, true))));
    }
    end_spi(spi);
    return rows;
}

// Deletes these versions' rows and deployments (as the extension owner) and frees their cache entries.
void
delete_versions(const int64 *ids, int32 count)
{
    if (count == 0)
        return;
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {INT8ARRAYOID};
    Datum args[] = {bigint_array(ids, size_t(count))};
    for (const char *query : {"DELETE FROM rec.deployments WHERE model_id = ANY($1)",
                              "DELETE FROM rec.user_factors WHERE model_id = ANY($1)",
                              "DELETE FROM rec.item_factors WHERE model_id = ANY($1)",
                              "DELETE FROM rec.item_weights WHERE model_id = ANY($1)",
                              "DELETE FROM rec.feature_weights WHERE model_id = ANY($1)",
                              "DELETE FROM rec.model_versions WHERE model_id = ANY($1)"})
        run_sql(spi, query, 1, types, args, SPI_OK_DELETE);
    end_spi(spi);
    forget_cached_models(ids, count);
    serving_changed();
}

}  // namespace

void
require_model_owner(const char *name, const char *action)
{
    int32 count;
    owned_versions(name, action, CurrentMemoryContext, &count);
}

void
require_model_owner_unless_new(const char *name, const char *action)
{
    int32 count;
    owned_versions(name, action, CurrentMemoryContext, &count, true);
}

int32
grant_model(const char *name, const char *role, bool grant)
{
    require_model_owner(name, grant ? "grant" : "revoke");
    // PUBLIC (any case) is every role, stored as 0; otherwise a role name, as GRANT takes it.
    const Oid grantee = pg_strcasecmp(role, "public") == 0 ? InvalidOid : get_role_oid(role, false);
    const Oid caller = GetUserId();
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {TEXTOID, OIDOID, OIDOID};
    Datum args[] = {CStringGetTextDatum(name), ObjectIdGetDatum(grantee), ObjectIdGetDatum(caller)};
    run_sql(spi,
            grant ? "INSERT INTO rec.model_grants (name, grantee, granted_by) "
                    "VALUES ($1, $2::regrole, $3::regrole) ON CONFLICT (name, grantee) DO NOTHING"
                  : "DELETE FROM rec.model_grants WHERE name = $1 AND grantee = $2::regrole",
            3, types, args, grant ? SPI_OK_INSERT : SPI_OK_DELETE);
    const int32 changed = int32(SPI_processed);
    end_spi(spi);
    serving_changed();  // who may serve the model changed
    return changed;
}

bool
deployed_validation(const char *name, const char *metric, double *value)
{
    const int64 deployed = every_version_deployment(name).main.model_id;
    if (deployed == 0)
        return false;
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {INT8OID, TEXTOID};
    Datum args[] = {Int64GetDatum(deployed), CStringGetTextDatum(metric)};
    run_sql(spi,
            "SELECT validation_value FROM rec.model_versions WHERE model_id = $1 AND "
            "validation_metric = $2 AND validation_value IS NOT NULL",
            2, types, args, SPI_OK_SELECT);
    const bool found = SPI_processed == 1;
    bool isnull;
    if (found)
        *value = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    end_spi(spi);
    return found;
}

void
record_deployment(const char *name, int64 model_id, double traffic)
{
    const Oid caller = GetUserId();
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {TEXTOID, INT8OID, OIDOID, FLOAT8OID};
    Datum args[] = {CStringGetTextDatum(name), Int64GetDatum(model_id), ObjectIdGetDatum(caller),
                    Float8GetDatum(traffic)};
    // Traffic 1 without naming the column: tables not yet updated to 0.3.0 have none.
    if (traffic < 1 && !deployments_have_traffic())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("A/B tests need pg_recommend 0.3.0's tables"),
                        errhint("Run ALTER EXTENSION pg_recommend UPDATE.")));
    run_sql(spi,
            traffic < 1
                ? "INSERT INTO rec.deployments (name, model_id, deployed_by, traffic) VALUES ($1, $2, $3::regrole, $4)"
                : "INSERT INTO rec.deployments (name, model_id, deployed_by) VALUES ($1, $2, $3::regrole)",
            traffic < 1 ? 4 : 3, types, args, SPI_OK_INSERT);
    end_spi(spi);
    serving_changed();
}

int32
drop_model(const char *name)
{
    int32 count;
    VersionRow *versions = owned_versions(name, "drop", CurrentMemoryContext, &count);
    int64 *ids = (int64 *) palloc(sizeof(int64) * size_t(count));
    for (int32 v = 0; v < count; ++v)
        ids[v] = versions[v].model_id;
    // Only the versions checked above are deleted, even if another one was trained meanwhile.
    delete_versions(ids, count);
    // The name's grants go with its last version: a new model of that name starts private.
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {TEXTOID};
    Datum args[] = {CStringGetTextDatum(name)};
    run_sql(spi,
            "DELETE FROM rec.model_grants g WHERE name = $1 AND NOT EXISTS "
            "(SELECT 1 FROM rec.model_versions v WHERE v.name = g.name)",
            1, types, args, SPI_OK_DELETE);
    // So do its impressions: a new model of that name starts with no feedback (tables not yet updated to
    // 0.3.0 have none).
    if (OidIsValid(get_relname_relid("impressions", get_namespace_oid("rec", false))))
        run_sql(spi,
                "DELETE FROM rec.impressions i WHERE model = $1 AND NOT EXISTS "
                "(SELECT 1 FROM rec.model_versions v WHERE v.name = i.model)",
                1, types, args, SPI_OK_DELETE);
    end_spi(spi);
    return count;
}

int32
deploy_model(const char *name, int32 version, double traffic)
{
    // NaN fails both comparisons.
    if (!(traffic > 0 && traffic <= 1))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("traffic must be in (0, 1], not %g", traffic),
                        errhint("rec.deploy(model, version, traffic => 0.1) serves the version to 10%% of users; "
                                "traffic => 1 (the default) to everyone.")));
    int32 count;
    VersionRow *versions = owned_versions(name, "deploy", CurrentMemoryContext, &count);
    for (int32 v = 0; v < count; ++v)
        if (versions[v].version == version)
        {
            if (traffic < 1)
            {
                const Deployment served = every_version_deployment(name);
                if (served.main.model_id == 0)
                    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                                    errmsg("model \"%s\" has no version deployed to everyone to test against", name),
                                    errhint("Deploy one first: SELECT rec.deploy('%s', version).", name)));
                if (served.main.model_id == versions[v].model_id)
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("version %d of model \"%s\" already serves everyone", version, name),
                                    errhint("An A/B test deploys another version with traffic < 1.")));
            }
            record_deployment(name, versions[v].model_id, traffic);
            return version;
        }
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" has no version %d", name, version),
                    errhint("SELECT version FROM rec.models WHERE name = '%s' lists its versions.", name)));
    pg_unreachable();
}

int32
rollback_model(const char *name)
{
    int32 count;
    VersionRow *versions = owned_versions(name, "roll back", CurrentMemoryContext, &count);
    const Deployment served = every_version_deployment(name);
    const int64 current = served.challenger.model_id != 0 ? served.challenger.model_id : served.main.model_id;
    // The newest earlier deployment of another version that still exists.
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {TEXTOID, INT8OID};
    Datum args[] = {CStringGetTextDatum(name), Int64GetDatum(current)};
    run_sql(spi,
            "SELECT d.deployment_id, d.model_id FROM rec.deployments d JOIN rec.model_versions v "
            "USING (model_id) WHERE d.name = $1 AND NOT d.rolled_back AND d.model_id <> $2 "
            "ORDER BY d.deployment_id DESC LIMIT 1",
            2, types, args, SPI_OK_SELECT);
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("model \"%s\" has no earlier deployment to roll back to", name),
                        errhint("rec.deploy(model, version) deploys any version.")));
    bool isnull;
    const int64 previous_deployment =
        DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    const int64 previous_model = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    Oid update_types[] = {TEXTOID, INT8OID};
    Datum update_args[] = {CStringGetTextDatum(name), Int64GetDatum(previous_deployment)};
    run_sql(spi,
            "UPDATE rec.deployments SET rolled_back = true "
            "WHERE name = $1 AND deployment_id > $2 AND NOT rolled_back",
            2, update_types, update_args, SPI_OK_UPDATE);
    end_spi(spi);
    serving_changed();
    for (int32 v = 0; v < count; ++v)
        if (versions[v].model_id == previous_model)
            return versions[v].version;
    pg_unreachable();
}

int32
prune_model(const char *name, int32 keep)
{
    if (keep < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("keep must be at least 1"),
                        errhint("rec.drop_model deletes every version.")));
    int32 count;
    VersionRow *versions = owned_versions(name, "prune", CurrentMemoryContext, &count);
    const Deployment served = every_version_deployment(name);
    int64 *ids = (int64 *) palloc(sizeof(int64) * size_t(count));
    int32 doomed = 0;
    // Newest first: the first `keep` versions stay, and so do the deployed one and an A/B test's challenger.
    for (int32 v = keep; v < count; ++v)
        if (versions[v].model_id != served.main.model_id && versions[v].model_id != served.challenger.model_id)
            ids[doomed++] = versions[v].model_id;
    delete_versions(ids, doomed);
    return doomed;
}

int32
promote_model(const char *name)
{
    int32 count;
    owned_versions(name, "promote", CurrentMemoryContext, &count);
    const Deployment served = every_version_deployment(name);
    if (served.challenger.model_id == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("model \"%s\" has no A/B test under way", name),
                        errhint("rec.deploy('%s', version, traffic => 0.1) starts one; rec.models shows each "
                                "version's traffic.",
                                name)));
    record_deployment(name, served.challenger.model_id, 1);
    return served.challenger.version;
}

}  // namespace rec::pg

// rec.deploy(model, version, traffic) RETURNS integer (STRICT)
PGREC_FUNCTION(rec_deploy)
{
    PG_RETURN_INT32(
        rec::pg::deploy_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_INT32(1), PG_GETARG_FLOAT8(2)));
}

// rec.promote(model) RETURNS integer
PGREC_FUNCTION(rec_promote)
{
    PG_RETURN_INT32(rec::pg::promote_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

// rec.rollback(model) RETURNS integer
PGREC_FUNCTION(rec_rollback)
{
    PG_RETURN_INT32(rec::pg::rollback_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

// rec.prune(model, keep) RETURNS integer
PGREC_FUNCTION(rec_prune)
{
    PG_RETURN_INT32(rec::pg::prune_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_INT32(1)));
}

// rec.drop_model(model) RETURNS integer
PGREC_FUNCTION(rec_drop_model)
{
    PG_RETURN_INT32(rec::pg::drop_model(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

// rec.grant(model, role) RETURNS integer
PGREC_FUNCTION(rec_grant)
{
    PG_RETURN_INT32(
        rec::pg::grant_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)), true));
}

// rec.revoke(model, role) RETURNS integer
PGREC_FUNCTION(rec_revoke)
{
    PG_RETURN_INT32(
        rec::pg::grant_model(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)), false));
}
