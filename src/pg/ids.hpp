// Ids, the one module that knows them: which SQL types may hold ids, how text and uuid ids become
// the 64-bit ids the core trains on (a portable hash of their text, core/key_id.hpp, with each id's
// text kept in a dictionary that detects two texts with one hash), and how a served model's ids
// become SQL values again. Integer ids are served as they are; text and uuid ids are stored as hashes
// with the texts beside them, so a query passes and gets back the ids it knows, in the SQL type it
// asks for. PostgreSQL-style: raises errors.
#pragma once
#include "pg/model_image.hpp"

namespace rec::pg {

// How a column's ids are read: integers as they are; text (text, varchar) and uuid ids as the 64-bit
// hash of their text form.
enum class IdKind
{
    Integer,
    Text,
    Uuid,
};

// The kind of ids a column of this (base) type holds; false if ids cannot have this type.
bool id_kind_of_type(Oid type, IdKind *kind);
const char *id_kind_name(IdKind kind);
// Whether ids of this type are stored as hashes with their texts (text, varchar, uuid).
bool is_keyed_type(Oid type);

// id (the hash) -> the id's text, for the distinct ids of a text or uuid column.
struct KeyDictionary
{
    HTAB *table;
    MemoryContext context;  // of the texts
    int64 total_bytes;      // the texts' lengths summed
};

KeyDictionary new_key_dictionary(MemoryContext context);

// The 64-bit id of a source value of this kind; a text or uuid id's text is recorded in `keys`, and
// two different texts with one hash are refused (22000, naming the column and relation).
int64 read_id(IdKind kind, Datum value, KeyDictionary &keys, const char *relation, const char *column);

// The text of a hashed id, or NULL if the dictionary does not have it.
const char *key_text(const KeyDictionary &keys, int64 id, int32 *length);

// Dense index of the user (or item) id `value`, of SQL type `type`, in a served model; -1 if the
// model does not know it. Any type whose text form is an id is accepted: a uuid model takes a uuid
// or its text, an integer model any integer type (or a text that reads as one).
int64 user_index_of(const ServedModel *m, Datum value, Oid type);
int64 item_index_of(const ServedModel *m, Datum value, Oid type);

// An array argument of item ids (candidates, exclude) as dense item indexes of the model; ids it does
// not know and NULL elements are left out, and `extra_room` more indexes fit after them. `given` says
// whether the argument was passed at all (an empty candidates array allows nothing; NULL, everything).
struct ItemList
{
    int32 *indexes;
    size_t count;
    bool given;
};
ItemList item_list_arg(FunctionCallInfo fcinfo, int arg, const char *name, const ServedModel *m, size_t extra_room = 0);

// One byte per model item (palloc'd): 1 if it may be returned (a candidate, when candidates are
// given, and not excluded), else 0.
char *allowed_items(const ServedModel *m, const ItemList &candidates, const ItemList &excluded);

// The id the model uses for the user (or item) id `value`, whether or not the model has it, and for
// text and uuid ids its text in the model's form (*key; NULL for integer ids).
int64 model_id_of(const ServedModel *m, bool items, Datum value, Oid type, const char **key);

// The stored text of user (or item) `index` of a model with text or uuid ids; *length its bytes.
const char *stored_key(const ServedModel *m, bool items, int64 index, int32 *length);

// The id of user (or item) `index` as a value of SQL type `type`: the result column's, from the
// function's declared (or resolved polymorphic) result.
Datum user_id_value(const ServedModel *m, int64 index, Oid type);
Datum item_id_value(const ServedModel *m, int64 index, Oid type);

// Raises 42804 when ids would be returned as a type that is no id type, or the model's text or uuid ids
// as an integer type; then `hint` is a format whose one %s, if any, names the model's id type (built
// only on error: rec.recommend calls this per query).
void check_id_result_type(const ServedModel *m, bool items, Oid type, const char *hint);

}  // namespace rec::pg
