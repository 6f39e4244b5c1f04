// The one place that reads users' tables: resolves a source name once to an OID, checks its columns,
// and streams (user, item, rating) rows through an SPI cursor as the calling user, so privileges and
// row-level security apply exactly as to the caller's own SELECT.
#pragma once
#include "pg/postgres_headers.hpp"

#include <cstddef>
#include <cstdint>

namespace rec::pg {

// How a source column's ids are read: integers as they are; text (text, varchar) and uuid ids as
// the 64-bit hash of their text form (core/key_id.hpp), each id's text kept in a KeyDictionary.
enum class IdKind
{
    Integer,
    Text,
    Uuid,
};

// The kind of ids a column of this (base) type holds; false if ids cannot have this type.
bool id_kind_of_type(Oid type, IdKind *kind);
const char *id_kind_name(IdKind kind);

// id (the hash) -> the id's text, for the distinct ids of a text or uuid column.
struct KeyDictionary
{
    HTAB *table;
    MemoryContext context;  // of the texts
    int64 total_bytes;      // the texts' lengths summed
};

// The text of a hashed id, or NULL if the dictionary does not have it.
const char *key_text(const KeyDictionary &keys, int64 id, int32 *length);

struct SourceSpec
{
    const char *relation = nullptr;
    const char *user_column = nullptr;
    const char *item_column = nullptr;
    const char *rating_column = nullptr;
    bool rating_optional = false;  // a NULL rating_column then means every row counts 1
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
};

// palloc'd in the caller's memory context.
struct SourceRows
{
    int64_t *users = nullptr;
    int64_t *items = nullptr;
    float *ratings = nullptr;
    size_t count = 0;
    float rating_min = 0, rating_max = 0;
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

// Bytes each row costs while held in memory.
constexpr size_t kBytesPerSourceRow = 2 * sizeof(int64_t) + sizeof(float);

// PostgreSQL-style: raises errors with ereport. Refuses to hold more than `max_bytes` of rows.
SourceRows read_source(const SourceSpec &spec, size_t max_bytes);

}  // namespace rec::pg
