// The one place that reads users' tables: resolves a source name once to an OID, checks its columns,
// and streams (user, item, rating) rows through an SPI cursor as the calling user, so privileges and
// row-level security apply exactly as to the caller's own SELECT.
#pragma once
#include "pg/postgres_headers.hpp"

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
    // Only the rows of these users (or, with only_items, items); an empty result is then no error.
    const int64_t *only_ids = nullptr;
    size_t only_count = 0;
    bool only_items = false;
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
};

// Bytes each row costs while held in memory.
constexpr size_t kBytesPerSourceRow = 2 * sizeof(int64_t) + sizeof(float);

// PostgreSQL-style: raises errors with ereport. Refuses to hold more than `max_bytes` of rows.
SourceRows read_source(const SourceSpec &spec, size_t max_bytes);

}  // namespace rec::pg
