#include "pg/safe_sql.hpp"

namespace rec::pg {

int
pin_search_path()
{
    const int level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                             true, 0, false);
    return level;
}

void
restore_search_path(int level)
{
    AtEOXact_GUC(true, level);
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
