-- Every bad input gets a clear error with its SQLSTATE, never a crash.
SET client_min_messages = warning;
-- Unknown table, column; wrong types.
SELECT error_of($$CALL rec.train('m', 'no_such_table')$$);
SELECT error_of($$CALL rec.train('m', 'ratings; DROP TABLE movies')$$);
SELECT count(*) AS movies_still_there FROM movies;
SELECT error_of($$CALL rec.train('m', 'ratings', user_column => 'no_such_column')$$);
SELECT error_of($$CALL rec.train('m', 'ratings', rating_column => 'no_such_column')$$);
CREATE TABLE typed (user_id text, item_id int, rating int, label text, uid uuid);
INSERT INTO typed VALUES ('a', 1, 5, 'x', gen_random_uuid());
SELECT error_of($$CALL rec.train('m', 'typed')$$);
SELECT error_of($$CALL rec.train('m', 'typed', user_column => 'uid')$$);
SELECT error_of($$CALL rec.train('m', 'typed', user_column => 'item_id', rating_column => 'label')$$);
CREATE TABLE floats (user_id int, item_id float8, rating int);
SELECT error_of($$CALL rec.train('m', 'floats')$$);
CREATE SEQUENCE not_a_table;
SELECT error_of($$CALL rec.train('m', 'not_a_table')$$);

-- NULLs, NaN and Infinity in the data; an empty source.
CREATE TABLE holes (user_id int, item_id int, rating float8);
INSERT INTO holes VALUES (1, 1, 4), (NULL, 2, 3);
SELECT error_of($$CALL rec.train('m', 'holes')$$);
UPDATE holes SET user_id = 2 WHERE user_id IS NULL;
INSERT INTO holes VALUES (3, 1, NULL);
SELECT error_of($$CALL rec.train('m', 'holes')$$);
UPDATE holes SET rating = 'NaN' WHERE rating IS NULL;
SELECT error_of($$CALL rec.train('m', 'holes')$$);
UPDATE holes SET rating = '-Infinity' WHERE rating = 'NaN';
SELECT error_of($$CALL rec.train('m', 'holes')$$);
UPDATE holes SET rating = 1e300 WHERE rating = '-Infinity';
SELECT error_of($$CALL rec.train('m', 'holes')$$);
CREATE TABLE nothing (user_id int, item_id int, rating int);
SELECT error_of($$CALL rec.train('m', 'nothing')$$);
CREATE VIEW nothing_seen AS SELECT * FROM ratings WHERE false;
SELECT error_of($$CALL rec.train('m', 'nothing_seen')$$);

-- Bad parameters.
SELECT error_of($$CALL rec.train('m', 'tiny', factors => 0)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', factors => 2000000000)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', iterations => 0)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', iterations => -3)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', regularization => -0.1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', regularization => 'NaN')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', regularization => 'Infinity')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', bias_regularization => -1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', unweighted_regularization => 'NaN')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', unweighted_regularization => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'svd')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', factors => NULL)$$);
SELECT error_of($$CALL rec.train(NULL, 'tiny')$$);
SELECT error_of($$CALL rec.train('', 'tiny')$$);
SELECT error_of($$CALL rec.train('m', NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', rating_column => NULL)$$);

-- A model too large for the memory budget is refused before anything is allocated.
SET rec.max_memory = '1MB';
SET rec.threads = 1;
SELECT error_of($$CALL rec.train('m', 'tiny', factors => 1024)$$);
RESET rec.threads;
SELECT error_of($$CALL rec.train('m', 'ratings')$$);
RESET rec.max_memory;
SELECT error_of($$SET rec.threads = -1$$);
SELECT error_of($$SET rec.no_such_setting = 1$$);

-- None of the failed calls left a model behind.
SELECT count(*) FROM rec.models WHERE name = 'm';

-- Serving errors.
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'no_such_model')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, -1, 'movies')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, NULL, 'movies')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'movies', NULL)$$);
SELECT error_of($$SELECT rec.predict(1, 1, 'no_such_model')$$);
SELECT count(*) FROM rec.recommend(1, 100000, 'movies') AS all_unseen_items;
-- The error shows a hint.
CALL rec.train('m', 'typed');
