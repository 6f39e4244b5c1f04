// rec.recommend_all: every user's top n written to a new table, computed in parallel blocks, for
// nightly batch jobs.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/bulk_insert.hpp"
#include "pg/host_hooks.hpp"
#include "pg/ids.hpp"
#include "pg/safe_sql.hpp"
#include "pg/serving.hpp"
#include "pg/settings.hpp"
#include "pg/spi_session.hpp"
#include "pg/worker_threads.hpp"

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "core/topn.hpp"

namespace {

using rec::pg::ServedModel;

constexpr int32 kMaxUsersPerBlock = 4096;

// Top n of users [begin, end) into slot (user - begin) * n of the output arrays; counts[user - begin]
// says how many. One matrix product per block of users, in parallel; pure C++.
void
rank_block(const ServedModel *m, int32 begin, int32 end, size_t n, int32 *items, float *scores, int32 *counts)
{
    const rec::core::FactorModelView &model = m->model;
    rec::pg::BackendHooks hooks;
    std::vector<float> offsets(size_t(end - begin));
    for (int32 u = begin; u < end; ++u)
        offsets[size_t(u - begin)] = model.user_offset(size_t(u));
    const rec::pg::WorkerThreads workers;
    rec::core::top_n_batch(model.item_view(), model.user_factors + size_t(begin) * size_t(model.k), offsets.data(),
                           offsets.size(), m->seen_offsets + begin, m->seen_items, n, workers.threads(), hooks, items,
                           scores, counts);
}

}  // namespace

// rec.recommend_all(model, n, target_table) RETURNS bigint: rows written
PGREC_FUNCTION(rec_recommend_all)
{
    if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must be a number >= 0")));
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target_table must not be NULL")));
    const ServedModel *m = rec::pg::serving_model(rec::pg::text_arg(fcinfo, 0));
    const size_t n = Min(size_t(PG_GETARG_INT32(1)), size_t(m->n_items));

    // The target is a new table, named as the caller would name it.
    const char *quoted_target = rec::pg::new_table_name(text_to_cstring(PG_GETARG_TEXT_PP(2)), "target_table");
    // The id columns have the types of the training source's. Created as the caller, who owns it.
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    rec::pg::run_sql(spi,
                     psprintf("CREATE TABLE %s (user_id %s NOT NULL, item_id %s NOT NULL, "
                              "score pg_catalog.float4 NOT NULL, rank pg_catalog.int4 NOT NULL)",
                              quoted_target, format_type_extended(m->user_type, -1, FORMAT_TYPE_FORCE_QUALIFY),
                              format_type_extended(m->item_type, -1, FORMAT_TYPE_FORCE_QUALIFY)),
                     0, nullptr, nullptr, SPI_OK_UTILITY);
    rec::pg::end_spi(spi);
    // The new table has no index or trigger yet: rows go in by the heap's multi-insert, as COPY does.
    rec::pg::BulkInsert *bulk = rec::pg::begin_bulk_insert(
        RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(quoted_target)), RowExclusiveLock, false));

    // Users per block: up to 4096, fewer when n is large, so that a block's results (8 bytes per row)
    // stay within a sixteenth of rec.max_memory.
    const int32 users_per_block = int32(Max(
        (size_t) 1, Min((size_t) kMaxUsersPerBlock, rec::pg::memory_budget_bytes() / 16 / (8 * Max(n, (size_t) 1)))));
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
                TupleTableSlot *slot = rec::pg::next_bulk_slot(bulk);
                MemoryContext outer = MemoryContextSwitchTo(rec::pg::bulk_row_context(bulk));
                slot->tts_values[0] = rec::pg::user_id_value(m, u, m->user_type);
                slot->tts_values[1] = rec::pg::item_id_value(m, items[at], m->item_type);
                MemoryContextSwitchTo(outer);
                slot->tts_values[2] = Float4GetDatum(scores[at]);
                slot->tts_values[3] = Int32GetDatum(r + 1);
                memset(slot->tts_isnull, 0, sizeof(bool) * 4);
                rec::pg::add_bulk_row(bulk);
                ++written;
            }
        const int percent = int(int64(end) * 100 / m->n_users);
        if (percent / 10 > last_percent / 10 || end == m->n_users)
        {
            ereport(NOTICE, (errmsg("recommend_all: %d of %d users (%d%%), %lld rows", end, m->n_users, percent,
                                    (long long) written)));
            last_percent = percent;
        }
    }
    rec::pg::end_bulk_insert(bulk);
    PG_RETURN_INT64(written);
}
