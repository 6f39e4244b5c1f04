#include "pg/distributed_train.hpp"
#include "pg/bulk_insert.hpp"
#include "pg/citus.hpp"
#include "pg/host_hooks.hpp"
#include "pg/model_lifecycle.hpp"
#include "pg/model_store.hpp"
#include "pg/safe_sql.hpp"
#include "pg/settings.hpp"
#include "pg/spi_session.hpp"
#include "pg/worker_threads.hpp"

#include <chrono>
#include <cmath>
#include <vector>

#include "core/checked_size.hpp"
#include "core/distributed_step.hpp"

namespace rec::pg {

namespace {

// The run's SQL pieces, each quoted once.
struct RunSql
{
    const char *source;                 // schema-qualified
    const char *user_col, *item_col;    // the source's columns
    const char *value;                  // its value column, or 1
    const char *copy = nullptr;         // the copy distributed by item, rec.<name>
    rec::core::DuplicatePolicy policy;  // repeats: averaged (als) or summed (ials)
};

// The source's value as rec.train reads it: float8, then float4 (read_source's arithmetic).
const char *
float4_value(const char *value)
{
    return psprintf("CAST(CAST(%s AS pg_catalog.float8) AS pg_catalog.float4)", value);
}

struct SourceStats
{
    size_t rows = 0, nnz = 0;
    float rating_min = 0, rating_max = 0;
    double value_mean = 0, extra_confidence = 0;
};

// Checks the rows as read_source does (NULLs, values that are not finite floats, negative implicit
// values, no rows) and counts them, with aggregates pushed down to the workers.
SourceStats
source_stats(const RunSql &q, const SourceSpec &source, bool implicit, const rec::core::ImplicitParams &ials)
{
    SourceStats st;
    const SpiSession spi = begin_spi(SpiRole::Caller);
    run_sql(spi,
            psprintf("SELECT count(*), count(*) FILTER (WHERE u IS NULL), count(*) FILTER (WHERE i IS NULL), "
                     "count(*) FILTER (WHERE v IS NULL), count(*) FILTER (WHERE NOT (v BETWEEN "
                     "-3.4028234663852886e38 AND 3.4028234663852886e38)), count(*) FILTER (WHERE v < 0), "
                     "min(v), max(v) FROM (SELECT %s AS u, %s AS i, CAST(%s AS pg_catalog.float8) AS v FROM %s) s",
                     q.user_col, q.item_col, q.value, q.source),
            0, nullptr, nullptr, SPI_OK_SELECT);
    const auto count = [](int column) {
        return size_t(DatumGetInt64(result_value(0, column)));
    };
    st.rows = count(1);
    const char *null_column = count(2) ? source.user_column : count(3) ? source.item_column : source.rating_column;
    if (count(2) || count(3) || count(4))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("source \"%s\" has a NULL in column \"%s\"", source.relation, null_column),
                        errhint("Filter NULLs out in a view, or fill them in.")));
    if (count(5))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("source \"%s\" has %zu ratings that are not finite numbers", source.relation, count(5)),
                        errhint("NaN and infinite ratings cannot be learned; filter them out in a view.")));
    if (implicit && count(6))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("source \"%s\" has %zu negative values", source.relation, count(6)),
                        errhint("Implicit feedback values are counts or strengths >= 0; filter or clamp "
                                "negative ones in a view.")));
    if (st.rows == 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("source \"%s\" has no rows", source.relation),
                        errhint("A model needs at least one rating to learn from.")));
    st.rating_min = float(DatumGetFloat8(result_value(0, 7)));
    st.rating_max = float(DatumGetFloat8(result_value(0, 8)));
    // The merged entries (one per pair, grouped with the user column so the grouping runs on the
    // workers), their mean and, for ials, Σ of the confidences' extra weight (the loss's denominator).
    const char *merged = q.policy == rec::core::DuplicatePolicy::Average
                             ? "sum(CAST(v AS pg_catalog.float8)) / count(*)"
                             : "sum(CAST(v AS pg_catalog.float8))";
    const char *extra = ials.confidence == rec::core::Confidence::OnePlusAlpha
                            ? "CAST(%.17g AS pg_catalog.float4) * m"
                            : "CAST(%.17g AS pg_catalog.float4) * m - "
                              "CAST(1 AS pg_catalog.float4)";
    run_sql(spi,
            psprintf("SELECT count(*), sum(CAST(m AS pg_catalog.float8)), sum(CAST(%s AS pg_catalog.float8)) FROM "
                     "(SELECT CAST(%s AS pg_catalog.float4) AS m FROM (SELECT %s AS u, %s AS i, %s AS v FROM %s) s "
                     "GROUP BY u, i) t",
                     psprintf(extra, implicit ? ials.alpha : 0.0), merged, q.user_col, q.item_col,
                     float4_value(q.value), q.source),
            0, nullptr, nullptr, SPI_OK_SELECT);
    st.nnz = size_t(DatumGetInt64(result_value(0, 1)));
    st.value_mean = DatumGetFloat8(result_value(0, 2)) / double(st.nnz);
    st.extra_confidence = DatumGetFloat8(result_value(0, 3));
    end_spi(spi);
    return st;
}

