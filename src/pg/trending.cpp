// rec.trending(model, n, half_life, candidates, exclude): the model's items ranked by their
// time-decayed interaction count in the model's source, Σ 0.5 ^ (age / half_life) over each item's
// rows, the age counted from the newest row of the source. The ranking is computed by one aggregate
// over the source (as the caller, like training) and kept per backend for a minute, for each model
// version, item count and half-life, so a page view costs a walk down a sorted list.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/ids.hpp"
#include "pg/safe_sql.hpp"
#include "pg/serving.hpp"
#include "pg/source_reader.hpp"
#include "pg/spi_session.hpp"

#include <algorithm>
#include <numeric>

namespace {

using rec::pg::ItemList;
using rec::pg::ServedModel;

// How long a ranking is reused before the source is read again: trends move by the hour, not the
// millisecond, and one aggregate a minute per backend keeps the source's load negligible.
constexpr double kRefreshSeconds = 60;
constexpr int kCachedRankings = 8;

struct Ranking
{
    int64 model_id = 0;
    int32 n_items = -1;  // a refresh that adds items renumbers them
    double half_life = 0;
    TimestampTz built = 0;
    MemoryContext context = nullptr;
    int32 *items = nullptr;  // dense item indexes, highest score first (equal scores: lower id first)
    float *scores = nullptr;
    size_t count = 0;
};

Ranking rankings[kCachedRankings];

// The source, item column and time column (NULL: none) the served version was trained from, readable
// by the caller, who may serve it; copied into `context`.
void
version_source(const ServedModel *m, MemoryContext context, const char **source, const char **item_column,
               const char **time_column)
{
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    Oid types[] = {INT8OID};
    Datum values[] = {Int64GetDatum(m->model_id)};
    rec::pg::run_sql(spi,
                     "SELECT source, item_column, hyperparameters->>'time_column' FROM rec.model_versions "
                     "WHERE model_id = $1",
                     1, types, values, SPI_OK_SELECT);
    if (SPI_processed != 1)
        elog(ERROR, "model version %lld not found", (long long) m->model_id);
    const auto column = [&](int c) {
        const char *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c);
        return value ? MemoryContextStrdup(context, value) : nullptr;
    };
    *source = column(1);
    *item_column = column(2);
    *time_column = column(3);
    rec::pg::end_spi(spi);
}

