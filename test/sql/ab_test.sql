-- A/B tests, impressions and online metrics (issue 14): rec.deploy(..., traffic), rec.served_version,
-- rec.promote, rec.log_impressions, recommend's log_impressions, rec.online_metrics, rec.compare_versions,
-- rec.prune_impressions.
SET client_min_messages = warning;
CALL rec.train('ab', 'ratings', algorithm => 'ials', factors => 8, iterations => 3, rating_column => NULL);
CALL rec.train('ab', 'ratings', algorithm => 'ials', factors => 8, iterations => 3, rating_column => NULL,
               seed => 7, deploy => false);
SELECT rec.deploy('ab', 2, traffic => 0.1);
SELECT version, deployed, traffic FROM rec.models WHERE name = 'ab' ORDER BY version;

-- 10% of users, by a hash: between 8.5% and 11.5% of 10,000 ids.
SELECT count(*) FILTER (WHERE v = 2) BETWEEN 850 AND 1150 AS about_a_tenth,
       count(*) FILTER (WHERE v NOT IN (1, 2)) AS neither
FROM (SELECT rec.served_version('ab', u) AS v FROM generate_series(1, 10000) u) s;
-- The same user in any id type falls alike; the most recently deployed model when model is NULL.
SELECT count(*) AS disagreeing FROM generate_series(1, 1000) u
WHERE rec.served_version('ab', u) <> rec.served_version('ab', u::bigint)
   OR rec.served_version('ab', u) <> rec.served_version('ab', u::text)
   OR rec.served_version('ab', u) <> rec.served_version(NULL, u);

-- Each user gets their version's list: the lists under test equal those of each version served alone.
CREATE TEMP TABLE under_test AS
SELECT u AS user_id, rec.served_version('ab', u) AS v,
       (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM rec.recommend(u, 10, 'ab')) AS list
FROM (SELECT DISTINCT user_id AS u FROM ratings) s;
SELECT count(*) FILTER (WHERE v = 2) > 30 AS some_challenger_users FROM under_test;
SELECT rec.promote('ab') AS promoted;
SELECT version, deployed, traffic FROM rec.models WHERE name = 'ab' ORDER BY version;
SELECT count(*) AS challenger_lists_differing FROM under_test t
WHERE t.v = 2 AND t.list IS DISTINCT FROM
      (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM rec.recommend(t.user_id, 10, 'ab'));
SELECT rec.rollback('ab') AS rolled_back_to;
SELECT count(*) AS main_lists_differing FROM under_test t
WHERE t.v = 1 AND t.list IS DISTINCT FROM
      (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM rec.recommend(t.user_id, 10, 'ab'));
-- Rolling back the promotion returns to the version deployed before the test, for everyone: the test
-- is over, and there is nothing earlier.
SELECT version, deployed, traffic FROM rec.models WHERE name = 'ab' ORDER BY version;
SELECT error_of($$SELECT rec.rollback('ab')$$);
SELECT count(*) AS users_of_version_2 FROM generate_series(1, 1000) u WHERE rec.served_version('ab', u) = 2;

-- Starting a test is transactional, as deploy is: rolled back, nothing changed.
BEGIN;
SELECT rec.deploy('ab', 2, traffic => 0.3) AS started_then_rolled_back;
SELECT count(*) > 0 AS some_users_on_2_inside FROM generate_series(1, 1000) u WHERE rec.served_version('ab', u) = 2;
ROLLBACK;
SELECT count(*) AS users_on_2_after FROM generate_series(1, 1000) u WHERE rec.served_version('ab', u) = 2;
-- A rollback during a test ends it.
SELECT rec.deploy('ab', 2, traffic => 0.2);
SELECT rec.rollback('ab') AS rolled_back_to;
SELECT version, deployed, traffic FROM rec.models WHERE name = 'ab' ORDER BY version;
-- prune keeps the challenger of a running test, as it keeps the deployed version.
CALL rec.train('ab', 'ratings', algorithm => 'ials', factors => 8, iterations => 1, rating_column => NULL, deploy => false);
CALL rec.train('ab', 'ratings', algorithm => 'ials', factors => 8, iterations => 1, rating_column => NULL, deploy => false);
SELECT rec.deploy('ab', 2, traffic => 0.5);
SELECT rec.prune('ab', keep => 1) AS pruned;
SELECT version, deployed, traffic FROM rec.models WHERE name = 'ab' ORDER BY version;

-- Impressions: a served list is logged with the version that served it, ids as text, best first.
SELECT count(*) AS rows_served FROM generate_series(1, 200) u, rec.recommend(u, 5, 'ab', log_impressions => true);
SELECT count(*) AS lists, sum(cardinality(items)) AS items,
       count(*) FILTER (WHERE version <> rec.served_version('ab', user_id::int)) AS wrong_version,
       count(*) FILTER (WHERE served_by <> 'recommend') AS other_source
