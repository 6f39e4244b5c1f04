-- Data quality before training: rec.profile on MovieLens latest-small with planted defects, and
-- rec.train's cleaning options removing what they say.
SET client_min_messages = warning;
CREATE TABLE dirty AS SELECT user_id, item_id, rating, ts FROM ratings;
-- 1,000 duplicate rows, 20 NaN ratings, a bot with 30,000 interactions at one timestamp, 50 ratings
-- of 7 on a 0.5-5 scale, and a NULL user, a NULL item, a NULL rating, a rating dated 2100.
INSERT INTO dirty SELECT user_id, item_id, rating, ts FROM ratings ORDER BY user_id, item_id LIMIT 1000;
INSERT INTO dirty SELECT user_id, item_id + 1000000, 'NaN', ts FROM ratings ORDER BY user_id, item_id LIMIT 20;
INSERT INTO dirty SELECT 999999, i, 4, 1500000000 FROM generate_series(1, 30000) i;
INSERT INTO dirty SELECT user_id, item_id + 2000000, 7, ts FROM ratings ORDER BY user_id DESC, item_id LIMIT 50;
INSERT INTO dirty VALUES (NULL, 1, 3, 0), (5, NULL, 3, 0), (5, 1, NULL, 0), (5, 2, 3, 4102444800);
SELECT finding, severity, round(value::numeric, 4) AS value, detail
FROM rec.profile('dirty', time_column => 'ts') WHERE finding <> 'value histogram';
SELECT value AS rows_of_7 FROM rec.profile('dirty') WHERE finding = 'value histogram' AND detail = 'value 7';
-- The clean source: no errors, no duplicates, nothing out of range, no bot (user 534's 128 ratings at
-- one timestamp are a real burst of MovieLens: a bulk import).
SELECT finding, severity, value FROM rec.profile('ratings', time_column => 'ts') WHERE severity <> 'info';
-- Figures against plain SQL.
SELECT (SELECT value FROM rec.profile('ratings') WHERE finding = 'users') = (SELECT count(DISTINCT user_id) FROM ratings)
       AS users_match,
       (SELECT value FROM rec.profile('ratings') WHERE finding = 'items with fewer than 5 interactions')
       = (SELECT count(*) FROM (SELECT item_id FROM ratings GROUP BY item_id HAVING count(*) < 5) i) AS sparse_items_match,
       (SELECT round(value::numeric, 6) FROM rec.profile('ratings') WHERE finding = 'item popularity Gini')
       = (SELECT round(((2 * sum(r * c) - (count(*) + 1) * sum(c)) / (count(*) * sum(c)))::numeric, 6)
          FROM (SELECT count(*)::float8 AS c, row_number() OVER (ORDER BY count(*)) AS r FROM ratings GROUP BY item_id) x)
       AS gini_matches;
-- Implicit data (no rating column) and an empty source: reported, not refused.
SELECT finding, value FROM rec.profile('ratings', rating_column => NULL) WHERE finding IN ('rows', 'duplicate (user, item) rows');
CREATE TABLE empty_source (user_id int, item_id int, rating real);
SELECT finding, severity, value FROM rec.profile('empty_source') WHERE finding IN ('rows', 'users', 'item popularity Gini');

-- Cleaning in rec.train: max_user_interactions drops the bot, the k-core the sparse users and items.
CREATE VIEW dirty_valid AS SELECT * FROM dirty
WHERE user_id IS NOT NULL AND item_id IS NOT NULL AND rating IS NOT NULL AND rating <> 'NaN';
CALL rec.train('cleaned', 'dirty_valid', factors => 8, iterations => 2, max_user_interactions => 10000,
               min_user_interactions => 5, min_item_interactions => 5);
SELECT jsonb_pretty(hyperparameters->'cleaning') AS cleaning FROM rec.models WHERE name = 'cleaned';
-- What was left agrees with a plain-SQL k-core of the same rows.
CREATE TEMP TABLE core AS SELECT DISTINCT user_id, item_id FROM dirty_valid
WHERE user_id IN (SELECT user_id FROM dirty_valid GROUP BY user_id HAVING count(DISTINCT item_id) <= 10000);
DO $$
DECLARE dropped bigint;
BEGIN
    LOOP
        DELETE FROM core WHERE user_id IN (SELECT user_id FROM core GROUP BY user_id HAVING count(*) < 5)
                            OR item_id IN (SELECT item_id FROM core GROUP BY item_id HAVING count(*) < 5);
        GET DIAGNOSTICS dropped = ROW_COUNT;
        EXIT WHEN dropped = 0;
    END LOOP;
END $$;
SELECT v.n_users = (SELECT count(DISTINCT user_id) FROM core) AS users_match,
       v.n_items = (SELECT count(DISTINCT item_id) FROM core) AS items_match,
       v.n_ratings = (SELECT count(*) FROM core) AS interactions_match,
       (SELECT count(*) FROM rec.user_factors f WHERE f.model_id = v.model_id AND f.user_id = 999999) AS bot_rows,
       (SELECT min(n_ratings) FROM rec.item_factors f WHERE f.model_id = v.model_id) >= 5 AS every_item_has_5
FROM rec.model_versions v WHERE v.name = 'cleaned';
SELECT error_of($$CALL rec.train('bad', 'ratings', min_item_interactions => 0)$$);
SELECT error_of($$CALL rec.train('bad', 'ratings', max_user_interactions => -5)$$);
SELECT error_of($$CALL rec.train('bad', 'ratings', min_user_interactions => 100000)$$);
SELECT rec.drop_model('cleaned');
DROP VIEW dirty_valid;
DROP TABLE dirty, empty_source;
