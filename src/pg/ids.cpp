#include "pg/ids.hpp"
#include "pg/args.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/key_id.hpp"

namespace rec::pg {

namespace {

bool
is_integer_type(Oid type)
{
    return type == INT8OID || type == INT4OID || type == INT2OID;
}

bool
is_text_type(Oid type)
{
    return type == TEXTOID || type == VARCHAROID;
}

bool
is_id_type(Oid type)
{
    return is_integer_type(type) || is_text_type(type) || type == UUIDOID;
}

struct KeyEntry
{
    int64 id;  // hash key: first
    int32 length;
    char *text;
};

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

bool
is_keyed_type(Oid type)
{
    IdKind kind;
    return id_kind_of_type(type, &kind) && kind != IdKind::Integer;
}

KeyDictionary
new_key_dictionary(MemoryContext context)
{
    HASHCTL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.keysize = sizeof(int64);
    ctl.entrysize = sizeof(KeyEntry);
    ctl.hcxt = context;
    return KeyDictionary{hash_create("pg_recommend ids", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT), context,
                         0};
}

int64
read_id(IdKind kind, Datum value, KeyDictionary &keys, const char *relation, const char *column)
{
    if (kind == IdKind::Integer)
        return DatumGetInt64(value);
    const text *t = DatumGetTextPP(value);
    return hashed_id(keys, VARDATA_ANY(t), int32(VARSIZE_ANY_EXHDR(t)), relation, column);
}

namespace {

// One side (users or items) of a loaded model.
struct IdSide
{
    bool items;
    bool keyed;
    Oid type;
    const int64 *ids;
    int32 count;
    const int64 *key_offsets;
    const char *key_text;
};

IdSide
side_of(const ServedModel *m, bool items)
{
    return items ? IdSide{true,       m->item_keyed,       m->item_type,    m->item_ids,
                          m->n_items, m->item_key_offsets, m->item_key_text}
                 : IdSide{false,      m->user_keyed,       m->user_type,    m->user_ids,
                          m->n_users, m->user_key_offsets, m->user_key_text};
}

// The text form of a value of any type (for text: its bytes, not copied).
const char *
text_form(Datum value, Oid type, int32 *length)
{
    if (is_text_type(type))
    {
        const text *t = DatumGetTextPP(value);
        *length = int32(VARSIZE_ANY_EXHDR(t));
        return VARDATA_ANY(t);
    }
    Oid output;
    bool varlena;
    getTypeOutputInfo(type, &output, &varlena);
    const char *out = OidOutputFunctionCall(output, value);
    *length = int32(strlen(out));
    return out;
}

// Ids are integers, text or uuid, as training accepts them (or an untyped literal): a value of any
// other type (a timestamp, a numeric) is a mistake, not an id to look up. Returns the type to read the
// value as (a domain's base type). The catalog is consulted only for types that are not ids themselves.
Oid
id_argument_type(const IdSide &side, Oid type)
{
    if (is_id_type(type) || type == UNKNOWNOID)
        return type;
    const Oid base = getBaseType(type);
    if (is_id_type(base))
        return base;
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("%s ids must be integers, text or uuid, not %s", side.items ? "item" : "user",
                           format_type_be(type)),
                    errhint("This model's %s ids are %s.", side.items ? "item" : "user", format_type_be(side.type))));
    pg_unreachable();
}

// The model's id for `value` and, for text and uuid ids, its text (not NUL-terminated: *length bytes).
int64
id_and_text(const IdSide &side, Datum value, Oid type, const char **key, int32 *length)
{
    *key = nullptr;
    *length = 0;
    type = id_argument_type(side, type);
    if (!side.keyed)
    {
        if (type == INT8OID)
            return DatumGetInt64(value);
        if (type == INT4OID)
            return DatumGetInt32(value);
        if (type == INT2OID)
            return DatumGetInt16(value);
        int32 form_length;
        const char *form = text_form(value, type, &form_length);
        const char *text = pnstrdup(form, size_t(form_length));
        char *end;
        errno = 0;
        const long long parsed = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0')
            ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                            errmsg("\"%s\" is not %s id of this model", text, side.items ? "an item" : "a user"),
                            errdetail("The model was trained on %s ids.", format_type_be(side.type)),
                            errhint("Pass an integer id.")));
        return parsed;
    }
    const char *form = text_form(value, type, length);
    // Another type's text (a uuid given as text, say) is put in the model's canonical form first.
    if (side.type == UUIDOID && type != UUIDOID)
    {
        const Datum uuid = DirectFunctionCall1(uuid_in, CStringGetDatum(pnstrdup(form, size_t(*length))));
        form = DatumGetCString(DirectFunctionCall1(uuid_out, uuid));
        *length = int32(strlen(form));
    }
    *key = form;
    return rec::core::key_id(form, size_t(*length));
}

