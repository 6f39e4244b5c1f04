-- The bad-input catalogue of rec.refresh_items: NULL, empty, repeated and unknown ids; ids of another
-- kind; models that are not the caller's or do not exist.
SET client_min_messages = warning;
CREATE TABLE bad_refresh_source AS SELECT * FROM tiny;
CALL rec.train('bad_refresh', 'bad_refresh_source', factors => 2, iterations => 2);
SELECT rec.refresh_items('bad_refresh', NULL::bigint[]) AS null_array;
SELECT rec.refresh_items('bad_refresh', '{}'::bigint[]) AS empty;
SELECT rec.refresh_items('bad_refresh', ARRAY[10, 10, NULL]) AS repeated_and_null;
-- An id in neither the model nor the source: nothing to solve.
SELECT rec.refresh_items('bad_refresh', ARRAY[424242]) AS absent_everywhere;
SELECT error_of($$SELECT rec.refresh_items('bad_refresh', ARRAY['abc'])$$);
SELECT error_of($$SELECT rec.refresh_items('bad_refresh', ARRAY[now()])$$);
SELECT error_of($$SELECT rec.refresh_items(NULL, ARRAY[10])$$);
SELECT error_of($$SELECT rec.refresh_items('no_such_model', ARRAY[10])$$);
-- Rows of the source that became bad since training are refused like training refuses them.
INSERT INTO bad_refresh_source VALUES (3, 10, 'NaN');
SELECT error_of($$SELECT rec.refresh_items('bad_refresh', ARRAY[10])$$);
-- The source gone: an error naming it.
DROP TABLE bad_refresh_source;
SELECT error_of($$SELECT rec.refresh_items('bad_refresh', ARRAY[10])$$);
SELECT rec.drop_model('bad_refresh');
