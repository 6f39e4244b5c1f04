-- rec.split: every row in exactly one of two new tables; per-user and time splits keep every user in
-- training; repeatable with a seed.
SET client_min_messages = warning;

-- random: about test_fraction of the rows held out; together the two tables are the source, row for row.
SELECT * FROM rec.split('ratings', 'r_train', 'r_test', test_fraction => 0.2);
SELECT abs((SELECT count(*) FROM r_test)::float8 / (SELECT count(*) FROM ratings) - 0.2) < 0.01 AS about_a_fifth;
SELECT (SELECT count(*) FROM (SELECT * FROM ratings EXCEPT ALL (SELECT * FROM r_train UNION ALL SELECT * FROM r_test)) d)
     + (SELECT count(*) FROM ((SELECT * FROM r_train UNION ALL SELECT * FROM r_test) EXCEPT ALL SELECT * FROM ratings) d)
       AS rows_not_matching_source;
-- The same seed gives the same split; another seed another one.
SELECT * FROM rec.split('ratings', 'r_train2', 'r_test2', test_fraction => 0.2);
SELECT count(*) AS differing_rows FROM (SELECT * FROM r_test EXCEPT ALL SELECT * FROM r_test2) d;
SELECT * FROM rec.split('ratings', 'r_train3', 'r_test3', test_fraction => 0.2, seed => 7);
SELECT count(*) > 0 AS another_seed_differs FROM (SELECT * FROM r_test EXCEPT ALL SELECT * FROM r_test3) d;

-- per_user: every user with rows in test has rows in training, and every user keeps at least one
-- training row; each user holds out round(n * fraction) rows (never all of them).
SELECT * FROM rec.split('ratings', 'u_train', 'u_test', method => 'per_user', test_fraction => 0.25);
SELECT count(*) AS test_users_without_training_rows
FROM (SELECT DISTINCT user_id FROM u_test EXCEPT SELECT DISTINCT user_id FROM u_train) missing;
SELECT count(DISTINCT user_id) = (SELECT count(DISTINCT user_id) FROM ratings) AS every_user_in_training FROM u_train;
SELECT count(*) AS users_holding_out_the_wrong_number
FROM (SELECT user_id, count(*) AS n FROM ratings GROUP BY 1) a
LEFT JOIN (SELECT user_id, count(*) AS t FROM u_test GROUP BY 1) b USING (user_id)
WHERE coalesce(b.t, 0) <> least(round(a.n * 0.25), a.n - 1);
-- A user with a single row (user 4) keeps it in training; the others hold out half, rounded.
CREATE TEMP TABLE lonely AS SELECT * FROM tiny UNION ALL SELECT 4, 10, 5;
SELECT * FROM rec.split('lonely', 't_train', 't_test', method => 'per_user', test_fraction => 0.5);
SELECT user_id, count(*) FROM t_test GROUP BY 1 ORDER BY 1;
SELECT user_id, count(*) FROM t_train WHERE user_id = 4 GROUP BY 1;

-- time: each user's latest rows are the test rows.
SELECT * FROM rec.split('ratings', 'time_train', 'time_test', method => 'time', time_column => 'ts');
SELECT count(*) AS test_rows_older_than_a_training_row
FROM time_test t JOIN (SELECT user_id, max(ts) AS latest FROM time_train GROUP BY 1) r USING (user_id)
WHERE t.ts < r.latest;
SELECT count(*) AS test_users_without_training_rows
FROM (SELECT DISTINCT user_id FROM time_test EXCEPT SELECT DISTINCT user_id FROM time_train) missing;

-- The tables can be trained and evaluated on.
CALL rec.train('split_model', 'u_train', factors => 8, iterations => 3);
SELECT metric, value > 0 AS positive FROM rec.evaluate('split_model', 'u_test') WHERE metric IN ('rmse', 'users');
SELECT rec.drop_model('split_model');

-- Bad arguments: each an error, and no table left behind.
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', method => 'sideways')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', test_fraction => 0)$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', test_fraction => 1)$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', test_fraction => 'NaN')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', method => 'time')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', time_column => 'ts')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', method => 'time', time_column => 'no_such_column')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2', method => 'per_user', user_column => 'nope')$$);
SELECT error_of($$SELECT * FROM rec.split('no_such_table', 'b1', 'b2')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'r_train', 'b2')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b1')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', NULL, 'b2')$$);
SELECT error_of($$SELECT * FROM rec.split('ratings', 'b1', 'b2; DROP TABLE movies')$$);
SELECT count(*) AS leftover_tables FROM pg_class WHERE relname IN ('b1', 'b2');
SELECT count(*) AS movies_intact FROM movies;
DROP TABLE r_train, r_test, r_train2, r_test2, r_train3, r_test3, u_train, u_test, t_train, t_test, time_train, time_test;