// The distinct values of a column, ascending (the dense order of core/interactions.hpp).
void
list_ids(const RunSql &q, const char *column, std::vector<int64_t> &out)
{
    const SpiSession spi = begin_spi(SpiRole::Caller);
    run_sql(spi,
            psprintf("SELECT CAST(%s AS pg_catalog.int8) FROM %s GROUP BY %s ORDER BY 1", column, q.source, column), 0,
            nullptr, nullptr, SPI_OK_SELECT);
    out.resize(SPI_processed);
    for (uint64 r = 0; r < SPI_processed; ++r)
        out[r] = DatumGetInt64(result_value(r, 1));
    end_spi(spi);
}

// The rows distributed by item for the item half-steps: a table of the extension owner's, created,
// filled and dropped in the CALL's transaction, by the owner throughout (Citus refuses a placement
// that one role wrote in a transaction to another). The owner reads the source for it only after
// checking that the caller may read those columns (train_distributed refuses row-level security), so
// the copy holds what the caller's own SELECT would; the rows go worker to worker, repartitioned by
// Citus's INSERT … SELECT.
void
copy_by_item(RunSql &q, Oid relid, const SourceSpec &source)
{
    const Oid caller = GetUserId();
    for (const char *column : {source.user_column, source.item_column, source.rating_column})
        if (column != nullptr && pg_class_aclcheck(relid, caller, ACL_SELECT) != ACLCHECK_OK &&
            pg_attribute_aclcheck(relid, get_attnum(relid, column), caller, ACL_SELECT) != ACLCHECK_OK)
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied for column \"%s\" of %s", column, q.source),
                            errhint("rec.train reads the source with the caller's rights.")));
    static int runs = 0;
    const char *name = psprintf("training_rows_%d_%d", MyProcPid, ++runs);
    q.copy = psprintf("rec.%s", quote_identifier(name));
    const SpiSession spi = begin_spi(SpiRole::Owner);
    run_sql(
        spi,
        psprintf("CREATE TABLE %s (item_id pg_catalog.int8, user_id pg_catalog.int8, value pg_catalog.float4)", q.copy),
        0, nullptr, nullptr, SPI_OK_UTILITY);
    run_sql(spi,
            psprintf("SELECT pg_catalog.create_distributed_table(%s, 'item_id', colocate_with => 'none')",
                     quote_literal_cstr(q.copy)),
            0, nullptr, nullptr, SPI_OK_SELECT);
    run_sql(spi,
            psprintf("INSERT INTO %s SELECT CAST(%s AS pg_catalog.int8), CAST(%s AS pg_catalog.int8), %s FROM %s",
                     q.copy, q.item_col, q.user_col, float4_value(q.value), q.source),
            0, nullptr, nullptr, SPI_OK_INSERT);
    end_spi(spi);
}

void
drop_copy(const RunSql &q)
{
    const SpiSession spi = begin_spi(SpiRole::Owner);
    run_sql(spi, psprintf("DROP TABLE %s", q.copy), 0, nullptr, nullptr, SPI_OK_UTILITY);
    end_spi(spi);
}

// A query over `table` grouped by `own` (its distribution column): each row's id, raw other-side ids
// and float4 values, as rec.distributed_solve_row and the seen lists take them.
const char *
grouped_rows(const char *table, const char *own, const char *other, const char *value)
{
    return psprintf("SELECT CAST(%s AS pg_catalog.int8) AS o, array_agg(CAST(%s AS pg_catalog.int8)) AS ids, "
                    "array_agg(%s) AS vals FROM %s GROUP BY %s",
                    own, other, value, table, own);
}

