// Reading SQL function arguments: the helpers every SQL entry point shares. PostgreSQL-style: errors
// are raised with ereport and name the argument.
#pragma once
#include "pg/postgres_headers.hpp"

namespace rec::pg {

// A text argument as a C string, or NULL when the argument is NULL.
const char *text_arg(FunctionCallInfo fcinfo, int arg);

// A text argument that must not be NULL (22004 naming it otherwise).
const char *required_text_arg(FunctionCallInfo fcinfo, int arg, const char *name);

// The SQL type of argument `arg` as called (an "any" or polymorphic argument's actual type).
Oid arg_type(FunctionCallInfo fcinfo, int arg);

// A row count argument n: NULL or negative is 22023.
int checked_n(FunctionCallInfo fcinfo, int arg);

// The elements of an array argument of any type (an unknown literal such as '{a,b}' is read as
// text[]); raises 42804 for a non-array. NULL elements are left out.
struct ArrayValues
{
    Datum *values;
    int count;
    Oid element_type;
};
ArrayValues array_values(Datum array, Oid type, const char *argument);

// Argument `arg` as an array (see array_values), or no elements when it is NULL.
ArrayValues array_arg(FunctionCallInfo fcinfo, int arg, const char *argument);

// An interval argument in seconds (a month counted 30 days, as EXTRACT(EPOCH FROM interval) does); 0
// when NULL. Raises 22023, naming the argument and `function`, unless it is finite and > 0.
double interval_seconds_arg(FunctionCallInfo fcinfo, int arg, const char *name, const char *function);

// SQL arrays from C arrays, for arguments of pg_recommend's own statements and stored rows.
Datum float_array(const float *values, size_t count);
Datum integer_array(const int32 *values, size_t count);
Datum bigint_array(const int64 *values, size_t count);

}  // namespace rec::pg
