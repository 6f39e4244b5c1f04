-- Model health (issue 14): rec.model_health(model) and the rec.model_health view say 'ok' for a fresh
-- model, 'refresh' when a fifth more interactions arrive like the old ones, and 'retrain' when they
-- arrive with a shifted popularity; the counts equal plain SQL.
SET client_min_messages = warning;
CREATE TABLE health_source AS SELECT * FROM ratings;
CALL rec.train('health', 'health_source', algorithm => 'ials', factors => 8, iterations => 2, rating_column => NULL,
               time_column => 'ts');
SELECT name, version, source, source_rows, new_interactions, new_share, unknown_users, cold_user_share,
       unknown_items, popularity_psi, action, reason FROM rec.model_health WHERE name = 'health';
-- A fifth more interactions, resampled from the old ones, at new times: refresh, no drift.
INSERT INTO health_source
SELECT user_id, item_id, rating, extract(epoch FROM now())::bigint FROM ratings TABLESAMPLE BERNOULLI (20) REPEATABLE (1);
SELECT new_interactions = (SELECT count(*) FROM health_source WHERE ts > (SELECT max(ts) FROM ratings)) AS counts_new,
       round(new_share::numeric, 2) AS new_share, popularity_psi < 0.01 AS no_drift, action
FROM rec.model_health('health');
-- Instead, the same number of new interactions on the least popular items: retrain.
DELETE FROM health_source WHERE ts > (SELECT max(ts) FROM ratings);
INSERT INTO health_source
SELECT r.user_id, t.item_id, 4, extract(epoch FROM now())::bigint
FROM (SELECT user_id, row_number() OVER () AS rn FROM ratings TABLESAMPLE BERNOULLI (20) REPEATABLE (1)) r
JOIN (SELECT item_id, row_number() OVER (ORDER BY count(*), item_id) AS rn FROM ratings GROUP BY item_id) t
  ON t.rn = 1 + r.rn % 3000;
SELECT round(new_share::numeric, 2) AS new_share, popularity_psi > 1 AS drift, action, reason LIKE 'item popularity shifted%' AS says_why
FROM rec.model_health('health');
-- The PSI by hand: training deciles of item popularity (and a bin for unknown items), 1e-4 smoothing.
WITH trained AS (SELECT item_id, n_ratings, sum(n_ratings) OVER () AS total,
                        sum(n_ratings) OVER (ORDER BY n_ratings DESC, item_id ROWS UNBOUNDED PRECEDING) - n_ratings AS before
                 FROM rec.item_factors WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'health')),
bins AS (SELECT item_id, n_ratings, least(9, floor(10 * before / total))::int AS bin FROM trained),
p AS (SELECT bin, sum(n_ratings)::float8 / (SELECT sum(n_ratings) FROM bins) AS share FROM bins GROUP BY bin),
recent AS (SELECT item_id, count(*) AS n FROM health_source WHERE ts > (SELECT max(ts) FROM ratings) GROUP BY 1),
q AS (SELECT coalesce(b.bin, 10) AS bin, sum(r.n)::float8 / (SELECT sum(n) FROM recent) AS share
      FROM recent r LEFT JOIN bins b USING (item_id) GROUP BY 1)
SELECT abs(sum((coalesce(q.share, 0) - coalesce(p.share, 0)) * ln((coalesce(q.share, 0) + 1e-4) / (coalesce(p.share, 0) + 1e-4)))
           - (SELECT popularity_psi FROM rec.model_health('health'))) < 1e-9 AS same_psi
FROM generate_series(0, 10) g(bin) LEFT JOIN p USING (bin) LEFT JOIN q USING (bin);
-- New users and items: counted, and their share.
INSERT INTO health_source VALUES (100001, 1, 4, extract(epoch FROM now())::bigint), (100002, 999999, 4, extract(epoch FROM now())::bigint);
SELECT unknown_users, unknown_items, cold_user_share = 2.0 / (SELECT count(DISTINCT user_id) FROM health_source) AS user_share
FROM rec.model_health('health');

-- Without a time_column: new interactions are the rows beyond those trained on.
CREATE TABLE health_untimed AS SELECT user_id, item_id FROM ratings WHERE user_id <= 300;
CALL rec.train('health_untimed', 'health_untimed', algorithm => 'ials', factors => 4, iterations => 1, rating_column => NULL);
INSERT INTO health_untimed SELECT user_id, item_id FROM ratings WHERE user_id BETWEEN 301 AND 320;
SELECT new_interactions = (SELECT count(*) FROM ratings WHERE user_id BETWEEN 301 AND 320) AS counts_new,
       unknown_users, ctr_last_week IS NULL AS no_ctr_without_time, action
FROM rec.model_health('health_untimed');

-- The online CTR, week on week, from logged impressions and the source's own rows.
SELECT count(*) FROM generate_series(1, 50) u, rec.recommend(u, 10, 'health', log_impressions => true);
INSERT INTO health_source
SELECT i.user_id::int, i.items[1]::int, 4, extract(epoch FROM clock_timestamp())::bigint + 60
FROM rec.impressions i WHERE i.model = 'health' AND i.user_id::int <= 10;
SELECT ctr_last_week = 10 / 500.0 AS ctr_is_clicks_over_impressions, ctr_week_before IS NULL AS nothing_before
FROM rec.model_health('health');

-- A role that may not read the model does not see it in the view, and is refused by the function.
CREATE ROLE health_stranger;
SET ROLE health_stranger;
SELECT count(*) AS visible FROM rec.model_health;
SELECT error_of($$SELECT * FROM rec.model_health('health')$$);
RESET ROLE;
DROP ROLE health_stranger;
SELECT rec.drop_model('health'), rec.drop_model('health_untimed');
DROP TABLE health_source, health_untimed;