constexpr long kFetchRows = 10000;

// Where one half-step's results go.
struct SideResults
{
    const std::vector<int64_t> *ids;  // the side's ids, ascending
    rec::core::LargeVector<float> *factors, *bias;
    int k;
    double *losses;  // per row, or NULL
    int32 *entries;  // per row, or NULL
    size_t solved = 0;
};

// The packed half-step this backend is sending, for rec.distributed_factors.
struct Published
{
    int64 token = 0;
    const char *data = nullptr;
    size_t size = 0;
} published;

constexpr size_t kChunkBytes = size_t(1) << 20;

// An error while sending leaves nothing published past its transaction.
void
forget_published(XactEvent event, void *)
{
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
        published = Published{};
}

// Runs one half-step. The packed factors go to each worker once, as a Citus intermediate result of
// the transaction (broadcast_intermediate_result streams rec.distributed_factors's chunks of them,
// so the coordinator never holds a second copy); then one pushed-down query solves every row on the
// worker holding it, rec.distributed_solve_row reading the result once per worker backend.
void
run_half_step(const char *rows_query, SpiRole role, const rec::core::HalfStepInputs &in, SideResults &out)
{
    const size_t bytes = cpp_call([&] { return rec::core::packed_size(in); });
    char *packed = (char *) MemoryContextAllocHuge(CurrentMemoryContext, bytes);
    cpp_call([&] { rec::core::pack_half_step(in, packed); });
    const char *result_id = psprintf("pg_recommend_%llx", (unsigned long long) in.token);
    static bool callback_registered = false;
    if (!callback_registered)
    {
        RegisterXactCallback(forget_published, nullptr);
        callback_registered = true;
    }
    published = Published{int64(in.token), packed, bytes};
    const SpiSession spi = begin_spi(role);
    Oid broadcast_types[] = {TEXTOID, TEXTOID};
    Datum broadcast[] = {CStringGetTextDatum(result_id),
                         CStringGetTextDatum(psprintf("SELECT rec.distributed_factors(%lld)", (long long) in.token))};
    run_sql(spi, "SELECT pg_catalog.broadcast_intermediate_result($1, $2)", 2, broadcast_types, broadcast,
            SPI_OK_SELECT);
    published = Published{};
    pfree(packed);
    Oid types[] = {TEXTOID};
    Datum values[] = {CStringGetTextDatum(result_id)};
    SPIPlanPtr plan = SPI_prepare_cursor(
        psprintf("SELECT s.o, rec.distributed_solve_row(s.o, s.ids, s.vals, $1) FROM (%s) s", rows_query), 1, types, 0);
    if (plan == nullptr)
        elog(ERROR, "could not prepare a distributed half-step: %s", SPI_result_code_string(SPI_result));
    Portal portal = SPI_cursor_open(nullptr, plan, values, nullptr, false);
    const size_t k = size_t(out.k);
    for (;;)
    {
        SPI_cursor_fetch(portal, true, kFetchRows);
        if (SPI_processed == 0)
            break;
        for (uint64 r = 0; r < SPI_processed; ++r)
        {
            bool isnull;
            const int64 id = DatumGetInt64(result_value(r, 1));
            const Datum solved = result_value(r, 2, &isnull);
            const int64 row = rec::core::find_id(*out.ids, id);
            if (isnull || row < 0)
                continue;
            bytea *encoded = DatumGetByteaPP(solved);
            float bias;
            double loss;
            int64_t entries;
            if (!rec::core::decode_solved_row(VARDATA_ANY(encoded), VARSIZE_ANY_EXHDR(encoded), out.k, &bias,
                                              out.factors->data() + size_t(row) * k, &loss, &entries))
                elog(ERROR, "a worker solved row %lld into %zu bytes, not %zu", (long long) id,
                     VARSIZE_ANY_EXHDR(encoded), rec::core::solved_row_bytes(out.k));
            (*out.bias)[size_t(row)] = bias;
            if (out.losses)
                out.losses[row] = loss;
            if (out.entries)
                out.entries[row] = int32(entries);
            ++out.solved;
        }
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(portal);
    end_spi(spi);
}

// What write_user_rows needs: the trained model and the source's rows by user.
struct UserRows
{
    const RunSql *sql;
    const std::vector<int64_t> *users, *items;
    const rec::core::FactorModel *model;
};

// Each user's row of rec.user_factors: factors from the coordinator, the seen items (merged repeats)
// read from the workers, one user at a time through a cursor. PostgreSQL-style.
void
write_user_rows(int64 model_id, void *arg)
{
    const UserRows &c = *static_cast<const UserRows *>(arg);
    const RunSql &q = *c.sql;
    const int k = c.model->factors;
    const SpiSession spi = begin_spi(SpiRole::Caller);
    SPIPlanPtr plan =
        SPI_prepare_cursor(grouped_rows(q.source, q.user_col, q.item_col, float4_value(q.value)), 0, nullptr, 0);
    if (plan == nullptr)
        elog(ERROR, "could not prepare the seen items' query: %s", SPI_result_code_string(SPI_result));
    Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, false);
    BulkInsert *bulk = begin_user_rows();
    MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "seen items", ALLOCSET_DEFAULT_SIZES);
    for (;;)
    {
        SPI_cursor_fetch(portal, true, kFetchRows);
        if (SPI_processed == 0)
            break;
        for (uint64 r = 0; r < SPI_processed; ++r)
        {
            const int64 user_id = DatumGetInt64(result_value(r, 1));
            const int64 u = rec::core::find_id(*c.users, user_id);
            if (u < 0)
                continue;
            MemoryContext outer = MemoryContextSwitchTo(row_context);
            ArrayType *ids = DatumGetArrayTypePCopy(result_value(r, 2));
            ArrayType *values = DatumGetArrayTypePCopy(result_value(r, 3));
            int64 *seen = (int64 *) ARR_DATA_PTR(ids);
            float4 *seen_values = (float4 *) ARR_DATA_PTR(values);
            size_t count = 0;
            const int n = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
            for (int e = 0; e < n; ++e)  // the items the model has (all, unless rows came meanwhile)
                if (rec::core::find_id(*c.items, seen[e]) >= 0)
                {
                    seen[count] = seen[e];
                    seen_values[count++] = seen_values[e];
                }
            count = cpp_call([&] { return rec::core::merge_repeats(seen, seen_values, count, q.policy); });
            add_user_row(bulk, model_id, user_id, c.model->user_bias[size_t(u)],
                         c.model->user_factors.data() + size_t(u) * size_t(k), k, seen, seen_values, count, nullptr);
            MemoryContextSwitchTo(outer);
            MemoryContextReset(row_context);
        }
        SPI_freetuptable(SPI_tuptable);
    }
    end_bulk_insert(bulk);
    MemoryContextDelete(row_context);
    SPI_cursor_close(portal);
    end_spi(spi);
}

}  // namespace

}  // namespace rec::pg

