#include "pg/impressions.hpp"
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/ids.hpp"
#include "pg/model_lifecycle.hpp"
#include "pg/spi_session.hpp"

#include <cinttypes>

namespace rec::pg {

namespace {

constexpr int kImpressionColumns = 6;  // model, version, user_id, items, shown_at, served_by

Oid impressions_relid = InvalidOid;

void
relation_invalidated(Datum, Oid relid)
{
    if (relid == InvalidOid || relid == impressions_relid)
        impressions_relid = InvalidOid;  // dropped and created again, perhaps: looked up again
}

Oid
impressions_table()
{
    static bool registered = false;
    if (!registered)
    {
        CacheRegisterRelcacheCallback(relation_invalidated, (Datum) 0);
        registered = true;
    }
    if (!OidIsValid(impressions_relid))
    {
        impressions_relid = get_relname_relid("impressions", get_namespace_oid("rec", false));
        if (!OidIsValid(impressions_relid))
            elog(ERROR, "pg_recommend's table rec.impressions is missing. Please report a bug.");
    }
    return impressions_relid;
}

// The text of an id as rec.impressions keeps it: an integer id's digits, a text or uuid id's text in the
// model's form, so that a feedback column cast to text joins it.
Datum
id_text(const ServedModel *m, bool items, Datum value, Oid type)
{
    const char *key;
    const int64 id = model_id_of(m, items, value, type, &key);
    if (key != nullptr)
        return CStringGetTextDatum(key);
    char digits[24];
    snprintf(digits, sizeof(digits), "%" PRId64, id);
    return CStringGetTextDatum(digits);
}

Datum
stored_id_text(const ServedModel *m, int32 index)
{
    if (m->item_keyed)
    {
        int32 length;
        const char *key = stored_key(m, true, index, &length);
        return PointerGetDatum(cstring_to_text_with_len(key, length));
    }
    char digits[24];
    snprintf(digits, sizeof(digits), "%" PRId64, m->item_ids[index]);
    return CStringGetTextDatum(digits);
}

// Appends one row. Straight into the heap while the table has no index (as installed); through SQL if
// someone gave it one, so that the index stays right.
void
insert_impression(const char *model, int32 version, Datum user_text, Datum *item_texts, int count,
                  const char *served_by)
{
    Datum items = PointerGetDatum(construct_array(item_texts, count, TEXTOID, -1, false, TYPALIGN_INT));
    Datum values[kImpressionColumns] = {CStringGetTextDatum(model),
                                        Int32GetDatum(version),
                                        user_text,
                                        items,
                                        TimestampTzGetDatum(GetCurrentTimestamp()),
                                        CStringGetTextDatum(served_by)};
    bool nulls[kImpressionColumns] = {false, false, false, false, false, false};
    Relation rel = table_open(impressions_table(), RowExclusiveLock);
    if (!rel->rd_rel->relhasindex && RelationGetDescr(rel)->natts == kImpressionColumns)
    {
        HeapTuple tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
        simple_heap_insert(rel, tuple);
        table_close(rel, RowExclusiveLock);
        return;
    }
    table_close(rel, RowExclusiveLock);
    const SpiSession spi = begin_spi(SpiRole::Owner);
    Oid types[] = {TEXTOID, INT4OID, TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID, TEXTOID};
    run_sql(spi,
            "INSERT INTO rec.impressions (model, version, user_id, items, shown_at, served_by) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            kImpressionColumns, types, values, SPI_OK_INSERT);
    end_spi(spi);
}

// Whether this transaction may write: not on a standby, not in a read-only transaction.
bool
can_write()
{
    return !RecoveryInProgress() && !XactReadOnly;
}

}  // namespace

void
log_served_list(const ServedVersion &served, Datum user_id, Oid user_type, const int32 *items, size_t count,
                const char *served_by)
{
    // A parallel query's processes may not write; dropping its lists silently would bias every metric.
    if (IsInParallelMode())
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("log_impressions cannot write inside a parallel query"),
                 errhint("Run the query with SET max_parallel_workers_per_gather = 0, or log the lists "
                         "with rec.log_impressions.")));
    if (!can_write())
    {
        static bool told = false;
        if (!told)
            ereport(NOTICE, (errmsg("impressions are not logged here: %s",
                                    RecoveryInProgress() ? "this server is a standby" : "nothing may be written"),
                             errhint("Log them where the application may write, with rec.log_impressions. "
                                     "Serving answers as usual; this notice is given once per session.")));
        told = true;
        return;
    }
    if (served.name[0] == '\0')
        ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG),
                        errmsg("impressions of models with names over %d bytes are not logged", kMaxServedName - 1)));
    Datum *texts = (Datum *) palloc(sizeof(Datum) * (count + 1));
    for (size_t r = 0; r < count; ++r)
        texts[r] = stored_id_text(served.model, items[r]);
    insert_impression(served.name, served.version, id_text(served.model, false, user_id, user_type), texts, int(count),
                      served_by);
}

}  // namespace rec::pg

