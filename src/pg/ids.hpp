// A model's user and item ids as SQL values. Integer ids are served as they are; text and uuid ids
// are stored as hashes of their texts (core/key_id.hpp) with the texts beside them, so a query passes
// and gets back the ids it knows, in the SQL type it asks for. PostgreSQL-style: raises errors.
#pragma once
#include "pg/model_store.hpp"

namespace rec::pg {

// Dense index of the user (or item) id `value`, of SQL type `type`, in a loaded model; -1 if the
// model does not know it. Any type whose text form is an id is accepted: a uuid model takes a uuid
// or its text, an integer model any integer type (or a text that reads as one).
int64 user_index_of(const LoadedModel *m, Datum value, Oid type);
int64 item_index_of(const LoadedModel *m, Datum value, Oid type);

// The id the model uses for the user (or item) id `value`, whether or not the model has it, and for
// text and uuid ids its text in the model's form (*key; NULL for integer ids).
int64 model_id_of(const LoadedModel *m, bool items, Datum value, Oid type, const char **key);

// The stored text of user (or item) `index` of a model with text or uuid ids; *length its bytes.
const char *stored_key(const LoadedModel *m, bool items, int64 index, int32 *length);

// The id of user (or item) `index` as a value of SQL type `type`: the result column's, from the
// function's declared (or resolved polymorphic) result.
Datum user_id_value(const LoadedModel *m, int64 index, Oid type);
Datum item_id_value(const LoadedModel *m, int64 index, Oid type);

// Raises 42804 when ids would be returned as a type that is no id type, or the model's text or uuid ids
// as an integer type; then `hint` is a format whose one %s, if any, names the model's id type (built
// only on error: rec.recommend calls this per query).
void check_id_result_type(const LoadedModel *m, bool items, Oid type, const char *hint);

// The elements of an array argument of any type (an unknown literal such as '{a,b}' is read as
// text[]); raises 42804 for a non-array. NULL elements are left out.
struct ArrayValues
{
    Datum *values;
    int count;
    Oid element_type;
};
ArrayValues array_values(Datum array, Oid type, const char *argument);

}  // namespace rec::pg
