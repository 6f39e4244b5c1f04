// rec.recommend_all: every user's top n written to a new table, computed in parallel blocks, for
// nightly batch jobs.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/bulk_insert.hpp"
#include "pg/host_hooks.hpp"
#include "pg/ids.hpp"
#include "pg/replicas.hpp"
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

using rec::pg::ItemList;
using rec::pg::ServedModel;

constexpr int32 kMaxUsersPerBlock = 4096;

// Top n of users [begin, end) into slot (user - begin) * n of the output arrays; counts[user - begin]
// says how many. Each user's training items are left out, and `excluded` for every user. A factor
// model without candidates: one matrix product per block of users, in parallel. Otherwise (candidates,
// or an item-item model, which scores a user by their items) user by user through the model interface,
// users split over threads. Pure C++ but for hooks.poll().
void
rank_block(const ServedModel *m, int32 begin, int32 end, size_t n, const ItemList &candidates, const ItemList &excluded,
           int32 *items, float *scores, int32 *counts)
{
    const rec::core::FactorModelView &model = m->model;
    rec::pg::BackendHooks hooks;
    const rec::pg::WorkerThreads workers;
    const rec::core::Recommender recommender = rec::pg::recommender_of(m);
    if (candidates.given || recommender.item_item())
    {
        const rec::core::IndexList among{candidates.indexes, candidates.count};
        std::vector<std::vector<int32_t>> left_out(size_t(workers.threads()));
        rec::core::parallel_rows(
            rec::core::even_boundaries(size_t(end - begin), 64), workers.threads(), hooks, [&](size_t row, int thread) {
                const int32 u = begin + int32(row);
                std::vector<int32_t> &skip = left_out[size_t(thread)];
                skip.assign(m->seen_items + m->seen_offsets[u], m->seen_items + m->seen_offsets[u + 1]);
                skip.insert(skip.end(), excluded.indexes, excluded.indexes + excluded.count);
                const auto best = recommender.top_n_for_user(size_t(u), {skip.data(), skip.size()},
                                                             candidates.given ? &among : nullptr, n);
                const size_t at = row * n;
                for (size_t r = 0; r < best.size(); ++r)
                {
                    items[at + r] = best[r].item;
                    scores[at + r] = best[r].score;
                }
                counts[row] = int32(best.size());
            });
        return;
    }
    std::vector<float> offsets(size_t(end - begin));
    for (int32 u = begin; u < end; ++u)
        offsets[size_t(u - begin)] = model.user_offset(size_t(u));
    // Each user's exclusions: their training items, then `excluded` (only built when there is one).
    std::vector<int64_t> left_out_offsets;
    std::vector<int32_t> left_out;
    const int64_t *excluded_offsets = m->seen_offsets + begin;
    const int32_t *excluded_items = m->seen_items;
    if (excluded.count > 0)
    {
        left_out_offsets.reserve(size_t(end - begin) + 1);
        left_out_offsets.push_back(0);
        for (int32 u = begin; u < end; ++u)
        {
            left_out.insert(left_out.end(), m->seen_items + m->seen_offsets[u], m->seen_items + m->seen_offsets[u + 1]);
            left_out.insert(left_out.end(), excluded.indexes, excluded.indexes + excluded.count);
            left_out_offsets.push_back(int64_t(left_out.size()));
        }
        excluded_offsets = left_out_offsets.data();
        excluded_items = left_out.data();
    }
    rec::core::top_n_batch(model.item_view(), model.user_factors + size_t(begin) * size_t(model.k), offsets.data(),
                           offsets.size(), excluded_offsets, excluded_items, n, workers.threads(), hooks, items, scores,
                           counts);
}

}  // namespace

// rec.recommend_all(model, n, target_table, candidates, exclude) RETURNS bigint: rows written
PGREC_FUNCTION(rec_recommend_all)
{
    if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must be a number >= 0")));
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("target_table must not be NULL")));
    const ServedModel *m = rec::pg::serving_model(rec::pg::text_arg(fcinfo, 0));
    const size_t n = Min(size_t(PG_GETARG_INT32(1)), size_t(m->n_items));
    const ItemList candidates = rec::pg::item_list_arg(fcinfo, 3, "candidates", m);
    const ItemList excluded = rec::pg::item_list_arg(fcinfo, 4, "exclude", m);

    // The target is a new table, named as the caller would name it.
    const char *quoted_target = rec::pg::new_table_name(text_to_cstring(PG_GETARG_TEXT_PP(2)), "target_table");
    // A version installed on the Citus workers (rec.distribute_model): each worker writes its users'
    // lists into a table distributed like the source.
    rec::pg::ReplicaRoute route;
    if (!PG_ARGISNULL(0) && PG_ARGISNULL(3) && PG_ARGISNULL(4) && rec::pg::replica_route(m->model_id, &route))
        PG_RETURN_INT64(rec::pg::recommend_all_on_workers(route, rec::pg::text_arg(fcinfo, 0), int32(n), quoted_target,
                                                          m->user_type, m->item_type));
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
    rec::pg::BulkInsert *bulk = rec::pg::begin_bulk_insert(RangeVarGetRelid(
        makeRangeVarFromNameList(REC_STRING_TO_QUALIFIED_NAME_LIST(quoted_target)), RowExclusiveLock, false));

    // Users per block: up to 4096, fewer when n or `exclude` is large, so that a block's results (8
    // bytes per row) and its users' copies of `exclude` (4 bytes per item) stay within a sixteenth of
    // rec.max_memory.
    const size_t bytes_per_user = 8 * Max(n, (size_t) 1) + 4 * excluded.count;
    const int32 users_per_block =
        int32(Max((size_t) 1, Min((size_t) kMaxUsersPerBlock, rec::pg::memory_budget_bytes() / 16 / bytes_per_user)));
    const size_t block_rows = size_t(users_per_block) * Max(n, (size_t) 1);
    int32 *items = (int32 *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * block_rows);
    float *scores = (float *) MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * block_rows);
    int32 *counts = (int32 *) palloc(sizeof(int32) * size_t(users_per_block));
    int64 written = 0;
    int last_percent = 0;
    for (int32 begin = 0; begin < m->n_users && n > 0; begin += users_per_block)
    {
        const int32 end = Min(m->n_users, begin + users_per_block);
        rank_block(m, begin, end, n, candidates, excluded, items, scores, counts);
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
