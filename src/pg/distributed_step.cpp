// rec.distributed_solve_row: what a Citus worker runs in each half-step of a distributed training
// (distributed_train.cpp), once per row of its shards: the row's new bias and factors from its raw
// interactions and the half-step packed by the coordinator (core/distributed_step.hpp), which Citus
// delivered to this worker as an intermediate result of the transaction (named in the call). It is
// read and unpacked once per backend and kept until the transaction ends.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"
#include "pg/spi_session.hpp"

#include <memory>
#include <string>
#include <vector>

#include "core/distributed_step.hpp"

namespace {

std::unique_ptr<rec::core::RowSolver> cached_solver;
std::string cached_result_id;  // the intermediate result it was unpacked from
bool reset_registered = false;

void
forget_solver(XactEvent event, void *)
{
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
    {
        cached_solver.reset();
        cached_result_id.clear();
    }
}

// An int8[] or float4[] argument without NULLs: its elements and count.
template <typename T>
const T *
array_elements(FunctionCallInfo fcinfo, int arg, Oid type, const char *name, int *count)
{
    ArrayType *array = PG_GETARG_ARRAYTYPE_P(arg);
    if (ARR_ELEMTYPE(array) != type || ARR_NDIM(array) > 1 || ARR_HASNULL(array))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be a one-dimensional array without NULLs", name),
                        errhint("rec.distributed_solve_row is called by rec.train on Citus workers, not directly.")));
    *count = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
    return (const T *) ARR_DATA_PTR(array);
}

}  // namespace

// rec.distributed_solve_row(own_id bigint, ids bigint[], vals real[], half_step text) RETURNS bytea:
// the row's bias, factors, loss and entries after merging repeats (core's encode_solved_row), or NULL
// if the half-step does not know the row.
PGREC_FUNCTION(rec_distributed_solve_row)
{
    int count, value_count;
    const int64 *ids = array_elements<int64>(fcinfo, 1, INT8OID, "ids", &count);
    const float4 *values = array_elements<float4>(fcinfo, 2, FLOAT4OID, "vals", &value_count);
    if (count != value_count)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("ids and vals differ in length"),
                        errhint("rec.distributed_solve_row is called by rec.train on Citus workers, not directly.")));
    if (!reset_registered)
    {
        RegisterXactCallback(forget_solver, nullptr);
        reset_registered = true;
    }
    // Every row of a query names the same packed half-step, an intermediate result the coordinator
    // broadcast to this worker: read and unpacked once per backend.
    const char *result_id = text_to_cstring(PG_GETARG_TEXT_PP(3));
    rec::pg::BackendHooks hooks;
    if (!cached_solver || cached_result_id != result_id)
    {
        cached_solver.reset();
        cached_result_id.clear();
        std::vector<char> packed;
        rec::pg::pg_call([&] {
            const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
            Oid types[] = {TEXTOID};
            Datum values[] = {CStringGetTextDatum(result_id)};
            rec::pg::run_sql(spi,
                             "SELECT c FROM pg_catalog.read_intermediate_result($1, 'binary') AS r(c pg_catalog.bytea)",
                             1, types, values, SPI_OK_SELECT);
            size_t total = 0;
            for (uint64 r = 0; r < SPI_processed; ++r)
                total += VARSIZE_ANY_EXHDR(DatumGetByteaPP(rec::pg::result_value(r, 1)));
            packed.reserve(total);
            for (uint64 r = 0; r < SPI_processed; ++r)
            {
                bytea *chunk = DatumGetByteaPP(rec::pg::result_value(r, 1));
                packed.insert(packed.end(), VARDATA_ANY(chunk), VARDATA_ANY(chunk) + VARSIZE_ANY_EXHDR(chunk));
            }
            rec::pg::end_spi(spi);
        });
        cached_solver = std::make_unique<rec::core::RowSolver>(packed.data(), packed.size(), hooks);
        cached_result_id = result_id;
    }
    rec::core::SolvedRow row;
    if (!cached_solver->solve(PG_GETARG_INT64(0), ids, values, size_t(count), row, hooks))
        PG_RETURN_NULL();
    const size_t bytes = rec::core::solved_row_bytes(int(row.factors.size()));
    bytea *result = nullptr;
    rec::pg::pg_call([&] { result = (bytea *) palloc(VARHDRSZ + bytes); });
    SET_VARSIZE(result, VARHDRSZ + bytes);
    rec::core::encode_solved_row(row, VARDATA(result));
    PG_RETURN_BYTEA_P(result);
}