// rec.distributed_factors(token bigint) RETURNS SETOF bytea: the half-step this backend is sending,
// in chunks of 1 MB, for broadcast_intermediate_result (value per call: no chunk is held twice).
PGREC_FUNCTION(rec_distributed_factors)
{
    using rec::pg::published;
    FuncCallContext *calls;
    if (SRF_IS_FIRSTCALL())
    {
        calls = SRF_FIRSTCALL_INIT();
        if (published.data == nullptr || published.token != PG_GETARG_INT64(0))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("no distributed half-step %lld is being sent by this session",
                                   (long long) PG_GETARG_INT64(0)),
                            errhint("rec.distributed_factors is called by rec.train on a Citus coordinator.")));
    }
    calls = SRF_PERCALL_SETUP();
    const size_t at = size_t(calls->call_cntr) * rec::pg::kChunkBytes;
    if (published.data == nullptr || at >= published.size)
        SRF_RETURN_DONE(calls);
    const size_t bytes = Min(rec::pg::kChunkBytes, published.size - at);
    bytea *chunk = (bytea *) palloc(VARHDRSZ + bytes);
    SET_VARSIZE(chunk, VARHDRSZ + bytes);
    memcpy(VARDATA(chunk), published.data + at, bytes);
    SRF_RETURN_NEXT(calls, PointerGetDatum(chunk));
}

