#include "pg/citus.hpp"
#include "pg/spi_session.hpp"

namespace rec::pg {

const char *
citus_distribution_column(Oid relid)
{
    if (!OidIsValid(get_extension_oid("citus", true)))
        return nullptr;
    MemoryContext caller_context = CurrentMemoryContext;
    const SpiSession spi = begin_spi(SpiRole::Caller);
    Oid types[] = {OIDOID};
    Datum args[] = {ObjectIdGetDatum(relid)};
    run_sql(spi,
            "SELECT pg_catalog.column_to_column_name(logicalrelid, partkey) FROM pg_catalog.pg_dist_partition "
            "WHERE logicalrelid = $1 AND partkey IS NOT NULL",
            1, types, args, SPI_OK_SELECT);
    const char *column = nullptr;
    if (SPI_processed == 1)
    {
        bool isnull;
        const Datum value = result_value(0, 1, &isnull);
        if (!isnull)
            column = MemoryContextStrdup(caller_context, TextDatumGetCString(value));
    }
    end_spi(spi);
    return column;
}

bool
citus_coordinator_holds_shards(Oid relid)
{
    const SpiSession spi = begin_spi(SpiRole::Caller);
    Oid types[] = {OIDOID};
    Datum args[] = {ObjectIdGetDatum(relid)};
    run_sql(spi,
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p USING (shardid) "
            "WHERE s.logicalrelid = $1 AND p.groupid = 0)",
            1, types, args, SPI_OK_SELECT);
    const bool holds = DatumGetBool(result_value(0, 1));
    end_spi(spi);
    return holds;
}

}  // namespace rec::pg
