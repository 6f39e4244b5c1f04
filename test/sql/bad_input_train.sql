-- The bad-input catalogue of rec.train (one file per function: bad_input_*.sql): every bad input gets
-- a clear error with its SQLSTATE or a documented result, never a crash.
SET client_min_messages = warning;
-- Unknown table, column; wrong types.
SELECT error_of($$CALL rec.train('m', 'no_such_table')$$);
SELECT error_of($$CALL rec.train('m', 'ratings; DROP TABLE movies')$$);
SELECT count(*) AS movies_still_there FROM movies;
SELECT error_of($$CALL rec.train('m', 'ratings', user_column => 'no_such_column')$$);
SELECT error_of($$CALL rec.train('m', 'ratings', rating_column => 'no_such_column')$$);
-- Ids may be integers, text or uuid (test/sql/ids.sql); other types are refused.
CREATE TABLE typed (user_id timestamptz, item_id int, rating int, label text, uid jsonb);
INSERT INTO typed VALUES (now(), 1, 5, 'x', '{}');
SELECT error_of($$CALL rec.train('m', 'typed')$$);
SELECT error_of($$CALL rec.train('m', 'typed', user_column => 'uid')$$);
SELECT error_of($$CALL rec.train('m', 'typed', user_column => 'item_id', rating_column => 'label')$$);
CREATE TABLE floats (user_id int, item_id float8, rating int);
SELECT error_of($$CALL rec.train('m', 'floats')$$);
-- A temporary table that hides a permanent one of the same name is read, as a query would, with a warning.
CREATE TEMP TABLE ratings AS SELECT * FROM public.ratings WHERE user_id <= 3;
CALL rec.train('shadowed', 'ratings', factors => 2, iterations => 1);
SELECT n_users FROM rec.models WHERE name = 'shadowed';
SELECT rec.drop_model('shadowed');
DROP TABLE pg_temp.ratings;
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
-- A parameter of another algorithm is refused rather than ignored.
SELECT error_of($$CALL rec.train('m', 'tiny', alpha => 1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', learning_rate => 0.1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'bpr', bias_regularization => 0.1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'svd')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', factors => NULL)$$);
SELECT error_of($$CALL rec.train(NULL, 'tiny')$$);
SELECT error_of($$CALL rec.train('', 'tiny')$$);
SELECT error_of($$CALL rec.train('m', NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', rating_column => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', user_column => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', item_column => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', seed => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', deploy => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', wait => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', early_stopping => NULL)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', validation_source => '')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', validation_source => 'no_such_table')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', early_stopping => true)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', iterations => 2147483647)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', factors => -2147483648)$$);

-- Implicit feedback: negative counts, NaN, bad alpha, solver and learning rate.
CREATE TABLE negative_plays (user_id int, item_id int, rating int);
INSERT INTO negative_plays VALUES (1, 1, 3), (2, 1, -2);
SELECT error_of($$CALL rec.train('m', 'negative_plays', algorithm => 'ials')$$);
SELECT error_of($$CALL rec.train('m', 'negative_plays', algorithm => 'bpr')$$);
SELECT error_of($$CALL rec.train('m', 'holes', algorithm => 'ials')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', alpha => -1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', alpha => 'Infinity')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', solver => 'lu')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', solver => 'lu')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', solver => 'cholesky', cg_steps => 2)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', cg_steps => 101)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'bpr', solver => 'cg')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'bpr', cg_steps => 2)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', confidence => NULL, alpha => 'NaN')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'bpr', confidence => 'hu')$$);
-- noise_variance (variational Bayes): explicit ALS only, with the exact solver, finite and >= 0.
SELECT error_of($$CALL rec.train('m', 'tiny', noise_variance => -1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', noise_variance => 'Infinity')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', noise_variance => 1, solver => 'cg')$$);
SELECT error_of($$CALL rec.train('m', 'tiny', noise_variance => 1, cg_steps => 3)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', noise_variance => 1)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', solver => 'cholesky', cg_steps => 2)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'ials', cg_steps => 0)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'bpr', learning_rate => 0)$$);
SELECT error_of($$CALL rec.train('m', 'tiny', algorithm => 'als', rating_column => NULL)$$);
-- All values zero: nothing is liked, BPR has nothing to rank.
CREATE TABLE zero_plays (user_id int, item_id int, rating int);
INSERT INTO zero_plays VALUES (1, 1, 0), (2, 2, 0);
SELECT error_of($$CALL rec.train('m', 'zero_plays', algorithm => 'bpr')$$);

