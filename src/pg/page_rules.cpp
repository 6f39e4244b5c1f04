#include "pg/page_rules.hpp"
#include "pg/args.hpp"
#include "pg/ids.hpp"
#include "pg/safe_sql.hpp"
#include "pg/spi_session.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

namespace rec::pg {

namespace {

// A group table is read again after a minute: catalogues change by the day, and reading it per call
// would put a query on every page view.
constexpr double kRefreshSeconds = 60;
constexpr int kCachedTables = 8;

struct CachedGroups
{
    Oid relid = InvalidOid;
    int64 model_id = 0;
    int32 n_items = -1;
    TimestampTz read_at = 0;
    std::unique_ptr<rec::core::ItemGroups> groups;
};

CachedGroups cached[kCachedTables];

struct Membership
{
    int32 item;
    const char *group;
};

// The groups of every item of the model in `relid` (first column: item id, second: group).
rec::core::ItemGroups *
read_groups(const ServedModel *m, Oid relid, const char *quoted, const char *table)
{
    Relation relation = relation_open(relid, NoLock);  // locked by readable_relation
    TupleDesc desc = RelationGetDescr(relation);
    AttrNumber columns[2] = {0, 0};
    int found = 0;
    for (int a = 0; a < desc->natts && found < 2; ++a)
        if (!TupleDescAttr(desc, a)->attisdropped)
            columns[found++] = AttrNumber(a + 1);
    relation_close(relation, NoLock);
    if (found < 2)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("group_table \"%s\" must have two columns: the item id and its group", table),
                        errhint("For example a table movie_genres (item_id, genre).")));
    const char *query =
        psprintf("SELECT %s, CAST(%s AS pg_catalog.text) FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL",
                 quote_identifier(get_attname(relid, columns[0], false)),
                 quote_identifier(get_attname(relid, columns[1], false)), quoted,
                 quote_identifier(get_attname(relid, columns[0], false)),
                 quote_identifier(get_attname(relid, columns[1], false)));
    MemoryContext caller = CurrentMemoryContext;
    const SpiSession spi = begin_spi(SpiRole::Caller);
    run_sql(spi, query, 0, nullptr, nullptr, SPI_OK_SELECT);
    const Oid id_type = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
    const size_t rows = size_t(SPI_processed);
    Membership *members = (Membership *) MemoryContextAlloc(caller, sizeof(Membership) * (rows + 1));
    size_t kept = 0;
    for (size_t r = 0; r < rows; ++r)
    {
        bool null;
        const Datum id = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &null);
        const int64 index = item_index_of(m, id, id_type);
        if (index < 0)
            continue;  // not in the model: never served, nothing to cap
        members[kept].item = int32(index);
        members[kept].group =
            MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2));
        ++kept;
    }
    end_spi(spi);
    // Groups numbered by their text, then compressed by item. Plain C arrays until the end: nothing
    // below raises a PostgreSQL error while a C++ object lives.
    std::sort(members, members + kept,
              [](const Membership &a, const Membership &b) { return strcmp(a.group, b.group) < 0; });
    int32 *group_of = (int32 *) palloc(sizeof(int32) * (kept + 1));
    int32 groups = 0;
    for (size_t r = 0; r < kept; ++r)
    {
        if (r > 0 && strcmp(members[r].group, members[r - 1].group) != 0)
            ++groups;
        group_of[r] = groups;
    }
    auto out = std::make_unique<rec::core::ItemGroups>();
    out->group_count = kept > 0 ? groups + 1 : 0;
    out->offsets.assign(size_t(m->n_items) + 1, 0);
    for (size_t r = 0; r < kept; ++r)
        ++out->offsets[size_t(members[r].item) + 1];
    for (size_t i = 0; i < size_t(m->n_items); ++i)
        out->offsets[i + 1] += out->offsets[i];
    out->groups.resize(kept);
    std::vector<int64_t> next(out->offsets.begin(), out->offsets.end() - 1);
    for (size_t r = 0; r < kept; ++r)
        out->groups[size_t(next[size_t(members[r].item)]++)] = group_of[r];
    return out.release();
}

const rec::core::ItemGroups *
item_groups(const ServedModel *m, const char *table)
{
    const char *quoted;
    const Oid relid = readable_relation(table, &quoted);
    const TimestampTz now = GetCurrentTimestamp();
    CachedGroups *slot = &cached[0];
    for (CachedGroups &c : cached)
    {
        if (c.relid == relid && c.model_id == m->model_id && c.n_items == m->n_items)
        {
            if (double(now - c.read_at) / USECS_PER_SEC < kRefreshSeconds)
                return c.groups.get();
            slot = &c;
            break;
        }
        if (c.read_at < slot->read_at)
            slot = &c;
    }
    slot->relid = InvalidOid;  // invalid until read
    slot->groups.reset(read_groups(m, relid, quoted, table));
    slot->relid = relid;
    slot->model_id = m->model_id;
    slot->n_items = m->n_items;
    slot->read_at = now;
    return slot->groups.get();
}

}  // namespace

rec::core::RerankOptions
page_rules_arg(FunctionCallInfo fcinfo, int diversity_arg, int group_table_arg, int limit_arg, const ServedModel *m,
               const char *function)
{
    rec::core::RerankOptions options;
    if (limit_arg >= PG_NARGS())
        return options;
    if (!PG_ARGISNULL(diversity_arg))
    {
        const double diversity = PG_GETARG_FLOAT4(diversity_arg);
        if (!(diversity >= 0 && diversity <= 1))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("diversity must be between 0 and 1, not %g", diversity),
                            errhint("0 ranks by relevance alone, 1 picks each next item as unlike the ones before "
                                    "as possible (%s).",
                                    function)));
        if (diversity > 0 && m->model.k == 0)
            ereport(ERROR,
                    (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("diversity does not apply to item-item models"),
                     errhint("%s re-ranks by the cosine of item factors, which ease and itemknn models do "
                             "not have; pass diversity 0, or use group_table and per_group_limit.",
                             function)));
        options.diversity = diversity;
    }
    const char *table = text_arg(fcinfo, group_table_arg);
    const bool limited = !PG_ARGISNULL(limit_arg);
    if ((table != nullptr) != limited)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("group_table and per_group_limit go together"),
                        errhint("For at most two items of a genre: group_table => 'movie_genres', "
                                "per_group_limit => 2 in %s.",
                                function)));
    if (!limited)
        return options;
    const int32 limit = PG_GETARG_INT32(limit_arg);
    if (limit < 1)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("per_group_limit must be at least 1, not %d", limit),
                 errhint("It is how many items of one group %s may return.", function)));
    options.per_group_limit = limit;
    options.groups = item_groups(m, table);
    return options;
}

size_t
rerank_pool_size(size_t n, size_t items)
{
    return std::min(items, std::max(5 * n, n + 50));
}

}  // namespace rec::pg
