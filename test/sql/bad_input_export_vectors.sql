-- The bad-input catalogue of rec.export_vectors: NULL arguments, an unknown side, and a database without
-- the pgvector extension (test/shell/pgvector.sh covers the export itself, unknown models and an existing
-- target where pgvector is installed).
SET client_min_messages = warning;
CALL rec.train('bad_export', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.export_vectors(NULL, 'bad_export_vectors')$$);
SELECT error_of($$SELECT rec.export_vectors('bad_export', NULL)$$);
SELECT error_of($$SELECT rec.export_vectors('bad_export', 'bad_export_vectors', NULL)$$);
SELECT error_of($$SELECT rec.export_vectors('bad_export', 'bad_export_vectors', 'items')$$);
SELECT error_of($$SELECT rec.export_vectors('bad_export', 'bad_export_vectors')$$);
SELECT count(*) AS tables_created FROM pg_class WHERE relname = 'bad_export_vectors';
SELECT rec.drop_model('bad_export');