-- Diverging training never stores NaN: it fails with a clear error.
SELECT error_of($$CALL rec.train('m', 'ratings', algorithm => 'bpr', learning_rate => 1e30, iterations => 2)$$);
SELECT error_of($$CALL rec.train('m', 'ratings', algorithm => 'ials', alpha => 1e300, iterations => 2)$$);

-- A model too large for the memory budget is refused before anything is allocated.
SET rec.max_memory = '1MB';
SET rec.threads = 1;
SELECT error_of($$CALL rec.train('m', 'tiny', factors => 1024)$$);
RESET rec.threads;
SELECT error_of($$CALL rec.train('m', 'ratings')$$);
RESET rec.max_memory;
SELECT error_of($$SET rec.threads = -1$$);
SELECT error_of($$SET rec.no_such_setting = 1$$);

-- Ids at both ends of bigint train and serve.
CREATE TABLE extremes (user_id bigint, item_id bigint, rating real);
INSERT INTO extremes VALUES (9223372036854775807, -9223372036854775808, 5), (9223372036854775807, 0, 1),
    (-9223372036854775808, 0, 4), (-9223372036854775808, 9223372036854775807, 2), (0, -9223372036854775808, 3);
CALL rec.train('extremes', 'extremes', factors => 4, iterations => 3);
SELECT array_agg(item_id ORDER BY item_id) AS unseen FROM rec.recommend(9223372036854775807, 5, 'extremes');
SELECT array_agg(item_id ORDER BY item_id) AS similar FROM rec.similar_items(-9223372036854775808, 5, 'extremes');
SELECT rec.predict(-9223372036854775808, 9223372036854775807, 'extremes') BETWEEN 1 AND 5 AS predicted_in_range;
SELECT rec.drop_model('extremes');

-- Degenerate but valid sources train: one user, one item, one row, only duplicates, more factors than
-- users or items. The models serve what they can: nothing unseen is left for a user who saw everything.
CREATE TABLE one_user AS SELECT 1 AS user_id, i AS item_id, 1 + i % 5 AS rating FROM generate_series(1, 20) i;
CREATE TABLE one_item AS SELECT u AS user_id, 7 AS item_id, 1 + u % 5 AS rating FROM generate_series(1, 20) u;
CREATE TABLE one_row AS SELECT 1 AS user_id, 1 AS item_id, 4 AS rating;
CREATE TABLE only_duplicates AS SELECT 1 AS user_id, 1 AS item_id, r AS rating FROM generate_series(1, 5) r;
CALL rec.train('degenerate', 'one_user', factors => 4, iterations => 2);
SELECT n_users, n_items, (SELECT count(*) FROM rec.recommend(1, 5, 'degenerate')) AS unseen,
       (SELECT count(*) FROM rec.recommend(1, 5, 'degenerate', exclude_seen => false)) AS with_seen
FROM rec.models WHERE name = 'degenerate' AND deployed;
CALL rec.train('degenerate', 'one_item', factors => 4, iterations => 2);
SELECT n_users, n_items, (SELECT count(*) FROM rec.similar_items(7, 5, 'degenerate')) AS similar
FROM rec.models WHERE name = 'degenerate' AND deployed;
CALL rec.train('degenerate', 'one_row', factors => 4, iterations => 2);
SELECT n_users, n_items, rec.predict(1, 1, 'degenerate') AS predicted FROM rec.models WHERE name = 'degenerate' AND deployed;
CALL rec.train('degenerate', 'only_duplicates', factors => 4, iterations => 2);
SELECT n_users, n_items, n_ratings, rec.predict(1, 1, 'degenerate') AS predicted_mean
FROM rec.models WHERE name = 'degenerate' AND deployed;
CALL rec.train('degenerate', 'tiny', factors => 50, iterations => 2);
SELECT n_users, n_items, hyperparameters->'factors' AS factors, (SELECT count(*) FROM rec.recommend(1, 10, 'degenerate')) AS unseen
FROM rec.models WHERE name = 'degenerate' AND deployed;
CALL rec.train('degenerate', 'one_user', algorithm => 'ials', rating_column => NULL, factors => 4, iterations => 2);
CALL rec.train('degenerate', 'one_item', algorithm => 'bpr', rating_column => NULL, factors => 4, iterations => 2);
SELECT algorithm, n_users, n_items FROM rec.models WHERE name = 'degenerate' AND deployed;
SELECT rec.drop_model('degenerate');

-- None of the failed calls left a model behind.
SELECT count(*) FROM rec.models WHERE name = 'm';

-- The error shows a hint.
CALL rec.train('m', 'typed');