namespace rec::pg {

bool
train_distributed(const char *model_name, const TrainSpec &spec, const SourceSpec &source, const RunOptions &run,
                  const char *coordinator_only)
{
    const char *distributed_by = nullptr, *why_not = nullptr;
    RunSql q{};
    Oid relid = InvalidOid, user_type = InvalidOid, item_type = InvalidOid;
    const bool implicit = spec.algorithm == Algorithm::ImplicitAls;
    pg_call([&] {
        // Without Citus in the database there is nothing to ask (and read_source resolves the name).
        if (source.relation == nullptr || !OidIsValid(get_extension_oid("citus", true)))
            return;  // read_source says what is wrong
        relid = readable_relation(source.relation, &q.source);
        distributed_by = citus_distribution_column(relid);
        if (distributed_by == nullptr)
            return;
        q.user_col = checked_column(source, relid, "user_column", source.user_column, false, &user_type);
        q.item_col = checked_column(source, relid, "item_column", source.item_column, false, &item_type);
        Oid unused;
        q.value = source.rating_column == nullptr && implicit
                      ? "1"
                      : checked_column(source, relid, "rating_column", source.rating_column, true, &unused);
        IdKind user_kind, item_kind;
        id_kind_of_type(user_type, &user_kind);
        id_kind_of_type(item_type, &item_kind);
        if (spec.algorithm == Algorithm::Bpr)
            why_not = "bpr trains on one node";
        else if (is_item_item(spec.algorithm))
            why_not = psprintf("%s trains on one node", spec.algorithm_name);
        else if (spec.algorithm == Algorithm::Als && spec.als.noise_variance > 0)
            why_not = "noise_variance (variational Bayes) trains on one node";
        else if (coordinator_only)
            why_not = coordinator_only;
        else if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
            why_not = "row-level security applies to the caller";
        else if (citus_coordinator_holds_shards(relid))
            why_not = "the coordinator holds shards of it (the factors are sent to the workers only)";
        else if (user_kind != IdKind::Integer || item_kind != IdKind::Integer)
            why_not = "its ids are not integers (text and uuid ids train on one node)";
        else if (strcmp(quote_identifier(distributed_by), q.user_col) != 0)
            why_not = psprintf("it is distributed by %s, not by the user column", quote_identifier(distributed_by));
        if (why_not)
            ereport(NOTICE, (errmsg("%s is distributed by Citus (by %s), but rec.train trains on the coordinator: %s",
                                    q.source, distributed_by, why_not)));
    });
    if (distributed_by == nullptr || why_not != nullptr)
        return false;

    const auto started = std::chrono::steady_clock::now();
    const TimestampTz started_at = GetCurrentTimestamp();
    q.policy = implicit ? rec::core::DuplicatePolicy::Sum : rec::core::DuplicatePolicy::Average;
    SourceStats st;
    std::vector<int64_t> users, items;
    pg_call([&] {
        st = source_stats(q, source, implicit, spec.ials);
        list_ids(q, q.user_col, users);
        list_ids(q, q.item_col, items);
    });
    const int k = spec.factors;
    // The coordinator holds the ids, both sides' factors and one packed copy of them.
    const size_t rows = rec::core::sat_add(users.size(), items.size());
    const size_t held = rec::core::sat_mul(rows, rec::core::sat_add(2 * sizeof(int64_t) + 2 * sizeof(float) + 16,
                                                                    rec::core::sat_mul(size_t(k), 2 * sizeof(float))));
    pg_call([&] {
        if (held > memory_budget_bytes())
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("the factors of %zu users and %zu items take %zu bytes on the coordinator, more "
                                   "than rec.max_memory allows",
                                   users.size(), items.size(), held),
                            errhint("Raise rec.max_memory, or train with fewer factors.")));
        ereport(NOTICE, (errmsg("%s is distributed by Citus: training on the workers, %zu users, %zu items, %zu "
                                "interactions (the rows stay where they are; the factors travel)",
                                q.source, users.size(), items.size(), st.nnz)));
        copy_by_item(q, relid, source);
    });

    rec::core::FactorModel model =
        implicit ? rec::core::initial_implicit_model(users.size(), items.size(), spec.ials)
                 : rec::core::initial_explicit_model(users.size(), items.size(), spec.als, st.value_mean);
    std::vector<double> item_losses(items.size());
    std::vector<int32> item_counts(items.size());
    const char *user_rows = grouped_rows(q.source, q.user_col, q.item_col, float4_value(q.value));
    const char *item_rows = grouped_rows(q.copy, "item_id", "user_id", "value");
    uint64 token = 0;
    pg_call([&] {
        if (!pg_strong_random(&token, sizeof(token)))
            token = uint64(MyProcPid) << 32 ^ uint64(GetCurrentTimestamp());
    });
    BackendHooks hooks(spec.iterations);
    const WorkerThreads workers;  // for the Gram matrices computed here
    rec::core::HalfStepInputs in;
    in.kind = model.kind;
    in.als = spec.als;
    in.ials = spec.ials;
    in.global_mean = st.value_mean;
    in.policy = q.policy;
    const auto half_step = [&](bool by_user) {
        in.token = ++token == 0 ? ++token : token;
        in.other_rows = by_user ? items.size() : users.size();
        in.own_rows = by_user ? users.size() : items.size();
        in.other_ids = (by_user ? items : users).data();
        in.own_ids = (by_user ? users : items).data();
        in.other_factors = (by_user ? model.item_factors : model.user_factors).data();
        in.other_bias = (by_user ? model.item_bias : model.user_bias).data();
        in.own_factors = (by_user ? model.user_factors : model.item_factors).data();
        in.own_bias = (by_user ? model.user_bias : model.item_bias).data();
        // YᵀY + λI once, here, with this run's threads, rather than in every worker backend.
        std::vector<float> gram;
        if (implicit)
        {
            rec::core::ImplicitParams p = spec.ials;
            p.threads = workers.threads();
            gram =
                rec::core::ImplicitHalfStep(by_user ? model.item_factors : model.user_factors, in.other_rows, p, hooks)
                    .gram();
            in.gram = gram.data();
        }
        SideResults out{by_user ? &users : &items,
                        by_user ? &model.user_factors : &model.item_factors,
                        by_user ? &model.user_bias : &model.item_bias,
                        k,
                        by_user ? nullptr : item_losses.data(),
                        by_user ? nullptr : item_counts.data()};
        // The source is read as the caller, the run's copy by item as its owner.
        pg_call([&] {
            run_half_step(by_user ? user_rows : item_rows, by_user ? SpiRole::Caller : SpiRole::Owner, in, out);
        });
    };
    const double unobserved = double(users.size()) * double(items.size()) - double(st.nnz);
    const double total_confidence = double(st.nnz) + st.extra_confidence;
    rec::core::run_iterations(
        model, spec.iterations, hooks,
        implicit
            ? "try a larger regularization or a smaller alpha"
            : "ratings or penalties too large for single-precision factors: try a larger unweighted_regularization",
        [&](int) {
            half_step(true);
            half_step(false);
            double loss = 0;  // in item order, as the single-node trainers sum it
            for (double l : item_losses)
                loss += l;
            if (!implicit)
                return std::sqrt(loss / double(st.nnz));
            double norms = 0;
            for (float v : model.user_factors)
                norms += double(v) * v;
            for (float v : model.item_factors)
                norms += double(v) * v;
            return (loss + spec.ials.regularization * norms) / (total_confidence + unobserved);
        });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    UserRows user_rows_arg{&q, &users, &items, &model};
    DistributedShape shape{users.data(), items.data(),       users.size(),    items.size(),
                           st.nnz,       item_counts.data(), write_user_rows, &user_rows_arg};
    pg_call([&] {
        drop_copy(q);
        ModelToStore store{model_name,
                           spec.algorithm_name,
                           q.source,
                           spec.hyperparameters,
                           source.user_column,
                           source.item_column,
                           source.rating_column,
                           st.rating_min,
                           st.rating_max,
                           seconds,
                           nullptr,
                           &model,
                           user_type,
                           item_type,
                           nullptr,
                           nullptr};
        store.distributed = &shape;
        const StoredVersion stored = store_model(store);
        if (run.deploy)
            record_deployment(model_name, stored.model_id);
        ereport(NOTICE, (errmsg("trained model \"%s\" version %d (%s) on the Citus workers: %zu users, %zu items, "
                                "%zu interactions, %d iterations, %s %.4f, %.2f s training, %.2f s in all",
                                model_name, stored.version, run.deploy ? "deployed" : "not deployed", users.size(),
                                items.size(), st.nnz, model.iterations, model.train_metric, model.train_value, seconds,
                                double(GetCurrentTimestamp() - started_at) / 1e6)));
    });
    return true;
}

}  // namespace rec::pg
