#include "pg/args.hpp"

#include <cmath>

namespace rec::pg {

const char *
text_arg(FunctionCallInfo fcinfo, int arg)
{
    return PG_ARGISNULL(arg) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

const char *
required_text_arg(FunctionCallInfo fcinfo, int arg, const char *name)
{
    if (PG_ARGISNULL(arg))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", name)));
    return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

Oid
arg_type(FunctionCallInfo fcinfo, int arg)
{
    const Oid type = get_fn_expr_argtype(fcinfo->flinfo, arg);
    if (type == InvalidOid)
        elog(ERROR, "could not determine the type of argument %d", arg + 1);
    return type;
}

int
checked_n(FunctionCallInfo fcinfo, int arg)
{
    if (PG_ARGISNULL(arg) || PG_GETARG_INT32(arg) < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("n must be a number >= 0"),
                        errhint("n is how many rows to return.")));
    return PG_GETARG_INT32(arg);
}

double
interval_seconds_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function)
{
    if (PG_ARGISNULL(arg))
        return 0;
    const Interval *span = PG_GETARG_INTERVAL_P(arg);
    const double seconds = double(span->time) / double(USECS_PER_SEC) + double(span->day) * SECS_PER_DAY +
                           double(span->month) * DAYS_PER_MONTH * SECS_PER_DAY;
    if (!(seconds > 0) || !std::isfinite(seconds))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be a positive interval, not %s", name,
                               DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(arg)))),
                        errhint("For example %s => interval '7 days' in %s.", name, function)));
    return seconds;
}

ArrayValues
array_values(Datum array, Oid type, const char *argument)
{
    if (type == UNKNOWNOID)
    {
        Oid input, io_param;
        getTypeInputInfo(TEXTARRAYOID, &input, &io_param);
        array = OidInputFunctionCall(input, DatumGetCString(array), io_param, -1);
        type = TEXTARRAYOID;
    }
    const Oid element_type = get_element_type(getBaseType(type));
    if (element_type == InvalidOid)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("%s must be an array, not %s", argument, format_type_be(type))));
    int16 length;
    bool by_value;
    char align;
    get_typlenbyvalalign(element_type, &length, &by_value, &align);
    Datum *elements;
    bool *nulls;
    int count;
    deconstruct_array(DatumGetArrayTypeP(array), element_type, length, by_value, align, &elements, &nulls, &count);
    ArrayValues out{elements, 0, element_type};
    for (int e = 0; e < count; ++e)
        if (!nulls[e])
            out.values[out.count++] = elements[e];
    return out;
}

ArrayValues
array_arg(FunctionCallInfo fcinfo, int arg, const char *argument)
{
    if (PG_ARGISNULL(arg))
        return ArrayValues{nullptr, 0, InvalidOid};
    return array_values(PG_GETARG_DATUM(arg), arg_type(fcinfo, arg), argument);
}

namespace {

// A one-dimensional array of a fixed-width by-value type without NULLs, copied in one piece (as
// construct_array builds it, without a Datum per element).
Datum
flat_array(const void *values, size_t count, Oid element_type, size_t element_size)
{
    if (count == 0)
        return PointerGetDatum(construct_empty_array(element_type));
    if (count > MaxArraySize)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("array of %zu elements is too large", count)));
    const Size bytes = ARR_OVERHEAD_NONULLS(1) + count * element_size;
    ArrayType *array = (ArrayType *) palloc(bytes);
    memset(array, 0, ARR_OVERHEAD_NONULLS(1));  // no uninitialised padding reaches a table
    SET_VARSIZE(array, bytes);
    array->ndim = 1;
    array->dataoffset = 0;
    array->elemtype = element_type;
    ARR_DIMS(array)[0] = int(count);
    ARR_LBOUND(array)[0] = 1;
    memcpy(ARR_DATA_PTR(array), values, count * element_size);
    return PointerGetDatum(array);
}

}  // namespace

Datum
float_array(const float *values, size_t count)
{
    return flat_array(values, count, FLOAT4OID, sizeof(float4));
}

Datum
integer_array(const int32 *values, size_t count)
{
    return flat_array(values, count, INT4OID, sizeof(int32));
}

Datum
bigint_array(const int64 *values, size_t count)
{
    return flat_array(values, count, INT8OID, sizeof(int64));
}

}  // namespace rec::pg