// rec.log_impressions(model, user_id, items, version) RETURNS integer: records a list the application
// showed; returns how many items it holds.
PGREC_FUNCTION(rec_log_impressions)
{
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("user_id and items must not be NULL"),
                        errhint("rec.log_impressions(model, user_id, items) records the items shown to a user.")));
    if (RecoveryInProgress() || XactReadOnly)
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("cannot log impressions in a read-only transaction"),
                        errhint("Call rec.log_impressions on the primary.")));
    const char *model = rec::pg::text_arg(fcinfo, 0);
    const Datum user = PG_GETARG_DATUM(1);
    const Oid user_type = rec::pg::arg_type(fcinfo, 1);
    // The version serving the user now, or the one named: it must be one of the model's, readable by
    // the caller (the served version was found under the tables' row-level security).
    rec::pg::ServedVersion served = rec::pg::serving_model_for_user(model, user, user_type);
    if (!PG_ARGISNULL(3))
    {
        const int32 version = PG_GETARG_INT32(3);
        const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
        Oid types[] = {TEXTOID, INT4OID};
        Datum args[] = {CStringGetTextDatum(served.name), Int32GetDatum(version)};
        rec::pg::run_sql(spi, "SELECT 1 FROM rec.model_versions WHERE name = $1 AND version = $2", 2, types, args,
                         SPI_OK_SELECT);
        const bool found = SPI_processed == 1;
        rec::pg::end_spi(spi);
        if (!found)
            ereport(ERROR,
                    (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("model \"%s\" has no version %d", served.name, version),
                     errhint("SELECT version FROM rec.models WHERE name = '%s' lists its versions.", served.name)));
        served.version = version;
    }
    const rec::pg::ArrayValues items = rec::pg::array_arg(fcinfo, 2, "items");
    if (items.count == 0)
        PG_RETURN_INT32(0);  // nothing was shown: nothing to record
    Datum *texts = (Datum *) palloc(sizeof(Datum) * (size_t(items.count) + 1));
    for (int e = 0; e < items.count; ++e)
        texts[e] = rec::pg::id_text(served.model, true, items.values[e], items.element_type);
    rec::pg::insert_impression(served.name, served.version, rec::pg::id_text(served.model, false, user, user_type),
                               texts, items.count, "application");
    PG_RETURN_INT32(items.count);
}

// rec.prune_impressions(model, older_than) RETURNS bigint: deletes the model's impressions shown longer
// ago than older_than; only the model's owner may.
PGREC_FUNCTION(rec_prune_impressions)
{
    const char *model = rec::pg::required_text_arg(fcinfo, 0, "model");
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("older_than must not be NULL"),
                        errhint("rec.prune_impressions(model, older_than => interval '30 days').")));
    rec::pg::interval_seconds_arg(fcinfo, 1, "older_than", "rec.prune_impressions");
    const Interval *older_than = PG_GETARG_INTERVAL_P(1);
    rec::pg::require_model_owner(model, "prune impressions of");
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Owner);
    Oid types[] = {TEXTOID, INTERVALOID};
    Datum args[] = {CStringGetTextDatum(model), IntervalPGetDatum(older_than)};
    rec::pg::run_sql(spi, "DELETE FROM rec.impressions WHERE model = $1 AND shown_at < now() - $2", 2, types, args,
                     SPI_OK_DELETE);
    const int64 deleted = int64(SPI_processed);
    rec::pg::end_spi(spi);
    PG_RETURN_INT64(deleted);
}
