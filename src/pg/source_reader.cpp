#include "pg/source_reader.hpp"
#include "pg/safe_sql.hpp"

#include "core/key_id.hpp"

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

// Checks that `column` exists in `relid` with an acceptable type; returns its quoted name and, in
// *type, its base type.
const char *
checked_column(Oid relid, const char *relation, const char *role, const char *column, bool numeric, Oid *type_out)
{
    if (column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", role)));
    const AttrNumber attnum = get_attnum(relid, column);
    if (attnum == InvalidAttrNumber || attnum < 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in \"%s\"", column, relation),
                        errhint("Name the column with the %s argument of rec.train.", role)));
    const Oid type = getBaseType(get_atttype(relid, attnum));
    IdKind kind;
    if (numeric ? !is_numeric_type(type) : !id_kind_of_type(type, &kind))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" has type %s, but %s must be %s", column, format_type_be(type), role,
                               numeric ? "a number" : "an integer, text or uuid"),
                        numeric ? errhint("Cast it in a view over the source.")
                                : errhint("Ids may be smallint, integer, bigint, text, varchar or uuid; cast other "
                                          "types in a view over the source.")));
    *type_out = type;
    return quote_identifier(get_attname(relid, attnum, false));
}

struct KeyEntry
{
    int64 id;  // hash key: first
    int32 length;
    char *text;
};

KeyDictionary
new_key_dictionary(MemoryContext context)
{
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(int64);
    ctl.entrysize = sizeof(KeyEntry);
    ctl.hcxt = context;
    return KeyDictionary{hash_create("pg_recommend ids", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT), context, 0};
}

// The id of a text or uuid id's text form, recorded in `keys`. Two different texts with one hash
// would be one user (or item) to the model: refused.
int64
hashed_id(KeyDictionary &keys, const char *text, int32 length, const char *relation, const char *column)
{
    const int64 id = rec::core::key_id(text, size_t(length));
    bool found;
    KeyEntry *entry = (KeyEntry *) hash_search(keys.table, &id, HASH_ENTER, &found);
    if (!found)
    {
        entry->length = length;
        entry->text = (char *) MemoryContextAlloc(keys.context, size_t(length) + 1);
        memcpy(entry->text, text, size_t(length));
        entry->text[length] = '\0';
        keys.total_bytes += length;
    }
    else if (entry->length != length || memcmp(entry->text, text, size_t(length)) != 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("ids \"%s\" and \"%.*s\" of column \"%s\" in \"%s\" have the same 64-bit hash",
                               entry->text, length, text, column, relation),
                        errhint("pg_recommend identifies text and uuid ids by a hash; map one of them to "
                                "another id in a view.")));
    return id;
}

template <typename T>
T *
grow(T *array, size_t new_count)
{
    const Size bytes = sizeof(T) * new_count;
    return array ? (T *) repalloc_huge(array, bytes) : (T *) MemoryContextAllocHuge(CurrentMemoryContext, bytes);
}

}  // namespace

bool
id_kind_of_type(Oid type, IdKind *kind)
{
    if (is_integer_type(type))
        *kind = IdKind::Integer;
    else if (type == TEXTOID || type == VARCHAROID)
        *kind = IdKind::Text;
    else if (type == UUIDOID)
        *kind = IdKind::Uuid;
    else
        return false;
    return true;
}

const char *
id_kind_name(IdKind kind)
{
    return kind == IdKind::Integer ? "integer" : (kind == IdKind::Text ? "text" : "uuid");
}

const char *
key_text(const KeyDictionary &keys, int64 id, int32 *length)
{
    const KeyEntry *entry = keys.table ? (const KeyEntry *) hash_search(keys.table, &id, HASH_FIND, nullptr) : nullptr;
    if (entry == nullptr)
        return nullptr;
    *length = entry->length;
    return entry->text;
}

namespace {

int64
read_id(IdKind kind, Datum value, KeyDictionary &keys, const char *relation, const char *column)
{
    if (kind == IdKind::Integer)
        return DatumGetInt64(value);
    const text *t = DatumGetTextPP(value);
    return hashed_id(keys, VARDATA_ANY(t), int32(VARSIZE_ANY_EXHDR(t)), relation, column);
}

}  // namespace

const char *
display_id(const SourceRows &rows, bool items, int64 id)
{
    int32 length;
    const char *text = key_text(items ? rows.item_keys : rows.user_keys, id, &length);
    return text ? text : psprintf("%lld", (long long) id);
}

