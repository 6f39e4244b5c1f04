#include "pg/source_reader.hpp"
#include "pg/citus.hpp"
#include "pg/safe_sql.hpp"
#include "pg/spi_session.hpp"

#include <cmath>

namespace rec::pg {

namespace {

bool
is_numeric_type(Oid type)
{
    return type == INT2OID || type == INT4OID || type == INT8OID || type == FLOAT4OID || type == FLOAT8OID ||
           type == NUMERICOID;
}

}  // namespace

const char *
checked_column(const SourceSpec &spec, Oid relid, const char *role, const char *column, bool numeric, Oid *type_out)
{
    if (column == nullptr)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", role)));
    const AttrNumber attnum = get_attnum(relid, column);
    if (attnum == InvalidAttrNumber || attnum < 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist in \"%s\"", column, spec.relation),
                        errhint("Name the column with the %s argument of %s.", role, spec.function)));
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

const char *
time_expression(const char *relation, const char *column, Oid type, const char *function)
{
    if (type == TIMESTAMPOID || type == TIMESTAMPTZOID || type == DATEOID)
        return psprintf("CAST(EXTRACT(EPOCH FROM %s) AS pg_catalog.float8)", column);
    if (is_numeric_type(type))
        return psprintf("CAST(%s AS pg_catalog.float8)", column);
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("column %s of \"%s\" has type %s, but time_column must be a timestamp, timestamptz, date "
                           "or a number of seconds since 1970",
                           column, relation, format_type_be(type)),
                    errhint("Cast it in a view over the source, or name another column in the time_column argument "
                            "of %s.",
                            function)));
    return nullptr;
}

