#include "pg/source_reader.hpp"
#include "pg/safe_sql.hpp"

#include <cmath>

namespace rec::pg {

namespace {

constexpr long kFetchRows = 10000;

bool
is_integer_type(Oid type)
{
    return type == INT2OID || type == INT4OID || type == INT8OID;
}

bool
is_numeric_type(Oid type)
{
    return is_integer_type(type) || type == FLOAT4OID || type == FLOAT8OID || type == NUMERICOID;
}

// Checks that `column` exists in `relid` with an acceptable type; returns its quoted name.
const char *
checked_column(Oid relid, const char *relation, const char *role, const char *column, bool numeric)
{
    if (column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", role)));
    const AttrNumber attnum = get_attnum(relid, column);
    if (attnum == InvalidAttrNumber || attnum < 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in \"%s\"", column, relation),
                        errhint("Name the column with the %s argument of rec.train.", role)));
    const Oid type = getBaseType(get_atttype(relid, attnum));
    if (numeric ? !is_numeric_type(type) : !is_integer_type(type))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" has type %s, but %s must be %s", column, format_type_be(type), role,
                               numeric ? "a number" : "an integer (smallint, integer or bigint)"),
                        numeric ? errhint("Cast it in a view over the source.")
                                : errhint("Map the ids to integers in a view, for example with a dense_rank() "
                                          "over a join; text and uuid ids are planned.")));
    return quote_identifier(get_attname(relid, attnum, false));
}

template <typename T>
T *
grow(T *array, size_t new_count)
{
    const Size bytes = sizeof(T) * new_count;
    return array ? (T *) repalloc_huge(array, bytes) : (T *) MemoryContextAllocHuge(CurrentMemoryContext, bytes);
}

}  // namespace

SourceRows
read_source(const SourceSpec &spec, size_t max_bytes)
{
    if (spec.relation == nullptr)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("source must not be NULL")));
    // Resolved once, with the caller's search_path, then only the OID is used.
    SourceRows out;
    const char *quoted;
    const Oid relid = readable_relation(spec.relation, &quoted);
    out.qualified_name = pstrdup(quoted);
    const char *user_col = checked_column(relid, spec.relation, "user_column", spec.user_column, false);
    const char *item_col = checked_column(relid, spec.relation, "item_column", spec.item_column, false);
    const char *rating_col = (spec.rating_column == nullptr && spec.rating_optional)
                                 ? "1"
                                 : checked_column(relid, spec.relation, "rating_column", spec.rating_column, true);
    // The filter compares the column itself with an int8[] (a cross-type comparison), so an index on
    // the column serves it.
    const bool filtered = spec.only_ids != nullptr;
    const char *query = psprintf("SELECT CAST(%s AS pg_catalog.int8), CAST(%s AS pg_catalog.int8), "
                                 "CAST(%s AS pg_catalog.float8) FROM %s%s%s%s",
                                 user_col, item_col, rating_col, out.qualified_name, filtered ? " WHERE " : "",
                                 filtered ? (spec.only_items ? item_col : user_col) : "",
                                 filtered ? " OPERATOR(pg_catalog.=) ANY ($1)" : "");

    MemoryContext result_context = CurrentMemoryContext;
    size_t capacity = 0;
    const int search_path_level = pin_search_path();
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Oid filter_type[] = {INT8ARRAYOID};
    SPIPlanPtr plan = SPI_prepare(query, filtered ? 1 : 0, filter_type);
    if (plan == nullptr)
        elog(ERROR, "could not prepare the source query: %s", SPI_result_code_string(SPI_result));
    Datum filter[1] = {0};
    if (filtered)
    {
        Datum *elements = (Datum *) palloc(sizeof(Datum) * Max(spec.only_count, (size_t) 1));
        for (size_t e = 0; e < spec.only_count; ++e)
            elements[e] = Int64GetDatum(spec.only_ids[e]);
        filter[0] = PointerGetDatum(
            construct_array(elements, int(spec.only_count), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
    }
    Portal portal = SPI_cursor_open(nullptr, plan, filter, nullptr, true);
    while (true)
    {
        CHECK_FOR_INTERRUPTS();
        SPI_cursor_fetch(portal, true, kFetchRows);
        const uint64 fetched = SPI_processed;
        if (fetched == 0)
            break;
        SPITupleTable *table = SPI_tuptable;
        MemoryContext spi_context = MemoryContextSwitchTo(result_context);
        if (out.count + fetched > capacity)
        {
            capacity = Max(capacity * 2, out.count + fetched);
            if (capacity > max_bytes / kBytesPerSourceRow)
                capacity = Max(out.count + fetched, max_bytes / kBytesPerSourceRow);
            if ((out.count + fetched) > max_bytes / kBytesPerSourceRow)
                ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                                errmsg("source \"%s\" has more rows than rec.max_memory allows", spec.relation),
                                errdetail("Holding %zu rows takes %zu bytes; rec.max_memory is %zu bytes.",
                                          (size_t) (out.count + fetched),
                                          (size_t) (out.count + fetched) * kBytesPerSourceRow, max_bytes),
                                errhint("Raise rec.max_memory, or train on a sample.")));
            out.users = grow(out.users, capacity);
            out.items = grow(out.items, capacity);
            out.ratings = grow(out.ratings, capacity);
        }
        MemoryContextSwitchTo(spi_context);
        for (uint64 row = 0; row < fetched; ++row)
        {
            HeapTuple tuple = table->vals[row];
            bool user_null, item_null, rating_null;
            const Datum user = SPI_getbinval(tuple, table->tupdesc, 1, &user_null);
            const Datum item = SPI_getbinval(tuple, table->tupdesc, 2, &item_null);
            const Datum rating = SPI_getbinval(tuple, table->tupdesc, 3, &rating_null);
            if (user_null || item_null || rating_null)
                ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                                errmsg("source \"%s\" has a NULL in column \"%s\"", spec.relation,
                                       user_null ? spec.user_column
                                                 : (item_null ? spec.item_column : spec.rating_column)),
                                errhint("Filter NULLs out in a view, or fill them in.")));
            const double value = DatumGetFloat8(rating);
            if (!std::isfinite(value) || !std::isfinite(float(value)))
                ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                                errmsg("source \"%s\" has a rating that is not a finite number: %g",
                                       spec.relation, value),
                                errdetail("User %lld, item %lld.", (long long) DatumGetInt64(user),
                                          (long long) DatumGetInt64(item)),
                                errhint("NaN and infinite ratings cannot be learned; filter them out in a view.")));
            const size_t at = out.count + row;
            out.users[at] = DatumGetInt64(user);
            out.items[at] = DatumGetInt64(item);
            out.ratings[at] = float(value);
            if (at == 0 || float(value) < out.rating_min)
                out.rating_min = float(value);
            if (at == 0 || float(value) > out.rating_max)
                out.rating_max = float(value);
        }
        out.count += fetched;
        SPI_freetuptable(table);
    }
    SPI_cursor_close(portal);
    SPI_finish();
    restore_search_path(search_path_level);
    if (out.count == 0 && !filtered)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("source \"%s\" has no rows", spec.relation),
                        errhint("A model needs at least one rating to learn from.")));
    return out;
}

}  // namespace rec::pg