FROM rec.impressions WHERE model = 'ab';
SELECT count(*) AS lists_not_as_served FROM rec.impressions i
WHERE i.model = 'ab' AND i.items <> (SELECT array_agg(item_id::text ORDER BY score DESC, item_id)
                                     FROM rec.recommend(i.user_id::int, 5, 'ab'));
-- log_impressions off (the default) writes nothing.
SELECT count(*) AS rows_served FROM rec.recommend(1, 5, 'ab');
SELECT count(*) AS lists FROM rec.impressions WHERE model = 'ab';
-- A read-only transaction serves, logs nothing and says so; rec.log_impressions refuses.
BEGIN READ ONLY;
SET LOCAL client_min_messages = notice;
SELECT count(*) AS rows_served FROM rec.recommend(1, 5, 'ab', log_impressions => true);
SELECT error_of($$SELECT rec.log_impressions('ab', 1, ARRAY[1])$$);
COMMIT;
SELECT count(*) AS lists FROM rec.impressions WHERE model = 'ab';
-- because_you_watched logs each row as a list, in the row's order.
SELECT count(DISTINCT anchor_item) AS rows_served FROM rec.because_you_watched(7, 3, 5, 'ab', log_impressions => true);
SELECT count(*) AS lists, bool_and(cardinality(items) = 5) AS five_each,
       bool_and(version = rec.served_version('ab', 7)) AS serving_version,
       count(*) FILTER (WHERE items = (SELECT array_agg(item_id::text ORDER BY rank) FROM rec.because_you_watched(7, 3, 5, 'ab') b
                                       GROUP BY anchor_item HAVING array_agg(item_id::text ORDER BY rank) = items)) AS as_served
FROM rec.impressions WHERE served_by = 'because_you_watched';
-- What the application showed itself: the version serving the user, or the one named; any id type.
SELECT rec.log_impressions('ab', 5, ARRAY[1, 2, 3]) AS logged,
       rec.log_impressions('ab', '5'::text, ARRAY['4', '5']::text[], version => 1) AS logged_named;
SELECT version = rec.served_version('ab', 5) AS serving_version, user_id, items, served_by
FROM rec.impressions WHERE served_by = 'application' ORDER BY version = 1, items;

-- Online metrics: the CTR equals a plain-SQL count of the same definition. Clicks: rows of the
-- feedback source for a shown (user, item) within a day after it was shown.
CREATE TABLE ab_feedback (user_id integer, item_id integer, created_at timestamptz);
INSERT INTO ab_feedback
SELECT i.user_id::int, i.items[1 + (i.user_id::int % 5)]::int, i.shown_at + interval '1 minute'
FROM rec.impressions i WHERE i.model = 'ab' AND i.served_by = 'recommend' AND i.user_id::int % 3 = 0;
INSERT INTO ab_feedback   -- too late, and before the list was shown: no clicks
SELECT i.user_id::int, i.items[1]::int, i.shown_at + interval '2 days'
FROM rec.impressions i WHERE i.model = 'ab' AND i.user_id::int % 3 = 1
UNION ALL
SELECT i.user_id::int, i.items[2]::int, i.shown_at - interval '1 minute'
FROM rec.impressions i WHERE i.model = 'ab' AND i.user_id::int % 3 = 1;
CREATE TEMP TABLE plain AS
SELECT i.version, count(*) AS impressions,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ab_feedback f WHERE f.user_id::text = i.user_id
                                       AND f.item_id::text = s.item AND f.created_at >= i.shown_at
                                       AND f.created_at < i.shown_at + interval '1 day')) AS clicks
FROM rec.impressions i, unnest(i.items[1:3]) s(item) WHERE i.model = 'ab' GROUP BY i.version;
SELECT m.version, m.impressions = p.impressions AS same_impressions, m.clicks = p.clicks AS same_clicks,
       m.ctr = p.clicks::float8 / p.impressions AS same_ctr, m.clicks > 0 AS some_clicks,
       m.ctr_low < m.ctr AND m.ctr < m.ctr_high AS ctr_inside,
       m.hit_rate_low <= m.hit_rate AND m.hit_rate <= m.hit_rate_high AS hit_rate_inside,
       m.mrr_low <= m.mrr AND m.mrr <= m.mrr_high AS mrr_inside
