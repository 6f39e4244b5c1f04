// rec.export_vectors (issue 16): a deployed version's item or user factors as pgvector vectors in a
// new table, with the biases folded in so that the inner product of a user's and an item's vectors is
// the model's score: user [p_u, b_u + μ, 1], item [q_i, 1, b_i] (μ and the biases are 0 for ials).
// pgvector's <#> is the negative inner product, so ORDER BY embedding <#> user_vector ranks items as
// rec.recommend does. Everything runs as the caller: the model's rows as row-level security lets the
// caller read them, the new table created and owned by the caller. PostgreSQL-style code.
#include "pg/args.hpp"
#include "pg/bridge.hpp"
#include "pg/safe_sql.hpp"
#include "pg/spi_session.hpp"

namespace {

constexpr int kMaxVectorDimensions = 16000;  // pgvector's limit for vector

}  // namespace

// rec.export_vectors(model text, target_table text, side text DEFAULT 'item') RETURNS bigint: rows written
PGREC_FUNCTION(rec_export_vectors)
{
    const char *model = rec::pg::required_text_arg(fcinfo, 0, "model");
    const char *target_arg = rec::pg::required_text_arg(fcinfo, 1, "target_table");
    const char *side = rec::pg::required_text_arg(fcinfo, 2, "side");
    const bool users = strcmp(side, "user") == 0;
    if (!users && strcmp(side, "item") != 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("side must be 'item' or 'user', not '%s'", side),
                 errhint("rec.export_vectors writes the factors of one side: items (the default) or users.")));
    const Oid vector_extension = get_extension_oid("vector", true);
    if (!OidIsValid(vector_extension))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("pgvector is not installed in this database"),
                        errhint("CREATE EXTENSION vector, then call rec.export_vectors again.")));
    // The target as the caller names it (their search_path); 42P07 if it exists.
    const char *target = rec::pg::new_table_name(target_arg, "target_table");
    const rec::pg::SpiSession spi = rec::pg::begin_spi(rec::pg::SpiRole::Caller);
    Oid name_type[] = {TEXTOID};
    Datum name[] = {CStringGetTextDatum(model)};
    rec::pg::run_sql(spi,
                     "SELECT mv.model_id, mv.global_mean, format_type(mv.user_type, NULL), format_type(mv.item_type, "
                     "NULL), CAST(mv.hyperparameters->>'factors' AS integer), (SELECT quote_ident(e.extnamespace::"
                     "regnamespace::text) FROM pg_extension e WHERE e.extname = 'vector') FROM rec.models m JOIN "
                     "rec.model_versions mv ON mv.model_id = m.model_id WHERE m.name = $1 AND m.deployed",
                     1, name_type, name, SPI_OK_SELECT);
    if (SPI_processed != 1)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("model \"%s\" does not exist, or has no deployed version you may read", model),
                        errhint("rec.models lists the models you may read (rec.export_vectors).")));
    const int64 model_id = DatumGetInt64(rec::pg::result_value(0, 1));
    const double global_mean = DatumGetFloat8(rec::pg::result_value(0, 2));
    const char *id_type = pstrdup(TextDatumGetCString(rec::pg::result_value(0, users ? 3 : 4)));
    bool no_factors;
    const Datum factors = rec::pg::result_value(0, 5, &no_factors);
    if (no_factors)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("model \"%s\" has no factors to export", model),
                        errhint("ease and itemknn models are item-item weights, not vectors; rec.export_vectors "
                                "exports 'als', 'ials' and 'bpr' models.")));
    const int k = DatumGetInt32(factors);
    const char *vector_schema = pstrdup(TextDatumGetCString(rec::pg::result_value(0, 6)));
    if (k + 2 > kMaxVectorDimensions)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("model \"%s\" has %d factors; pgvector's vectors hold at most %d dimensions", model, k,
                               kMaxVectorDimensions),
                        errhint("Export a model with fewer factors (rec.export_vectors).")));
    rec::pg::run_sql(spi,
                     psprintf("CREATE TABLE %s (id %s NOT NULL, embedding %s.vector(%d) NOT NULL)", target, id_type,
                              vector_schema, k + 2),
                     0, nullptr, nullptr, SPI_OK_UTILITY);
    Oid types[] = {INT8OID, FLOAT4OID};
    Datum values[] = {Int64GetDatum(model_id), Float4GetDatum(float(global_mean))};
    rec::pg::run_sql(spi,
                     users
                         ? psprintf("INSERT INTO %s SELECT CAST(coalesce(f.user_key, CAST(f.user_id AS text)) AS %s), "
                                    "CAST(f.factors || ARRAY[f.bias + $2, CAST(1 AS real)] AS %s.vector) "
                                    "FROM rec.user_factors f WHERE f.model_id = $1",
                                    target, id_type, vector_schema)
                         : psprintf("INSERT INTO %s SELECT CAST(coalesce(f.item_key, CAST(f.item_id AS text)) AS %s), "
                                    "CAST(f.factors || ARRAY[CAST(1 AS real), f.bias] AS %s.vector) "
                                    "FROM rec.item_factors f WHERE f.model_id = $1",
                                    target, id_type, vector_schema),
                     users ? 2 : 1, types, values, SPI_OK_INSERT);
    const int64 written = int64(SPI_processed);
    rec::pg::end_spi(spi);
    PG_RETURN_INT64(written);
}
