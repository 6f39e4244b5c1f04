-- Latency of a home page's functions on MovieLens latest-small (issue 13, check 5), warm, measured in
-- the server (clock_timestamp() around each call in PL/pgSQL: no client round trip), users 1..610,
-- after one warm-up pass. Needs examples/streaming/setup.sql loaded (the model 'home', its genre
-- table, streaming.home_page). Run: bench/home_page.sh
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\ir time_calls.sql
SELECT pg_temp.time_calls('rec.recommend, 10', $q$SELECT count(*) FROM rec.recommend($1, 10, 'home')$q$);
SELECT pg_temp.time_calls('rec.because_you_watched, 3 rows of 10',
                          $q$SELECT count(*) FROM rec.because_you_watched($1, 3, 10, 'home')$q$);
SELECT pg_temp.time_calls('rec.trending, 10 (cached ranking)',
                          $q$SELECT count(*) FROM rec.trending('home', 10)$q$);
SELECT pg_temp.time_calls('rec.recommend, 10, diversity 0.3',
                          $q$SELECT count(*) FROM rec.recommend($1, 10, 'home', diversity => 0.3)$q$);
SELECT pg_temp.time_calls('rec.recommend, 10, at most 2 per genre',
                          $q$SELECT count(*) FROM rec.recommend($1, 10, 'home', group_table => 'streaming.movie_genres',
                                                                per_group_limit => 2)$q$);
SELECT pg_temp.time_calls('home page: streaming.home_page (6 rows)',
                          $q$SELECT count(*) FROM streaming.home_page($1)$q$);
-- The EXECUTE of a trivial statement, for reference: what each timing above includes besides the call.
SELECT pg_temp.time_calls('reference: EXECUTE SELECT $1', $q$SELECT $1$q$);
SELECT what, count(*) AS calls,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3) AS p95_ms
FROM timings GROUP BY what ORDER BY min(ctid);
