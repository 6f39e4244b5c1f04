-- Serving: rec.recommend and rec.predict read the newest version, cached per backend.
SET client_min_messages = warning;
CALL rec.train('tiny', 'tiny', factors => 2, iterations => 10, regularization => 0.01, unweighted_regularization => 0);

-- Top n, best first, leaving out what the user rated (user 1 rated items 10 and 11).
SELECT item_id FROM rec.recommend(1, model => 'tiny');
SELECT count(*) AS rows, bool_and(item_id NOT IN (10, 11)) AS unseen_only FROM rec.recommend(1, 10, 'tiny');
-- With exclude_seen => false every item can come back, scores descending.
SELECT count(*) FROM rec.recommend(1, 10, 'tiny', exclude_seen => false);
SELECT bool_and(score >= next_score) AS descending
FROM (SELECT score, lead(score) OVER () AS next_score FROM rec.recommend(3, 10, 'tiny', false)) s
WHERE next_score IS NOT NULL;
-- n = 0 gives nothing; NULL user gives nothing.
SELECT count(*) FROM rec.recommend(1, 0, 'tiny');
SELECT count(*) FROM rec.recommend(NULL, 5, 'tiny');

-- predict fits the training ratings closely with little regularization, clipped to their range.
SELECT user_id, item_id, rating, abs(rec.predict(user_id, item_id, 'tiny') - rating) < 0.5 AS close
FROM tiny ORDER BY 1, 2;
SELECT rec.predict(1, 13, 'tiny') BETWEEN 1 AND 5 AS in_range;
SELECT rec.predict(NULL, 10, 'tiny') IS NULL AS null_user, rec.predict(1, NULL, 'tiny') IS NULL AS null_item;

-- Unknown user: the most rated items, scored by their number of ratings (documented), never an error;
-- unknown ids predict the baseline.
SELECT item_id, score FROM rec.recommend(424242, 2, 'tiny');
SELECT rec.predict(424242, 424242, 'tiny') = (SELECT global_mean::real FROM rec.model_versions
                                              WHERE name = 'tiny') AS global_mean;

-- model => NULL (the default) serves the most recently trained model.
SELECT count(*) FROM rec.recommend(1);

-- The backend's cache notices a retrained model: a different seed gives new scores.
CREATE TEMP TABLE before AS SELECT * FROM rec.recommend(2, 3, 'tiny', false);
CALL rec.train('tiny', 'tiny', factors => 2, iterations => 10, regularization => 0.01, unweighted_regularization => 0,
               seed => 99);
SELECT count(*) > 0 AS scores_changed FROM rec.recommend(2, 3, 'tiny', false) a JOIN before b USING (item_id)
WHERE a.score <> b.score;

-- Composes with SQL: titles by a join, several users by LATERAL.
SELECT count(*) AS titled FROM rec.recommend(1, 10, 'movies') r JOIN movies m USING (item_id);
SELECT u.user_id, count(*) FROM (VALUES (1), (2), (3)) u(user_id), LATERAL rec.recommend(u.user_id, 3, 'movies') r
GROUP BY 1 ORDER BY 1;

-- In a parallel query (rec.predict is PARALLEL SAFE) the workers and the leader serve the same
-- version as a serial plan, with the query's snapshot (a new one may not be taken there).
CREATE FUNCTION pg_temp.plan_mentions(query text, node text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line LIKE '%' || node || '%' THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;
CREATE TEMP TABLE pairs AS SELECT u AS user_id, i AS item_id FROM generate_series(1, 30) u, generate_series(1, 30) i;
CREATE TABLE parallel_pairs AS SELECT * FROM pairs;  -- a temporary table is never scanned in parallel
ANALYZE parallel_pairs;
CREATE TEMP TABLE serial_sum AS SELECT sum(rec.predict(user_id, item_id, 'movies')) AS s FROM parallel_pairs;
BEGIN;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT pg_temp.plan_mentions($$SELECT sum(rec.predict(user_id, item_id, 'movies')) FROM parallel_pairs$$,
                              'Gather') AS gathers;
SELECT sum(rec.predict(user_id, item_id, 'movies')) AS parallel_sum FROM parallel_pairs \gset
COMMIT;
SELECT abs(:parallel_sum - s) < 1e-3 AS same_as_serial FROM serial_sum;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT sum(rec.predict(user_id, item_id, 'movies')) AS repeatable_sum FROM parallel_pairs \gset
SELECT sum(rec.predict(user_id, item_id, 'movies')) AS repeatable_again FROM parallel_pairs \gset
COMMIT;
SELECT abs(:repeatable_sum - s) < 1e-3 AND :repeatable_sum = :repeatable_again AS repeatable_read FROM serial_sum;
DROP TABLE parallel_pairs;

-- drop_model deletes every version and its rows; the name is then unknown.
SELECT rec.drop_model('tiny');
SELECT count(*) FROM rec.models WHERE name = 'tiny';
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'tiny')$$);
SELECT error_of($$SELECT rec.drop_model('tiny')$$);
