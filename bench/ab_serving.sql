-- What an A/B test and log_impressions add to rec.recommend (issue 14, check 2): p50 of 610 warm calls
-- (users 1..610, n = 10, ials 64 factors on MovieLens latest-small), measured in the server with
-- clock_timestamp() around each call, the three states interleaved over three rounds. Run: bench/ab_test.sh
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION pg_recommend;
CREATE TABLE ratings (user_id integer, item_id integer, rating real, ts bigint);
\set ratings_csv :data '/ratings.csv'
COPY ratings FROM :'ratings_csv' WITH (FORMAT csv, HEADER true);
CALL rec.train('ab', 'ratings', algorithm => 'ials', factors => 64, rating_column => NULL);
CALL rec.train('ab', 'ratings', algorithm => 'ials', factors => 64, rating_column => NULL, seed => 7, deploy => false);
\ir time_calls.sql
SELECT pg_temp.time_calls('no test', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab')$q$) \gset
SELECT rec.deploy('ab', 2, traffic => 0.5) \gset
SELECT pg_temp.time_calls('A/B test, traffic 0.5', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab')$q$) \gset
SELECT rec.deploy('ab', 1) \gset
SELECT pg_temp.time_calls('log_impressions => true', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab', log_impressions => true)$q$) \gset
SELECT pg_temp.time_calls('no test', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab')$q$) \gset
SELECT rec.deploy('ab', 2, traffic => 0.5) \gset
SELECT pg_temp.time_calls('A/B test, traffic 0.5', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab')$q$) \gset
SELECT rec.deploy('ab', 1) \gset
SELECT pg_temp.time_calls('log_impressions => true', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab', log_impressions => true)$q$) \gset
SELECT pg_temp.time_calls('no test', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab')$q$) \gset
SELECT rec.deploy('ab', 2, traffic => 0.5) \gset
SELECT pg_temp.time_calls('A/B test, traffic 0.5', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab')$q$) \gset
SELECT rec.deploy('ab', 1) \gset
SELECT pg_temp.time_calls('log_impressions => true', $q$SELECT count(*) FROM rec.recommend($1, 10, 'ab', log_impressions => true)$q$) \gset
\echo '-- in-server p50 of 1,830 calls per state (three interleaved rounds)'
SELECT what, count(*) AS calls,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 4) AS p50_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
              - (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings WHERE what = 'no test'))::numeric, 4)
           AS p50_more_than_no_test_ms
FROM timings GROUP BY what ORDER BY min(ctid);
