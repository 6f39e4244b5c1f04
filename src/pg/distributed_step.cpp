// rec.distributed_solve_row: what a Citus worker runs in each half-step of a distributed training
// (distributed_train.cpp), once per row of its shards: the row's new bias and factors from its raw
// interactions and the half-step packed by the coordinator (core/distributed_step.hpp). The packed
// half-step is the same value for every row of a query; it is unpacked once per backend and kept
// until the transaction ends.
#include "pg/bridge.hpp"
#include "pg/host_hooks.hpp"

#include <memory>

#include "core/distributed_step.hpp"

namespace {

std::unique_ptr<rec::core::RowSolver> cached_solver;
bool reset_registered = false;

void
forget_solver(XactEvent event, void *)
{
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
        cached_solver.reset();
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

// rec.distributed_solve_row(own_id bigint, ids bigint[], vals real[], half_step bytea) RETURNS float8[]:
// [bias, factor 1 .. k, the row's loss, its entries after merging repeats], or NULL if the half-step
// does not know the row.
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
    // Every row of a query passes the same packed half-step: its token, read from the first bytes
    // alone, says whether it is unpacked already (a whole copy per row would cost more than the solve).
    const size_t header = rec::core::packed_header_bytes();
    bytea *head = PG_GETARG_BYTEA_P_SLICE(3, 0, int32(header));
    const uint64_t token = rec::core::packed_token(VARDATA(head), VARSIZE(head) - VARHDRSZ);
    rec::pg::BackendHooks hooks;
    if (!cached_solver || token == 0 || cached_solver->token() != token)
    {
        cached_solver.reset();
        bytea *packed = nullptr;
        rec::pg::pg_call([&] { packed = PG_GETARG_BYTEA_PP(3); });
        cached_solver = std::make_unique<rec::core::RowSolver>(VARDATA_ANY(packed), VARSIZE_ANY_EXHDR(packed), hooks);
    }
    rec::core::SolvedRow row;
    if (!cached_solver->solve(PG_GETARG_INT64(0), ids, values, size_t(count), row, hooks))
        PG_RETURN_NULL();
    const int k = int(row.factors.size());
    ArrayType *result = nullptr;
    rec::pg::pg_call([&] {
        Datum *out = (Datum *) palloc(sizeof(Datum) * size_t(k + 3));
        out[0] = Float8GetDatum(row.bias);
        for (int f = 0; f < k; ++f)
            out[f + 1] = Float8GetDatum(row.factors[size_t(f)]);
        out[k + 1] = Float8GetDatum(row.loss);
        out[k + 2] = Float8GetDatum(double(row.entries));
        result = construct_array(out, k + 3, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    });
    PG_RETURN_ARRAYTYPE_P(result);
}