// Reads the source's decayed counts into `ranking` (its arrays in its own context).
void
build_ranking(const ServedModel *m, const char *model_name, double half_life, Ranking &ranking)
{
    const char *source, *item_column, *time_column;
    version_source(m, CurrentMemoryContext, &source, &item_column, &time_column);
    if (time_column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("model \"%s\" was trained without a time_column", model_name ? model_name : ""),
                        errhint("rec.trending needs each interaction's time: train the model with time_column => "
                                "'<column>' (rec.train)."),
                        errdetail("rec.trending ranks items by their time-decayed interaction count in the source.")));
    const char *quoted;
    const Oid relid = rec::pg::readable_relation(source, &quoted);
    const char *columns[2] = {item_column, time_column};
    const char *quoted_columns[2];
    Oid time_type = InvalidOid;
    for (int c = 0; c < 2; ++c)
    {
        const AttrNumber attnum = get_attnum(relid, columns[c]);
        if (attnum == InvalidAttrNumber || attnum < 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("column \"%s\" of model \"%s\"'s source %s no longer exists", columns[c],
                                   model_name ? model_name : "", quoted),
                            errhint("rec.trending reads the source the model was trained on; retrain it.")));
        quoted_columns[c] = quote_identifier(get_attname(relid, attnum, false));
        if (c == 1)
            time_type = getBaseType(get_atttype(relid, attnum));
    }
    const char *time = rec::pg::time_expression(quoted, quoted_columns[1], time_type, "rec.trending");
    // Half-lives (the age over the half-life), then 0.5 to their power; past 1000 half-lives (a
    // weight below 1e-301, nothing in a float4 sum) a row counts 0, where power() would raise an
    // underflow error.
    const char *half_lives = psprintf("((newest.t OPERATOR(pg_catalog.-) %s) OPERATOR(pg_catalog./) $1)", time);
    const char *query =
        psprintf("SELECT CAST(s.%s AS pg_catalog.int8), pg_catalog.sum(CASE WHEN %s OPERATOR(pg_catalog.<) 1000 "
                 "THEN pg_catalog.power(0.5::pg_catalog.float8, %s) ELSE 0 END) "
                 "FROM %s s, (SELECT pg_catalog.max(%s) AS t FROM %s) newest "
                 "WHERE s.%s IS NOT NULL AND %s IS NOT NULL GROUP BY 1",
                 quoted_columns[0], half_lives, half_lives, quoted, time, quoted, quoted_columns[0], time);

    if (ranking.context)
        MemoryContextReset(ranking.context);
    else
        ranking.context = AllocSetContextCreate(TopMemoryContext, "pg_recommend trending", ALLOCSET_SMALL_SIZES);
    ranking.model_id = 0;  // invalid until complete
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    Oid types[] = {FLOAT8OID};
    Datum values[] = {Float8GetDatum(half_life)};
    rec::pg::run_sql(spi, query, 1, types, values, SPI_OK_SELECT);
    const size_t rows = size_t(SPI_processed);
    int32 *items = (int32 *) MemoryContextAlloc(ranking.context, sizeof(int32) * (rows + 1));
    float *scores = (float *) MemoryContextAlloc(ranking.context, sizeof(float) * (rows + 1));
    size_t kept = 0;
    for (size_t r = 0; r < rows; ++r)
    {
        bool null;
        const int64 id = DatumGetInt64(rec::pg::result_value(r, 1, &null));
        const int64 index = null ? -1 : rec::pg::item_index(m, id);
        if (index < 0)
            continue;  // not in the model: it cannot be served (rec.refresh_items adds it)
        items[kept] = int32(index);
        scores[kept] = float(DatumGetFloat8(rec::pg::result_value(r, 2)));
        ++kept;
    }
    rec::pg::end_spi(spi);
    int32 *order = (int32 *) palloc(sizeof(int32) * (kept + 1));
    std::iota(order, order + kept, 0);
    std::sort(order, order + kept, [&](int32 a, int32 b) {
        return scores[a] > scores[b] || (scores[a] == scores[b] && items[a] < items[b]);
    });
    ranking.items = (int32 *) MemoryContextAlloc(ranking.context, sizeof(int32) * (kept + 1));
    ranking.scores = (float *) MemoryContextAlloc(ranking.context, sizeof(float) * (kept + 1));
    for (size_t r = 0; r < kept; ++r)
    {
        ranking.items[r] = items[order[r]];
        ranking.scores[r] = scores[order[r]];
    }
    ranking.count = kept;
    ranking.n_items = m->n_items;
    ranking.half_life = half_life;
    ranking.built = GetCurrentTimestamp();
    ranking.model_id = m->model_id;
}

// The kept ranking for this version and half-life, read again when a minute old.
const Ranking &
current_ranking(const ServedModel *m, const char *model_name, double half_life)
{
    const TimestampTz now = GetCurrentTimestamp();
    Ranking *oldest = &rankings[0];
    for (Ranking &r : rankings)
    {
        if (r.model_id == m->model_id && r.n_items == m->n_items && r.half_life == half_life)
        {
            if (double(now - r.built) / USECS_PER_SEC < kRefreshSeconds)
                return r;
            oldest = &r;
            break;
        }
        if (r.built < oldest->built)
            oldest = &r;
    }
    build_ranking(m, model_name, half_life, *oldest);
    return *oldest;
}

}  // namespace

// rec.trending(model, n, half_life, candidates, exclude) RETURNS TABLE (item_id bigint, score real)
PGREC_FUNCTION(rec_trending)
{
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    const int n_arg = rec::pg::checked_n(fcinfo, 1);
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("half_life must not be NULL"),
                        errhint("For example half_life => interval '7 days' in rec.trending.")));
    const double half_life = rec::pg::interval_seconds_arg(fcinfo, 2, "half_life", "rec.trending");
    const char *model_name = rec::pg::text_arg(fcinfo, 0);
    const ServedModel *m = rec::pg::serving_model(model_name);
    rec::pg::check_id_result_type(m, true, INT8OID,
                                  "rec.trending returns bigint item ids: it serves models with integer item ids.");
    const Ranking &ranking = current_ranking(m, model_name, half_life);
    const ItemList candidates = rec::pg::item_list_arg(fcinfo, 3, "candidates", m);
    const ItemList excluded = rec::pg::item_list_arg(fcinfo, 4, "exclude", m);
    const char *allowed = rec::pg::allowed_items(m, candidates, excluded);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    size_t found = 0;
    for (size_t r = 0; r < ranking.count && found < size_t(n_arg); ++r)
    {
        const int32 item = ranking.items[r];
        if (!allowed[item])
            continue;
        Datum row[2] = {Int64GetDatum(m->item_ids[item]), Float4GetDatum(ranking.scores[r])};
        bool nulls[2] = {false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
        ++found;
    }
    PG_RETURN_NULL();
}
