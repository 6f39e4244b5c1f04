// rec.recommend_all: every user's top n written to a new table, computed in parallel blocks, for
// nightly batch jobs.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/ids.hpp"
#include "pg/model_cache.hpp"
#include "pg/safe_sql.hpp"
#include "pg/settings.hpp"
#include "pg/worker_threads.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "core/topn.hpp"

namespace {

using rec::pg::LoadedModel;

constexpr int32 kMaxUsersPerBlock = 4096;

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
    const rec::pg::WorkerThreads workers;
    rec::core::top_n_batch(view, m->user_factors + size_t(begin) * size_t(m->k), offsets.data(), offsets.size(),
                           m->seen_offsets + begin, m->seen_items, n, workers.threads(), hooks, items, scores, counts);
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

    // The target is a new table, named as the caller would name it.
    const char *quoted_target = rec::pg::new_table_name(text_to_cstring(PG_GETARG_TEXT_PP(2)), "target_table");
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    // The id columns have the types of the training source's.
    if (SPI_execute(psprintf("CREATE TABLE %s (user_id %s NOT NULL, item_id %s NOT NULL, "
                             "score pg_catalog.float4 NOT NULL, rank pg_catalog.int4 NOT NULL)",
                             quoted_target, format_type_extended(m->user_type, -1, FORMAT_TYPE_FORCE_QUALIFY),
                             format_type_extended(m->item_type, -1, FORMAT_TYPE_FORCE_QUALIFY)),
                    false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "could not create %s", quoted_target);
    SPI_finish();

    // The new table has no index or trigger yet: rows go in by the heap's multi-insert, as COPY does.
    Relation table = table_open(
        RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(quoted_target)), RowExclusiveLock, false),
        RowExclusiveLock);
    BulkInsertState bulk = GetBulkInsertState();
    const CommandId command = GetCurrentCommandId(true);
    constexpr int kSlots = 128;  // rows per multi-insert: slots are reused, so few are made
    TupleTableSlot **slots = (TupleTableSlot **) palloc(sizeof(TupleTableSlot *) * kSlots);
    for (int s = 0; s < kSlots; ++s)
        slots[s] = table_slot_create(table, nullptr);
    int filled = 0;
    // Text and uuid ids are made per row: in a context emptied after each multi-insert.
    MemoryContext rows_context = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend rows", ALLOCSET_DEFAULT_SIZES);
    auto flush = [&] {
        table_multi_insert(table, slots, filled, command, 0, bulk);
        for (int s = 0; s < filled; ++s)
            ExecClearTuple(slots[s]);
        filled = 0;
        MemoryContextReset(rows_context);
    };

    // Users per block: up to 4096, fewer when n is large, so that a block's results (8 bytes per row)
    // stay within a sixteenth of rec.max_memory.
    const int32 users_per_block = int32(Max((size_t) 1, Min((size_t) kMaxUsersPerBlock,
                                                            rec::pg::memory_budget_bytes() / 16 / (8 * Max(n, (size_t) 1)))));
    const size_t block_rows = size_t(users_per_block) * Max(n, (size_t) 1);
    int32 *items = (int32 *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * block_rows);
    float *scores = (float *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * block_rows);
    int32 *counts = (int32 *) palloc(sizeof(int32) * size_t(users_per_block));
    int64 written = 0;
    int last_percent = 0;
    for (int32 begin = 0; begin < m->n_users && n > 0; begin += users_per_block)
    {
        const int32 end = Min(m->n_users, begin + users_per_block);
        rank_block(m, begin, end, n, items, scores, counts);
        for (int32 u = begin; u < end; ++u)
            for (int32 r = 0; r < counts[u - begin]; ++r)
            {
                const size_t at = size_t(u - begin) * n + size_t(r);
                TupleTableSlot *slot = slots[filled++];
                MemoryContext outer = MemoryContextSwitchTo(rows_context);
                slot->tts_values[0] = rec::pg::user_id_value(m, u, m->user_type);
                slot->tts_values[1] = rec::pg::item_id_value(m, items[at], m->item_type);
                MemoryContextSwitchTo(outer);
                slot->tts_values[2] = Float4GetDatum(scores[at]);
                slot->tts_values[3] = Int32GetDatum(r + 1);
                memset(slot->tts_isnull, 0, sizeof(bool) * 4);
                ExecStoreVirtualTuple(slot);
                ++written;
                if (filled == kSlots)
                    flush();
            }
        const int percent = int(int64(end) * 100 / m->n_users);
        if (percent / 10 > last_percent / 10 || end == m->n_users)
        {
            ereport(NOTICE, (errmsg("recommend_all: %d of %d users (%d%%), %lld rows", end, m->n_users, percent,
                                    (long long) written)));
            last_percent = percent;
        }
    }
    if (filled > 0)
        flush();
    for (int s = 0; s < kSlots; ++s)
        ExecDropSingleTupleTableSlot(slots[s]);
    FreeBulkInsertState(bulk);
    table_close(table, NoLock);  // the lock is kept until the transaction ends
    PG_RETURN_INT64(written);
}
