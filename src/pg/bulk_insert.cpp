#include "pg/bulk_insert.hpp"

namespace rec::pg {

namespace {

constexpr int kBatchRows = 1000;       // rows per multi-insert; the slots are reused
constexpr Size kBatchBytes = 4 << 20;  // or fewer when the rows are large

}  // namespace

struct BulkInsert
{
    Relation table;
    EState *estate;
    ResultRelInfo *result;
    BulkInsertState state;
    CommandId command;
    TupleTableSlot *slots[kBatchRows];
    int filled;
    MemoryContext rows;
};

BulkInsert *
begin_bulk_insert(Oid relid)
{
    BulkInsert *bulk = (BulkInsert *) palloc0(sizeof(BulkInsert));
    bulk->table = table_open(relid, RowExclusiveLock);
    bulk->estate = CreateExecutorState();
    bulk->result = makeNode(ResultRelInfo);
    InitResultRelInfo(bulk->result, bulk->table, 1, nullptr, 0);
    ExecOpenIndices(bulk->result, false);
    bulk->state = GetBulkInsertState();
    bulk->command = GetCurrentCommandId(true);
    for (TupleTableSlot *&slot : bulk->slots)
        slot = table_slot_create(bulk->table, nullptr);
    bulk->rows = AllocSetContextCreate(CurrentMemoryContext, "pg_recommend bulk rows", ALLOCSET_DEFAULT_SIZES);
    return bulk;
}

namespace {

void
flush(BulkInsert *bulk)
{
    if (bulk->filled == 0)
        return;
    table_multi_insert(bulk->table, bulk->slots, bulk->filled, bulk->command, 0, bulk->state);
    if (bulk->result->ri_NumIndices > 0)
    {
        ExprContext *econtext = GetPerTupleExprContext(bulk->estate);
        for (int s = 0; s < bulk->filled; ++s)
        {
            ResetExprContext(econtext);
            List *recheck = REC_EXEC_INSERT_INDEX_TUPLES(bulk->result, bulk->slots[s], bulk->estate);
            list_free(recheck);
        }
    }
    for (int s = 0; s < bulk->filled; ++s)
        ExecClearTuple(bulk->slots[s]);
    bulk->filled = 0;
    MemoryContextReset(bulk->rows);
    CHECK_FOR_INTERRUPTS();
}

}  // namespace

TupleTableSlot *
next_bulk_slot(BulkInsert *bulk)
{
    TupleTableSlot *slot = bulk->slots[bulk->filled];
    ExecClearTuple(slot);
    return slot;
}

void
add_bulk_row(BulkInsert *bulk)
{
    ExecStoreVirtualTuple(bulk->slots[bulk->filled]);
    ++bulk->filled;
    if (bulk->filled == kBatchRows || MemoryContextMemAllocated(bulk->rows, true) > kBatchBytes)
        flush(bulk);
}

MemoryContext
bulk_row_context(BulkInsert *bulk)
{
    return bulk->rows;
}

void
end_bulk_insert(BulkInsert *bulk)
{
    flush(bulk);
    for (TupleTableSlot *slot : bulk->slots)
        ExecDropSingleTupleTableSlot(slot);
    FreeBulkInsertState(bulk->state);
    ExecCloseIndices(bulk->result);
    FreeExecutorState(bulk->estate);
    table_close(bulk->table, NoLock);  // the lock is kept until the transaction ends
    MemoryContextDelete(bulk->rows);
    pfree(bulk);
}

}  // namespace rec::pg