int64
index_of(const ServedModel *m, bool items, Datum value, Oid type)
{
    const IdSide side = side_of(m, items);
    const char *key;
    int32 length;
    const int64 id = id_and_text(side, value, type, &key, &length);
    const int64 *at = std::lower_bound(side.ids, side.ids + side.count, id);
    if (at == side.ids + side.count || *at != id)
        return -1;
    const int64 index = at - side.ids;
    if (!side.keyed)
        return index;
    // A different id with the same hash is not this one.
    const int64 begin = side.key_offsets[index], stored = side.key_offsets[index + 1] - begin;
    return (stored == length && memcmp(side.key_text + begin, key, size_t(length)) == 0) ? index : -1;
}

Datum
from_text(const char *text, int32 length, Oid type)
{
    if (is_text_type(type))
        return PointerGetDatum(cstring_to_text_with_len(text, length));
    Oid input, io_param;
    getTypeInputInfo(type, &input, &io_param);
    return OidInputFunctionCall(input, pnstrdup(text, size_t(length)), io_param, -1);
}

Datum
id_value(const ServedModel *m, bool items, int64 index, Oid type)
{
    const IdSide side = side_of(m, items);
    if (side.keyed)
    {
        const int64 begin = side.key_offsets[index];
        return from_text(side.key_text + begin, int32(side.key_offsets[index + 1] - begin), type);
    }
    const int64 id = side.ids[index];
    switch (type)
    {
        case INT8OID:
            return Int64GetDatum(id);
        case INT4OID:
            if (id < PG_INT32_MIN || id > PG_INT32_MAX)
                break;
            return Int32GetDatum(int32(id));
        case INT2OID:
            if (id < PG_INT16_MIN || id > PG_INT16_MAX)
                break;
            return Int16GetDatum(int16(id));
        default:
        {
            const char *text = psprintf("%lld", (long long) id);
            return from_text(text, int32(strlen(text)), type);
        }
    }
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("%s id %lld does not fit in type %s", items ? "item" : "user", (long long) id,
                           format_type_be(type)),
                    errhint("Pass the id argument as bigint, so that results are bigint.")));
    pg_unreachable();
}

}  // namespace

int64
model_id_of(const ServedModel *m, bool items, Datum value, Oid type, const char **key)
{
    int32 length;
    const int64 id = id_and_text(side_of(m, items), value, type, key, &length);
    if (*key != nullptr)
        *key = pnstrdup(*key, size_t(length));
    return id;
}

const char *
stored_key(const ServedModel *m, bool items, int64 index, int32 *length)
{
    const IdSide side = side_of(m, items);
    const int64 begin = side.key_offsets[index];
    *length = int32(side.key_offsets[index + 1] - begin);
    return side.key_text + begin;
}

int64
user_index_of(const ServedModel *m, Datum value, Oid type)
{
    return index_of(m, false, value, type);
}

int64
item_index_of(const ServedModel *m, Datum value, Oid type)
{
    return index_of(m, true, value, type);
}

Datum
user_id_value(const ServedModel *m, int64 index, Oid type)
{
    return id_value(m, false, index, type);
}

Datum
item_id_value(const ServedModel *m, int64 index, Oid type)
{
    return id_value(m, true, index, type);
}

void
check_id_result_type(const ServedModel *m, bool items, Oid type, const char *hint)
{
    const IdSide side = side_of(m, items);
    const Oid base = is_id_type(type) ? type : getBaseType(type);
    if (!is_id_type(base))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("%s ids cannot be returned as %s", items ? "item" : "user", format_type_be(type)),
                        errhint("Ids are integers, text or uuid; this model's are %s.", format_type_be(side.type))));
    if (side.keyed && is_integer_type(base))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("this model's %s ids are %s, not %s", items ? "item" : "user", format_type_be(side.type),
                               format_type_be(type)),
                        errhint(hint, format_type_be(side.type))));
}

ItemList
item_list_arg(FunctionCallInfo fcinfo, int arg, const char *name, const ServedModel *m, size_t extra_room)
{
    const ArrayValues ids = array_arg(fcinfo, arg, name);
    ItemList list{nullptr, 0, !PG_ARGISNULL(arg)};
    list.indexes = (int32 *) palloc(sizeof(int32) * (size_t(ids.count) + extra_room + 1));
    for (int e = 0; e < ids.count; ++e)
    {
        const int64 index = item_index_of(m, ids.values[e], ids.element_type);
        if (index >= 0)
            list.indexes[list.count++] = int32(index);
    }
    return list;
}

char *
allowed_items(const ServedModel *m, const ItemList &candidates, const ItemList &excluded)
{
    char *allowed = (char *) palloc(size_t(m->n_items) + 1);
    memset(allowed, candidates.given ? 0 : 1, size_t(m->n_items));
    for (size_t c = 0; c < candidates.count; ++c)
        allowed[candidates.indexes[c]] = 1;
    for (size_t e = 0; e < excluded.count; ++e)
        allowed[excluded.indexes[e]] = 0;
    return allowed;
}

}  // namespace rec::pg