FROM rec.online_metrics('ab', 'ab_feedback', k => 3) m JOIN plain p USING (version) ORDER BY m.version;
-- hit rate and MRR by hand: lists of users with user_id % 3 = 0 from recommend have their click at
-- position 1 + user_id % 5 (at most 3 counted).
SELECT m.version,
       m.hit_rate = (SELECT count(*) FILTER (WHERE i.user_id::int % 3 = 0 AND i.served_by = 'recommend'
                                             AND i.user_id::int % 5 < 3)::float8 / count(*)
                     FROM rec.impressions i WHERE i.model = 'ab' AND i.version = m.version) AS same_hit_rate,
       abs(m.mrr - (SELECT sum(CASE WHEN i.user_id::int % 3 = 0 AND i.served_by = 'recommend'
                                     AND i.user_id::int % 5 < 3 THEN 1.0 / (1 + i.user_id::int % 5) ELSE 0 END)
                           / count(*)
                    FROM rec.impressions i WHERE i.model = 'ab' AND i.version = m.version)) < 1e-12 AS same_mrr
FROM rec.online_metrics('ab', 'ab_feedback', k => 3) m ORDER BY m.version;
SELECT count(*) AS versions_since_tomorrow FROM rec.online_metrics('ab', 'ab_feedback', since => now() + interval '1 day');

-- compare_versions: the served version first, the challenger against it.
SELECT version, role, impressions = (SELECT impressions FROM plain p WHERE p.version = c.version) AS same_impressions,
       ctr_difference IS NULL = (role = 'served') AS difference_only_for_challenger,
       p_value BETWEEN 0 AND 1 OR role = 'served' AS p_value_is_a_probability, verdict IS NOT NULL AS has_verdict
FROM rec.compare_versions('ab', 'ab_feedback', k => 3) c ORDER BY role = 'served' DESC, version;
-- A clear difference (CTR 2% against 3% of 2,000 impressions each: 40 and 60 clicks) wins with p < 0.05.
CALL rec.train('ab_clear', 'tiny', factors => 2, iterations => 2);
CALL rec.train('ab_clear', 'tiny', factors => 2, iterations => 2, deploy => false);
SELECT rec.deploy('ab_clear', 2, traffic => 0.5);
SELECT sum(rec.log_impressions('ab_clear', u, ARRAY[10, 11, 12, 13, 14, 15, 16, 17, 18, 19], version => 2 - u % 2))
FROM generate_series(1, 400) u;
CREATE TABLE ab_clear_feedback AS
SELECT u AS user_id, 10 + (u / 2) % 10 AS item_id, clock_timestamp() + interval '1 minute' AS created_at
FROM generate_series(1, 400) u WHERE (u % 2 = 1 AND u % 10 < 2) OR (u % 2 = 0 AND u % 20 < 6);
SELECT version, role, impressions, clicks, round(ctr::numeric, 3) AS ctr, round(ctr_difference::numeric, 3) AS difference,
       round(p_value::numeric, 4) AS p_value, verdict
FROM rec.compare_versions('ab_clear', 'ab_clear_feedback') ORDER BY version;
-- The pooled z statistic by hand; its two-sided p-value, erfc(z / √2), is 0.0428 (Python's math.erfc).
SELECT round((0.03 - 0.02) / sqrt(0.025 * 0.975 * (1 / 2000.0 + 1 / 2000.0)), 4) AS z;

-- Impressions are read like the model: a role it is not granted to sees none and may log none.
CREATE ROLE ab_stranger;
GRANT SELECT ON ab_feedback TO ab_stranger;
SET ROLE ab_stranger;
SELECT count(*) AS visible_impressions FROM rec.impressions;
SELECT error_of($$SELECT rec.log_impressions('ab', 1, ARRAY[1])$$);
SELECT error_of($$SELECT * FROM rec.online_metrics('ab', 'ab_feedback')$$);
SELECT error_of($$SELECT rec.prune_impressions('ab')$$);
RESET ROLE;
REVOKE ALL ON ab_feedback FROM ab_stranger;
DROP ROLE ab_stranger;

-- Pruning: only impressions older than older_than, only the owner's model.
SELECT rec.prune_impressions('ab') AS pruned_recent;
SELECT pg_sleep(0.01);
SELECT rec.prune_impressions('ab', older_than => interval '1 millisecond') > 0 AS pruned_all;
SELECT count(*) FILTER (WHERE model = 'ab') AS left_of_ab, count(*) FILTER (WHERE model = 'ab_clear') AS left_of_other
FROM rec.impressions;
-- Dropping a model drops its impressions.
SELECT rec.drop_model('ab'), rec.drop_model('ab_clear');
SELECT count(*) AS impressions_left FROM rec.impressions;
DROP TABLE ab_feedback, ab_clear_feedback;
