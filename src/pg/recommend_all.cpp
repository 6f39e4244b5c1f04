// rec.recommend_all: every user's top n written to a new table, computed in parallel blocks, for
// nightly batch jobs.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/model_cache.hpp"
#include "pg/settings.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "core/topn.hpp"

namespace {

using rec::pg::LoadedModel;

constexpr int32 kUsersPerBlock = 4096;

// Top n of users [begin, end) into slot (user - begin) * n of the output arrays; counts[user - begin]
// says how many. One matrix product per block of users, in parallel; pure C++.
void
rank_block(const LoadedModel *m, int32 begin, int32 end, size_t n, int32 *items, float *scores, int32 *counts)
{
    rec::pg::BackendHooks hooks;
    const rec::core::ItemFactorsView view{m->item_factors, m->item_bias, size_t(m->n_items), m->k};
    std::vector<float> offsets(size_t(end - begin));
    for (int32 u = begin; u < end; ++u)
        offsets[size_t(u - begin)] = float(m->global_mean) + m->user_bias[u];
    rec::core::top_n_batch(view, m->user_factors + size_t(begin) * size_t(m->k), offsets.data(), offsets.size(),
                           m->seen_offsets + begin, m->seen_items, n, rec::pg::training_threads(), hooks, items, scores,
                           counts);
}

}  // namespace

// rec.recommend_all(model, n, target_table) RETURNS bigint: rows written
PGREC_FUNCTION(rec_recommend_all)
{
    if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must be a number >= 0")));
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target_table must not be NULL")));
    const char *model_name = PG_ARGISNULL(0) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(0));
    const LoadedModel *m = rec::pg::serving_model(model_name);
    const size_t n = Min(size_t(PG_GETARG_INT32(1)), size_t(m->n_items));

    // The target is a new table, named as the caller would name it (their search_path); only quoted
    // identifiers reach the generated SQL.
    List *names = stringToQualifiedNameList(text_to_cstring(PG_GETARG_TEXT_PP(2)));
    RangeVar *target = makeRangeVarFromNameList(names);
    if (OidIsValid(RangeVarGetRelid(target, NoLock, true)))
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_TABLE),
                        errmsg("relation \"%s\" already exists", NameListToString(names)),
                        errhint("recommend_all writes a new table: drop the old one first, or name another "
                                "target_table.")));
    StringInfoData quoted;
    initStringInfo(&quoted);
    ListCell *cell;
    foreach (cell, names)
        appendStringInfo(&quoted, "%s%s", quoted.len ? "." : "", quote_identifier(strVal(lfirst(cell))));

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    if (SPI_execute(psprintf("CREATE TABLE %s (user_id pg_catalog.int8 NOT NULL, item_id pg_catalog.int8 NOT NULL, "
                             "score pg_catalog.float4 NOT NULL, rank pg_catalog.int4 NOT NULL)",
                             quoted.data),
                    false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "could not create %s", quoted.data);
    Oid types[] = {INT8ARRAYOID, INT8ARRAYOID, FLOAT4ARRAYOID, INT4ARRAYOID};
    SPIPlanPtr insert = SPI_prepare(psprintf("INSERT INTO %s SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
                                             "pg_catalog.unnest($3), pg_catalog.unnest($4))",
                                             quoted.data),
                                    4, types);
    if (insert == nullptr)
        elog(ERROR, "could not prepare the insert into %s", quoted.data);

    const size_t block_rows = size_t(kUsersPerBlock) * Max(n, (size_t) 1);
    int32 *items = (int32 *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * block_rows);
    float *scores = (float *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * block_rows);
    int32 *counts = (int32 *) palloc(sizeof(int32) * kUsersPerBlock);
    Datum *user_d = (Datum *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Datum) * block_rows);
    Datum *item_d = (Datum *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Datum) * block_rows);
    Datum *score_d = (Datum *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Datum) * block_rows);
    Datum *rank_d = (Datum *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Datum) * block_rows);
    MemoryContext batch_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend batch", ALLOCSET_DEFAULT_SIZES);
    int64 written = 0;
    int last_percent = 0;
    for (int32 begin = 0; begin < m->n_users && n > 0; begin += kUsersPerBlock)
    {
        const int32 end = Min(m->n_users, begin + kUsersPerBlock);
        rank_block(m, begin, end, n, items, scores, counts);
        int rows = 0;
        for (int32 u = begin; u < end; ++u)
            for (int32 r = 0; r < counts[u - begin]; ++r, ++rows)
            {
                const size_t slot = size_t(u - begin) * n + size_t(r);
                user_d[rows] = Int64GetDatum(m->user_ids[u]);
                item_d[rows] = Int64GetDatum(m->item_ids[items[slot]]);
                score_d[rows] = Float4GetDatum(scores[slot]);
                rank_d[rows] = Int32GetDatum(r + 1);
            }
        MemoryContext outer = MemoryContextSwitchTo(batch_context);
        Datum args[] = {
            PointerGetDatum(construct_array(user_d, rows, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE)),
            PointerGetDatum(construct_array(item_d, rows, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE)),
            PointerGetDatum(construct_array(score_d, rows, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT)),
            PointerGetDatum(construct_array(rank_d, rows, INT4OID, sizeof(int32), true, TYPALIGN_INT))};
        if (SPI_execute_plan(insert, args, nullptr, false, 0) != SPI_OK_INSERT)
            elog(ERROR, "could not insert into %s", quoted.data);
        MemoryContextSwitchTo(outer);
        MemoryContextReset(batch_context);
        written += rows;
        const int percent = int(int64(end) * 100 / m->n_users);
        if (percent / 10 > last_percent / 10 || end == m->n_users)
        {
            ereport(NOTICE, (errmsg("recommend_all: %d of %d users (%d%%), %lld rows", end, m->n_users, percent,
                                    (long long) written)));
            last_percent = percent;
        }
    }
    SPI_finish();
    PG_RETURN_INT64(written);
}
