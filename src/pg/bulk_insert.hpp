// Rows into a table in bulk, as COPY writes them: the heap's multi-insert (one WAL record per batch),
// then each row's index entries (unique keys checked). For tables only pg_recommend writes (models)
// or has just created (recommend_all's target): no triggers, rules or row-level security apply, and
// the caller has checked the rights. PostgreSQL-style code.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

struct BulkInsert;

// Opens `relid` (locked RowExclusiveLock until the transaction ends) for bulk inserts.
BulkInsert *begin_bulk_insert(Oid relid);

// The slot to fill for the next row: set tts_values/tts_isnull for every column, allocating any
// by-reference value in bulk_row_context(), then call add_bulk_row.
TupleTableSlot *next_bulk_slot(BulkInsert *bulk);
void add_bulk_row(BulkInsert *bulk);

// Emptied after every batch: the place for a row's by-reference values.
MemoryContext bulk_row_context(BulkInsert *bulk);

// Writes what is left and closes the table.
void end_bulk_insert(BulkInsert *bulk);

}  // namespace rec::pg
