-- A simulated A/B test (issue 14, check 3) on synth1m (6,000 users, 4,000 items, 1 M ratings; its 90/10
-- split): ratings >= 4 are the interactions. Version 1 is ials with 64 factors, version 2 bpr with 32
-- (on this set, whose positives follow popularity, the larger ials model overfits and bpr is better);
-- each is judged offline on the held-out positives, then
-- version 2 serves half of 2,000 users (traffic 0.5), every user is served one list of 10 with
-- log_impressions, and each shown item the user rated >= 4 in the held-out set is clicked with
-- probability 0.5, a minute later. Run: bench/ab_test.sh
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE TABLE synth_train (user_id integer, item_id integer, rating real);
CREATE TABLE synth_test (user_id integer, item_id integer, rating real);
\set train_file :synth '/train.txt'
\set test_file :synth '/test.txt'
COPY synth_train FROM :'train_file' WITH (FORMAT text, DELIMITER ' ');
COPY synth_test FROM :'test_file' WITH (FORMAT text, DELIMITER ' ');
CREATE TABLE train_positives AS SELECT user_id, item_id FROM synth_train WHERE rating >= 4;
CREATE TABLE test_positives AS SELECT user_id, item_id, 1::real AS rating FROM synth_test WHERE rating >= 4;
CALL rec.train('sim', 'train_positives', algorithm => 'ials', factors => 64, iterations => 15, rating_column => NULL);
CALL rec.train('sim', 'train_positives', algorithm => 'bpr', factors => 32, iterations => 10, rating_column => NULL,
               deploy => false);
\echo '-- offline, on the held-out positives'
SELECT 1 AS version, metric, round(value::numeric, 4) AS value FROM rec.evaluate('sim', 'test_positives')
WHERE metric IN ('precision', 'ndcg');
BEGIN;
SELECT rec.deploy('sim', 2) \gset
SELECT 2 AS version, metric, round(value::numeric, 4) AS value FROM rec.evaluate('sim', 'test_positives')
WHERE metric IN ('precision', 'ndcg');
ROLLBACK;

SELECT rec.deploy('sim', 2, traffic => 0.5) \gset
-- Impressions cannot be written by a parallel query's workers: serve without them.
SET max_parallel_workers_per_gather = 0;
CREATE TABLE sim_users AS SELECT DISTINCT user_id FROM test_positives ORDER BY 1 LIMIT 2000;
SELECT count(*) AS items_served FROM sim_users u, rec.recommend(u.user_id, 10, 'sim', log_impressions => true);
SELECT count(*) AS users, count(*) FILTER (WHERE rec.served_version('sim', user_id) = 2) AS served_by_version_2
FROM sim_users;
SELECT setseed(0.42);
CREATE TABLE sim_clicks AS
SELECT i.user_id::int AS user_id, s.item::int AS item_id, i.shown_at + interval '1 minute' AS created_at
FROM rec.impressions i, unnest(i.items) s(item), test_positives t
WHERE i.model = 'sim' AND t.user_id = i.user_id::int AND t.item_id = s.item::int AND random() < 0.5;
\echo '-- rec.compare_versions'
SELECT version, role, users, impressions, clicks, round(ctr::numeric, 4) AS ctr,
       round(ctr_low::numeric, 4) AS ctr_low, round(ctr_high::numeric, 4) AS ctr_high,
       round(hit_rate::numeric, 3) AS hit_rate, round(mrr::numeric, 3) AS mrr,
       round(ctr_difference::numeric, 4) AS difference, round(difference_low::numeric, 4) AS low,
       round(difference_high::numeric, 4) AS high, p_value, verdict
FROM rec.compare_versions('sim', 'sim_clicks') ORDER BY version;
\echo '-- the CTR by plain SQL: clicked impressions over impressions'
SELECT i.version, count(*) AS impressions,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sim_clicks c WHERE c.user_id = i.user_id::int
                                       AND c.item_id = s.item::int AND c.created_at >= i.shown_at
                                       AND c.created_at < i.shown_at + interval '1 day')) AS clicks,
       round((count(*) FILTER (WHERE EXISTS (SELECT 1 FROM sim_clicks c WHERE c.user_id = i.user_id::int
                                              AND c.item_id = s.item::int AND c.created_at >= i.shown_at
                                              AND c.created_at < i.shown_at + interval '1 day'))::numeric
              / count(*)), 4) AS ctr
FROM rec.impressions i, unnest(i.items[1:10]) s(item) WHERE i.model = 'sim' GROUP BY 1 ORDER BY 1;
