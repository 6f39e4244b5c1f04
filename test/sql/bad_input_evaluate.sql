-- The bad-input catalogue of rec.evaluate: k, names, bad test rows, users the model never saw.
SET client_min_messages = warning;
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'tiny', k => 0)$$);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'tiny', k => -1)$$);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'tiny', k => NULL)$$);
SELECT metric, value > 0 AS positive FROM rec.evaluate('movies', 'tiny', k => 2147483647) WHERE metric = 'recall';
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'no_such_table')$$);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', NULL)$$);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'tiny; SELECT 1')$$);
SELECT error_of($$SELECT * FROM rec.evaluate('no_such_model', 'tiny')$$);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'tiny', user_column => 'no_such_column')$$);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'tiny', relevance_threshold => 'NaN')$$);
-- A threshold of -Infinity counts every test row as relevant.
SELECT value AS users FROM rec.evaluate('movies', 'tiny', relevance_threshold => '-Infinity') WHERE metric = 'users';
-- Bad test rows.
CREATE TABLE bad_test_rows (user_id int, item_id int, rating float8);
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'bad_test_rows')$$);
INSERT INTO bad_test_rows VALUES (1, 1, 'NaN');
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'bad_test_rows')$$);
UPDATE bad_test_rows SET rating = NULL;
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'bad_test_rows')$$);
UPDATE bad_test_rows SET rating = 4, user_id = NULL;
SELECT error_of($$SELECT * FROM rec.evaluate('movies', 'bad_test_rows')$$);
-- Test users the model never saw are counted and skipped; with none left, ranking metrics are NULL.
CREATE TABLE strangers (user_id bigint, item_id bigint, rating int);
INSERT INTO strangers VALUES (900001, 1, 5), (900002, 2, 4), (1, 424242, 5);
SELECT * FROM rec.evaluate('movies', 'strangers', rating_column => NULL)
WHERE metric IN ('precision', 'users', 'unknown_user_rows');
DELETE FROM strangers WHERE user_id = 1;
SELECT * FROM rec.evaluate('movies', 'strangers', rating_column => NULL)
WHERE metric IN ('precision', 'users', 'unknown_user_rows');
