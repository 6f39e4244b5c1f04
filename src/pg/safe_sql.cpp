#include "pg/safe_sql.hpp"

namespace rec::pg {

int
pin_search_path()
{
    const int level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                             false);
    return level;
}

void
restore_search_path(int level)
{
    AtEOXact_GUC(true, level);
}

const char *
new_table_name(const char *name, const char *argument)
{
    if (name == nullptr)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", argument)));
    List *names = REC_STRING_TO_QUALIFIED_NAME_LIST(name);
    RangeVar *target = makeRangeVarFromNameList(names);
    const Oid schema = RangeVarGetCreationNamespace(target);
    if (OidIsValid(get_relname_relid(target->relname, schema)))
        ereport(ERROR,
                (errcode(ERRCODE_DUPLICATE_TABLE), errmsg("relation \"%s\" already exists", NameListToString(names)),
                 errhint("%s names a new table: drop the old one first, or choose another name.", argument)));
    return quote_qualified_identifier(get_namespace_name(schema), target->relname);
}

Oid
readable_relation(const char *name, const char **quoted)
{
    RangeVar *range = makeRangeVarFromNameList(REC_STRING_TO_QUALIFIED_NAME_LIST(name));
    const Oid relid = RangeVarGetRelid(range, AccessShareLock, false);
    const char relkind = get_rel_relkind(relid);
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE && relkind != RELKIND_VIEW &&
        relkind != RELKIND_MATVIEW && relkind != RELKIND_FOREIGN_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table or view", name)));
    *quoted = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
    // An unqualified name that found a temporary table while a permanent table of that name is on
    // the search_path: said out loud, since a model trained on a session's temporary table is rarely
    // what was meant.
    if (range->schemaname == nullptr && isTempNamespace(get_rel_namespace(relid)))
    {
        List *path = fetch_search_path(false);
        ListCell *cell;
        foreach (cell, path)
        {
            const Oid schema = lfirst_oid(cell);
            if (!isTempNamespace(schema) && OidIsValid(get_relname_relid(range->relname, schema)))
            {
                const char *hidden = quote_qualified_identifier(get_namespace_name(schema), range->relname);
                ereport(WARNING, (errmsg("\"%s\" names a temporary table, which hides %s", name, hidden),
                                  errhint("Qualify the name, as in %s, to read the permanent table.", hidden)));
                break;
            }
        }
        list_free(path);
    }
    return relid;
}

Oid
extension_owner()
{
    const Oid schema = get_namespace_oid("rec", false);
    const Oid table = get_relname_relid("model_versions", schema);
    if (!OidIsValid(table))
        elog(ERROR, "pg_recommend's table rec.model_versions is missing. Please report a bug.");
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
    if (!HeapTupleIsValid(tuple))
        elog(ERROR, "cache lookup failed for relation %u", table);
    const Oid owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
}

}  // namespace rec::pg
