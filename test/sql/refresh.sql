-- rec.refresh_users / rec.refresh_items: a deployed model kept fresh between retrains.
SET client_min_messages = warning;
CREATE TABLE fresh AS SELECT user_id, item_id, rating FROM ratings;
CREATE INDEX ON fresh (user_id);
CREATE INDEX ON fresh (item_id);
CALL rec.train('fresh', 'fresh', factors => 16, iterations => 10, regularization => 0.1);
CREATE FUNCTION cosine(a real[], b real[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT sum(x * y) / sqrt(sum(x * x) * sum(y * y)) FROM unnest(a, b) t(x, y) $$;
CREATE FUNCTION item_vector(id bigint) RETURNS real[] LANGUAGE sql AS
$$ SELECT i.factors FROM rec.item_factors i JOIN rec.models m USING (model_id)
   WHERE m.name = 'fresh' AND m.deployed AND i.item_id = id $$;

-- User 1 rates 20 new items, five stars each: the 20 items most like one popular film the user has not
-- seen. After the refresh, their recommendations move toward those items.
CREATE TEMP TABLE target AS
SELECT item_id FROM fresh GROUP BY item_id HAVING count(*) >= 100
   AND item_id NOT IN (SELECT item_id FROM fresh WHERE user_id = 1) ORDER BY item_id LIMIT 1;
CREATE TEMP TABLE new_items AS
SELECT s.item_id FROM target t, rec.similar_items(t.item_id, 200, 'fresh') s
WHERE s.item_id NOT IN (SELECT item_id FROM fresh WHERE user_id = 1) ORDER BY s.similarity DESC LIMIT 20;
CREATE TEMP TABLE centroid AS
SELECT array_agg(avg_f ORDER BY f) AS factors
FROM (SELECT f, avg(x)::real AS avg_f FROM new_items n, unnest(item_vector(n.item_id)) WITH ORDINALITY u(x, f) GROUP BY f) c;
CREATE TEMP TABLE before_recs AS SELECT item_id FROM rec.recommend(1, 10, 'fresh');
SELECT revision AS revision_before, n_ratings AS ratings_before FROM rec.models WHERE name = 'fresh';
INSERT INTO fresh SELECT 1, item_id, 5 FROM new_items;
SELECT rec.refresh_users('fresh', ARRAY[1]) AS refreshed;
CREATE TEMP TABLE after_recs AS SELECT item_id FROM rec.recommend(1, 10, 'fresh');
SELECT revision AS revision_after, n_ratings AS ratings_after FROM rec.models WHERE name = 'fresh';
SELECT (SELECT avg(cosine(item_vector(item_id), c.factors)) FROM after_recs)
     > (SELECT avg(cosine(item_vector(item_id), c.factors)) FROM before_recs) AS moved_toward_new_items,
       (SELECT count(*) FROM after_recs WHERE item_id NOT IN (SELECT item_id FROM before_recs)) > 0 AS list_changed,
       (SELECT count(*) FROM after_recs WHERE item_id IN (SELECT item_id FROM new_items)) AS new_items_recommended_back
FROM centroid c;
SELECT cardinality(seen_items) = (SELECT count(*) FROM fresh WHERE user_id = 1) AS seen_items_updated
FROM rec.user_factors u JOIN rec.models m USING (model_id) WHERE m.name = 'fresh' AND u.user_id = 1;

-- A user the model has never seen is added: personal recommendations instead of the popular list.
INSERT INTO fresh SELECT 424242, item_id, 5 FROM new_items;
SELECT count(*) = 10 AS fallback_is_popular FROM rec.recommend(424242, 10, 'fresh') r
JOIN rec.recommend(777777, 10, 'fresh') p USING (item_id);
SELECT rec.refresh_users('fresh', ARRAY[424242, NULL, 424242]) AS added;
SELECT n_users FROM rec.models WHERE name = 'fresh';
SELECT count(*) < 10 AS personal_now FROM rec.recommend(424242, 10, 'fresh') r
JOIN rec.recommend(777777, 10, 'fresh') p USING (item_id);
SELECT count(*) AS own_items_recommended FROM rec.recommend(424242, 10, 'fresh') WHERE item_id IN (SELECT item_id FROM new_items);

-- A new item, rated by 30 users, is added with factors solved from them; similar_items finds it.
INSERT INTO fresh SELECT u, 99999999, 4 FROM generate_series(1, 30) u;
SELECT rec.refresh_items('fresh', ARRAY[99999999]) AS added_items;
SELECT n_items FROM rec.models WHERE name = 'fresh';
SELECT count(*) AS similar_to_new_item FROM rec.similar_items(99999999, 5, 'fresh');
SELECT i.n_ratings FROM rec.item_factors i JOIN rec.models m USING (model_id) WHERE m.name = 'fresh' AND i.item_id = 99999999;

-- After several refreshes (the served copy is patched from the previous revision's copy, not
-- reloaded), what is served equals what is stored: predictions of refreshed and untouched users and
-- items match a plain-SQL computation over the tables, and untouched users' lists did not change.
CREATE TEMP TABLE untouched_before AS SELECT item_id FROM rec.recommend(299, 10, 'fresh');
UPDATE fresh SET rating = 6 - rating WHERE user_id IN (2, 3);
SELECT rec.refresh_users('fresh', ARRAY[2, 3]) AS refreshed_again;
SELECT rec.refresh_items('fresh', ARRAY[1, 2, 3]) AS items_refreshed;
-- A user added before every other one (id 0) and one refreshed, in one call: merged into the copy.
INSERT INTO fresh SELECT 0, item_id, 4 FROM new_items;
SELECT rec.refresh_users('fresh', ARRAY[0, 300]) AS merged;
SELECT revision, n_users FROM rec.models WHERE name = 'fresh';
SELECT count(*) AS predictions_differing_from_the_tables
FROM (VALUES (0), (1), (2), (3), (300), (424242)) u(user_id), (VALUES (1), (2), (3), (50), (99999999)) i(item_id),
     rec.models m
     JOIN rec.user_factors uf ON uf.model_id = m.model_id
     JOIN rec.item_factors itf ON itf.model_id = m.model_id
WHERE m.name = 'fresh' AND uf.user_id = u.user_id AND itf.item_id = i.item_id
  AND abs(rec.predict(u.user_id, i.item_id, 'fresh')
          - greatest(0.5, least(5, (SELECT global_mean FROM rec.model_versions WHERE model_id = m.model_id)
                                  + uf.bias + itf.bias + cosine(uf.factors, itf.factors) *
                                    sqrt((SELECT sum(x * x) FROM unnest(uf.factors) x) * (SELECT sum(x * x) FROM unnest(itf.factors) x))))) > 1e-3;
SELECT count(*) AS untouched_user_changed FROM (SELECT item_id FROM rec.recommend(299, 10, 'fresh')
                                                EXCEPT SELECT item_id FROM untouched_before) d;
SELECT count(*) AS seen_items_of_user_2_recommended FROM rec.recommend(2, 50, 'fresh')
WHERE item_id IN (SELECT item_id FROM fresh WHERE user_id = 2);
SELECT count(*) AS seen_items_of_user_0_recommended FROM rec.recommend(0, 50, 'fresh')
WHERE item_id IN (SELECT item_id FROM fresh WHERE user_id = 0);

-- Ids without rows, NULL arrays, and unknown ones are no-ops; bpr models are refused.
SELECT rec.refresh_users('fresh', ARRAY[31337]) AS no_rows, rec.refresh_users('fresh', NULL) AS null_ids,
       rec.refresh_users('fresh', '{}') AS empty_ids;
CALL rec.train('fresh_bpr', 'tiny', algorithm => 'bpr', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.refresh_users('fresh_bpr', ARRAY[1])$$);
SELECT error_of($$SELECT rec.refresh_users(NULL, ARRAY[1])$$);
SELECT error_of($$SELECT rec.refresh_users('no_such_model', ARRAY[1])$$);
-- The implicit model is refreshed too (confidence-weighted solve).
CALL rec.train('fresh_ials', 'fresh', rating_column => NULL, algorithm => 'ials', factors => 8, iterations => 5);
SELECT rec.refresh_users('fresh_ials', ARRAY[1, 2, 3]) AS ials_refreshed;
SELECT count(*) FROM rec.recommend(1, 10, 'fresh_ials');

-- Refreshes one after another in one transaction hold one revision at a time in the shared cache:
-- each earlier revision is given back, and its memory freed, as the next is served. With room for two
-- copies of the model, five refreshes in one transaction are all served from the shared cache (when
-- every revision stayed pinned to the end, the third on were kept in the connection instead).
ALTER SYSTEM SET rec.cache_size = '5MB';
SELECT pg_reload_conf();
SELECT pg_sleep(0.3);
SELECT current_setting('rec.cache_size') AS cache_size,
       (SELECT bytes FROM rec.cache_status() WHERE shared AND model_id =
           (SELECT model_id FROM rec.models WHERE name = 'fresh' AND deployed)) BETWEEN 1500000 AND 2600000
       AS room_for_two;
BEGIN;
DO $$
BEGIN
    FOR u IN 1..5 LOOP
        PERFORM rec.refresh_users('fresh', ARRAY[u]);
        PERFORM count(*) FROM rec.recommend(u, 3, 'fresh');
    END LOOP;
END $$;
SELECT count(*) FILTER (WHERE shared) AS shared_copies, count(*) FILTER (WHERE NOT shared) AS connection_copies
FROM rec.cache_status() WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'fresh' AND deployed);
COMMIT;
ALTER SYSTEM RESET rec.cache_size;
SELECT pg_reload_conf();

SELECT rec.drop_model('fresh'), rec.drop_model('fresh_bpr'), rec.drop_model('fresh_ials');
DROP TABLE fresh;
DROP FUNCTION cosine, item_vector;