void
refuse_negative_values(const SourceRows &rows, const char *relation)
{
    for (size_t r = 0; r < rows.count; ++r)
        if (rows.ratings[r] < 0)
            ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                            errmsg("source \"%s\" has a negative value %g for user %s, item %s", relation,
                                   double(rows.ratings[r]), display_id(rows, false, rows.users[r]),
                                   display_id(rows, true, rows.items[r])),
                            errhint("Implicit feedback values are counts or strengths >= 0; filter or clamp "
                                    "negative ones in a view.")));
}

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
    const char *user_col =
        checked_column(relid, spec.relation, "user_column", spec.user_column, false, &out.user_type);
    const char *item_col =
        checked_column(relid, spec.relation, "item_column", spec.item_column, false, &out.item_type);
    Oid unused;
    const char *rating_col =
        (spec.rating_column == nullptr && spec.rating_optional)
            ? "1"
            : checked_column(relid, spec.relation, "rating_column", spec.rating_column, true, &unused);
    id_kind_of_type(out.user_type, &out.user_kind);
    id_kind_of_type(out.item_type, &out.item_kind);
    for (int side = 0; side < 2; ++side)
    {
        const Oid expected_type = side == 0 ? spec.expect_user_type : spec.expect_item_type;
        const IdKind kind = side == 0 ? out.user_kind : out.item_kind;
        IdKind expected = kind;
        if (OidIsValid(expected_type))
            id_kind_of_type(expected_type, &expected);
        if (expected != kind)
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("column \"%s\" of \"%s\" has %s ids, but model \"%s\" was trained on %s ids",
                                   side == 0 ? spec.user_column : spec.item_column, spec.relation,
                                   id_kind_name(kind), spec.model_name ? spec.model_name : "", id_kind_name(expected)),
                            errhint("Use a column of the type the model was trained on.")));
    }
    const auto read_as = [](const char *column, IdKind kind) {
        return psprintf(kind == IdKind::Integer ? "CAST(%s AS pg_catalog.int8)" : "CAST(%s AS pg_catalog.text)",
                        column);
    };
    // The filter compares the column itself with an array (int8[] for integers, else of the column's
    // own type), so an index on the column serves it.
    const bool filtered = spec.only_ids != nullptr || spec.only_keys != nullptr;
    const char *filter_column = spec.only_items ? item_col : user_col;
    const Oid filter_column_type = spec.only_items ? out.item_type : out.user_type;
    const bool filter_by_keys = spec.only_keys != nullptr;
    const char *where = !filtered ? ""
                         : filter_by_keys
                             ? psprintf(" WHERE %s OPERATOR(pg_catalog.=) ANY (CAST($1 AS %s[]))", filter_column,
                                        format_type_extended(filter_column_type, -1, FORMAT_TYPE_FORCE_QUALIFY))
                             : psprintf(" WHERE %s OPERATOR(pg_catalog.=) ANY ($1)", filter_column);
    const char *query = psprintf("SELECT %s, %s, CAST(%s AS pg_catalog.float8) FROM %s%s",
                                 read_as(user_col, out.user_kind), read_as(item_col, out.item_kind), rating_col,
                                 out.qualified_name, where);
    if (out.user_kind != IdKind::Integer)
        out.user_keys = new_key_dictionary(CurrentMemoryContext);
    if (out.item_kind != IdKind::Integer)
        out.item_keys = new_key_dictionary(CurrentMemoryContext);

    MemoryContext result_context = CurrentMemoryContext;
    size_t capacity = 0;
    const int search_path_level = pin_search_path();
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Oid filter_type[] = {filter_by_keys ? Oid(TEXTARRAYOID) : Oid(INT8ARRAYOID)};
    SPIPlanPtr plan = SPI_prepare(query, filtered ? 1 : 0, filter_type);
    if (plan == nullptr)
        elog(ERROR, "could not prepare the source query: %s", SPI_result_code_string(SPI_result));
    Datum filter[1] = {0};
    if (filtered)
    {
        Datum *elements = (Datum *) palloc(sizeof(Datum) * Max(spec.only_count, (size_t) 1));
        for (size_t e = 0; e < spec.only_count; ++e)
            elements[e] = filter_by_keys ? CStringGetTextDatum(spec.only_keys[e]) : Int64GetDatum(spec.only_ids[e]);
        filter[0] = PointerGetDatum(filter_by_keys ? construct_array(elements, int(spec.only_count), TEXTOID, -1,
                                                                     false, TYPALIGN_INT)
                                                   : construct_array(elements, int(spec.only_count), INT8OID,
                                                                     sizeof(int64), true, TYPALIGN_DOUBLE));
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
                                errdetail("Row %llu of the source.", (unsigned long long) (out.count + row + 1)),
                                errhint("NaN and infinite ratings cannot be learned; filter them out in a view.")));
            const size_t at = out.count + row;
            out.users[at] = read_id(out.user_kind, user, out.user_keys, spec.relation, spec.user_column);
            out.items[at] = read_id(out.item_kind, item, out.item_keys, spec.relation, spec.item_column);
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
