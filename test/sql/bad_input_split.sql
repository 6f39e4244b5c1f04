-- The bad-input catalogue of rec.split: names, methods, fractions; a failed split creates nothing.
SET client_min_messages = warning;
SELECT error_of($$SELECT * FROM rec.split('no_such_table', 'bad_train', 'bad_test')$$);
SELECT error_of($$SELECT * FROM rec.split(NULL, 'bad_train', 'bad_test')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', NULL, 'bad_test')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', '', 'bad_test')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_same', 'bad_same')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'tiny', 'bad_test')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train; DROP TABLE tiny', 'bad_test')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', method => 'nope')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', method => NULL)$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', test_fraction => 0)$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', test_fraction => 1)$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', test_fraction => 'NaN')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', test_fraction => NULL)$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', method => 'time')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', method => 'time', time_column => 'no_such_column')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', method => 'per_user', user_column => 'no_such_column')$$);
SELECT error_of($$SELECT * FROM rec.split('tiny', 'bad_train', 'bad_test', seed => NULL)$$);
SELECT count(*) AS tiny_still_there FROM tiny;
SELECT count(*) AS tables_created FROM pg_class WHERE relname IN ('bad_train', 'bad_test', 'bad_same');
-- An empty source splits into two empty tables.
CREATE TABLE bad_empty (user_id int, item_id int, rating int);
SELECT * FROM rec.split('bad_empty', 'bad_empty_train', 'bad_empty_test');
DROP TABLE bad_empty, bad_empty_train, bad_empty_test;