namespace {

template <typename T>
T *
grow(T *array, size_t new_count)
{
    const Size bytes = sizeof(T) * new_count;
    return array ? (T *) repalloc_huge(array, bytes) : (T *) MemoryContextAllocHuge(CurrentMemoryContext, bytes);
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

namespace {

// Receives the source query's rows straight from the executor (no SPI tuple table in between): each
// row's ids and value are checked and appended to the arrays of `out`.
struct RowReceiver
{
    DestReceiver base;  // first: the executor sees this
    const SourceSpec *spec;
    SourceRows *out;
    MemoryContext context;  // of the arrays
    size_t capacity;
    size_t max_rows, max_bytes;
};

bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
    RowReceiver *r = (RowReceiver *) self;
    SourceRows &out = *r->out;
    const SourceSpec &spec = *r->spec;
    slot_getallattrs(slot);
    const bool *nulls = slot->tts_isnull;
    const bool timed = spec.time_column != nullptr;
    if (spec.defects && (nulls[0] || nulls[1] || nulls[2] || (timed && nulls[3])))
    {
        SourceDefects &d = *spec.defects;
        d.null_users += nulls[0];
        d.null_items += nulls[1];
        d.null_values += nulls[2];
        d.null_times += timed && nulls[3];
        return true;
    }
    if (nulls[0] || nulls[1] || nulls[2] || (timed && nulls[3]))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("source \"%s\" has a NULL in column \"%s\"", spec.relation,
                               nulls[0]   ? spec.user_column
                               : nulls[1] ? spec.item_column
                               : nulls[2] ? spec.rating_column
                                          : spec.time_column),
                        errhint("Filter NULLs out in a view, or fill them in.")));
    const double time = timed ? DatumGetFloat8(slot->tts_values[3]) : 0;
    if (!std::isfinite(time) && !spec.defects)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("source \"%s\" has an infinite time in column \"%s\"", spec.relation, spec.time_column),
                        errhint("Filter rows with infinite times out in a view.")));
    const double value = DatumGetFloat8(slot->tts_values[2]);
    if ((!std::isfinite(value) || !std::isfinite(float(value))) && !spec.defects)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("source \"%s\" has a rating that is not a finite number: %g", spec.relation, value),
                        errdetail("Row %zu of the source.", out.count + 1),
                        errhint("NaN and infinite ratings cannot be learned; filter them out in a view.")));
    if (out.count == r->capacity)
    {
        if (out.count >= r->max_rows)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("source \"%s\" has more rows than rec.max_memory allows", spec.relation),
                            errdetail("Holding %zu rows takes %zu bytes; rec.max_memory is %zu bytes.", out.count + 1,
                                      (out.count + 1) * kBytesPerSourceRow, r->max_bytes),
                            errhint("Raise rec.max_memory, or train on a sample.")));
        r->capacity = Min(Max(r->capacity * 2, (size_t) 65536), r->max_rows);
        MemoryContext outer = MemoryContextSwitchTo(r->context);
        out.users = grow(out.users, r->capacity);
        out.items = grow(out.items, r->capacity);
        out.ratings = grow(out.ratings, r->capacity);
        if (timed)
            out.times = grow(out.times, r->capacity);
        MemoryContextSwitchTo(outer);
    }
    const size_t at = out.count++;
    out.users[at] = read_id(out.user_kind, slot->tts_values[0], out.user_keys, spec.relation, spec.user_column);
    out.items[at] = read_id(out.item_kind, slot->tts_values[1], out.item_keys, spec.relation, spec.item_column);
    out.ratings[at] = float(value);
    if (timed)
    {
        out.times[at] = time;
        if (at == 0 || time > out.time_max)
            out.time_max = time;
    }
    if (at == 0 || float(value) < out.rating_min)
        out.rating_min = float(value);
    if (at == 0 || float(value) > out.rating_max)
        out.rating_max = float(value);
    return true;
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
    if (const char *distributed_by = citus_distribution_column(relid))
        ereport(NOTICE, (errmsg("%s is distributed by Citus (by %s): %s reads its rows through the coordinator", quoted,
                                distributed_by, spec.function),
                         errdetail("Training and evaluation run on the coordinator, which holds every row read.")));
    const char *user_col = checked_column(spec, relid, "user_column", spec.user_column, false, &out.user_type);
    const char *item_col = checked_column(spec, relid, "item_column", spec.item_column, false, &out.item_type);
    Oid unused;
    const char *rating_col = (spec.rating_column == nullptr && spec.rating_optional)
                                 ? "1"
                                 : checked_column(spec, relid, "rating_column", spec.rating_column, true, &unused);
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
                                   side == 0 ? spec.user_column : spec.item_column, spec.relation, id_kind_name(kind),
                                   spec.model_name ? spec.model_name : "", id_kind_name(expected)),
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
    const char *time_col = "";
    if (spec.time_column)
    {
        Oid time_type;
        const AttrNumber attnum = get_attnum(relid, spec.time_column);
        if (attnum == InvalidAttrNumber || attnum < 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("column \"%s\" does not exist in \"%s\"", spec.time_column, spec.relation),
                            errhint("Name the column with the time_column argument of %s.", spec.function)));
        time_type = getBaseType(get_atttype(relid, attnum));
        time_col = psprintf(", %s", time_expression(spec.relation, quote_identifier(get_attname(relid, attnum, false)),
                                                    time_type, spec.function));
    }
    const char *query =
        psprintf("SELECT %s, %s, CAST(%s AS pg_catalog.float8)%s FROM %s%s", read_as(user_col, out.user_kind),
                 read_as(item_col, out.item_kind), rating_col, time_col, out.qualified_name, where);
    if (out.user_kind != IdKind::Integer)
        out.user_keys = new_key_dictionary(CurrentMemoryContext);
    if (out.item_kind != IdKind::Integer)
        out.item_keys = new_key_dictionary(CurrentMemoryContext);

    RowReceiver receiver;
    memset(&receiver, 0, sizeof(receiver));
    receiver.base.receiveSlot = receive_row;
    receiver.base.rStartup = [](DestReceiver *, int, TupleDesc) {
    };
    receiver.base.rShutdown = [](DestReceiver *) {
    };
    receiver.base.rDestroy = [](DestReceiver *) {
    };
    receiver.base.mydest = DestNone;
    receiver.spec = &spec;
    receiver.out = &out;
    receiver.context = CurrentMemoryContext;
    receiver.max_rows = max_bytes / (kBytesPerSourceRow + (spec.time_column ? kBytesPerSourceTime : 0));
    receiver.max_bytes = max_bytes;

    const SpiSession spi = begin_spi(SpiRole::Caller);
    // The plan may be parallel where the planner finds it cheaper (a view with costly rows, many cores):
    // the workers share this backend's snapshot and rights. It is not forced: on two cores a parallel
    // sequential scan read synth10m in 1.9 s against 1.3 s for this backend alone, which must receive
    // every row anyway (docs/benchmarks.md).
    Oid filter_type[] = {filter_by_keys ? Oid(TEXTARRAYOID) : Oid(INT8ARRAYOID)};
    SPIPlanPtr plan = SPI_prepare_cursor(query, filtered ? 1 : 0, filter_type, filtered ? 0 : CURSOR_OPT_PARALLEL_OK);
    if (plan == nullptr)
        elog(ERROR, "could not prepare the source query: %s", SPI_result_code_string(SPI_result));
    SPIExecuteOptions options;
    memset(&options, 0, sizeof(options));
    if (filtered)
    {
        Datum *elements = (Datum *) palloc(sizeof(Datum) * Max(spec.only_count, (size_t) 1));
        for (size_t e = 0; e < spec.only_count; ++e)
            elements[e] = filter_by_keys ? CStringGetTextDatum(spec.only_keys[e]) : Int64GetDatum(spec.only_ids[e]);
        options.params = makeParamList(1);
        options.params->numParams = 1;
        ParamExternData &param = options.params->params[0];
        param.value = PointerGetDatum(
            filter_by_keys
                ? construct_array(elements, int(spec.only_count), TEXTOID, -1, false, TYPALIGN_INT)
                : construct_array(elements, int(spec.only_count), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
        param.isnull = false;
        param.pflags = PARAM_FLAG_CONST;
        param.ptype = filter_type[0];
    }
    options.read_only = true;  // the statement's snapshot: one consistent state of the source
    options.dest = &receiver.base;
    // A SELECT into a receiver of its own (DestNone) reports SPI_OK_UTILITY.
    const int rc = SPI_execute_plan_extended(plan, &options);
    if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
        elog(ERROR, "reading the source failed: %s", SPI_result_code_string(rc));
    end_spi(spi);
    if (out.count == 0 && !filtered && !spec.defects)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("source \"%s\" has no rows", spec.relation),
                        errhint("A model needs at least one rating to learn from.")));
    return out;
}

}  // namespace rec::pg
