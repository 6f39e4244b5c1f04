// The one place that reads users' tables: resolves a source name once to an OID, checks its columns,
// and streams (user, item, rating) rows through an SPI cursor as the calling user, so privileges and
// row-level security apply exactly as to the caller's own SELECT.
#pragma once
#include "pg/ids.hpp"

#include "core/interactions.hpp"

#include <cstddef>
#include <cstdint>

namespace rec::pg {

struct SourceSpec
{
    const char *relation = nullptr;
    const char *user_column = nullptr;
    const char *item_column = nullptr;
    const char *rating_column = nullptr;
    bool rating_optional = false;  // a NULL rating_column then means every row counts 1
    // Recency: a timestamp, timestamptz or date column, or a number of seconds (epoch); NULL: none.
    const char *time_column = nullptr;
    // Only the rows of these users (or, with only_items, items); an empty result is then no error.
    const int64_t *only_ids = nullptr;
    size_t only_count = 0;
    bool only_items = false;
    // ... or, for a text or uuid column, those ids' texts.
    const char *const *only_keys = nullptr;
    // The id types of the caller's model (refreshes, evaluation, validation): a column holding
    // another kind of ids is refused. InvalidOid: any.
    Oid expect_user_type = InvalidOid, expect_item_type = InvalidOid;
    const char *model_name = nullptr;  // for that error message
    // Profiling (rec.profile): rows with a NULL are counted here and skipped, NaN and infinite
    // values kept, and an empty source is no error. NULL: such rows are errors.
    struct SourceDefects *defects = nullptr;
    const char *function = "rec.train";  // the SQL function reading, for hints
};

// What a profiling read skipped.
struct SourceDefects
{
    size_t null_users = 0, null_items = 0, null_values = 0, null_times = 0;
};

// palloc'd in the caller's memory context.
struct SourceRows
{
    int64_t *users = nullptr;
    int64_t *items = nullptr;
    float *ratings = nullptr;
    size_t count = 0;
    float rating_min = 0, rating_max = 0;
    double *times = nullptr;         // with a time_column: each row's time in seconds since the epoch
    double time_max = 0;             // the newest
    char *qualified_name = nullptr;  // schema-qualified and quoted, as resolved
    Oid user_type = InvalidOid, item_type = InvalidOid;  // the columns' base types
    IdKind user_kind = IdKind::Integer, item_kind = IdKind::Integer;
    KeyDictionary user_keys{nullptr, nullptr, 0}, item_keys{nullptr, nullptr, 0};  // for Text and Uuid kinds
};

// An id as the user knows it (the text of a text or uuid id), for messages.
const char *display_id(const SourceRows &rows, bool items, int64 id);

// Implicit feedback: values are counts or strengths, never negative; raises 22000 for the first
// negative one.
void refuse_negative_values(const SourceRows &rows, const char *relation);

// Bytes each row costs while held in memory (and its time, with a time_column).
constexpr size_t kBytesPerSourceRow = rec::core::kBytesPerTriplet;
constexpr size_t kBytesPerSourceTime = sizeof(double);

// A time column's value in seconds since the epoch, as SQL: `column` quoted, `type` its base type.
// Raises 42804 for a type that is no time.
const char *time_expression(const char *relation, const char *column, Oid type, const char *function);

// Checks that `column` (the argument `role`) exists in the source `relid` with a type fit for ids, or
// with `numeric` for values; returns its quoted name and, in *type, its base type.
const char *checked_column(const SourceSpec &spec, Oid relid, const char *role, const char *column, bool numeric,
                           Oid *type);

// PostgreSQL-style: raises errors with ereport. Refuses to hold more than `max_bytes` of rows.
SourceRows read_source(const SourceSpec &spec, size_t max_bytes);

}  // namespace rec::pg
