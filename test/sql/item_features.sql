-- Cold-start items from their features (rec.train's item_features) and rec.refresh_items for titles
-- added after training.
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\set tags_csv :abs_srcdir '/../data/ml-latest-small/tags.csv'
CREATE TABLE tags (user_id int, item_id int, tag text, ts bigint);
COPY tags FROM :'tags_csv' WITH (FORMAT csv, HEADER true);
-- 40 films with >= 10 ratings lose every rating: the model learns them from features only.
CREATE TABLE cold AS SELECT item_id FROM ratings GROUP BY item_id HAVING count(*) >= 10 ORDER BY item_id LIMIT 40;
CREATE VIEW warm_ratings AS SELECT * FROM ratings WHERE item_id NOT IN (SELECT item_id FROM cold);
CREATE VIEW movie_features AS
SELECT item_id, 'genre:' || g AS feature FROM movies, unnest(string_to_array(genres, '|')) g
WHERE g <> '(no genres listed)'
UNION ALL
SELECT item_id, 'decade:' || (substring(title FROM '\((\d{4})\)\s*$')::int / 10 * 10) FROM movies
WHERE title ~ '\(\d{4}\)\s*$'
UNION
SELECT DISTINCT item_id, 'tag:' || lower(tag) FROM tags;
CALL rec.train('cold', 'warm_ratings', factors => 16, algorithm => 'ials', item_features => 'movie_features');
-- Every cold film is in the model with no interaction, factors not zero, and can be recommended.
SELECT count(*) AS cold_films, count(*) FILTER (WHERE f.n_ratings = 0) AS without_interactions,
       count(*) FILTER (WHERE (SELECT sum(abs(x)) FROM unnest(f.factors) x) > 0) AS with_factors
FROM cold c JOIN rec.item_factors f ON f.item_id = c.item_id
WHERE f.model_id = (SELECT model_id FROM rec.models WHERE name = 'cold' AND deployed);
SELECT count(*) AS recommended_from_cold FROM rec.recommend(1, 10, 'cold',
                                                            candidates => (SELECT array_agg(item_id) FROM cold));
-- Ranked by the model, users prefer the cold films they rated: a per-user AUC well above chance.
WITH scored AS (
    SELECT u.user_id, r.item_id, r.score,
           EXISTS (SELECT 1 FROM ratings x WHERE x.user_id = u.user_id AND x.item_id = r.item_id) AS positive
    FROM (SELECT DISTINCT user_id FROM ratings WHERE item_id IN (SELECT item_id FROM cold)) u,
         rec.recommend(u.user_id, 40, 'cold', candidates => (SELECT array_agg(item_id) FROM cold)) r),
per_user AS (
    SELECT user_id, avg((SELECT count(*) FROM scored n WHERE n.user_id = p.user_id AND NOT n.positive
                                                      AND n.score < p.score)::float8
                        / nullif((SELECT count(*) FROM scored n WHERE n.user_id = p.user_id AND NOT n.positive), 0))
               AS auc
    FROM scored p WHERE positive GROUP BY user_id)
SELECT avg(auc) > 0.65 AS better_than_chance FROM per_user;
-- Items with both interactions and features blend the two: a warm film's factors moved a little.
CALL rec.train('warm_only', 'warm_ratings', factors => 16, algorithm => 'ials');
SELECT count(*) AS warm_films_compared,
       count(*) FILTER (WHERE a.factors <> b.factors) AS blended
FROM rec.item_factors a JOIN rec.item_factors b USING (item_id)
WHERE a.model_id = (SELECT model_id FROM rec.models WHERE name = 'cold' AND deployed)
  AND b.model_id = (SELECT model_id FROM rec.models WHERE name = 'warm_only' AND deployed)
  AND item_id IN (SELECT item_id FROM warm_ratings GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT 5);
SELECT hyperparameters->>'item_features' AS item_features FROM rec.models WHERE name = 'cold';
SELECT count(*) > 100 AS features_stored FROM rec.feature_weights
WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'cold' AND deployed);

-- A title added after training: features only, then rec.refresh_items gives it factors at once.
CREATE TABLE extra_features (item_id bigint, feature text, weight real);
INSERT INTO extra_features SELECT item_id, feature, 1 FROM movie_features;
CALL rec.train('cold_extra', 'warm_ratings', factors => 16, algorithm => 'ials', item_features => 'extra_features');
INSERT INTO extra_features VALUES (990001, 'genre:Animation', 1), (990001, 'genre:Children', 1),
                                  (990001, 'decade:2010', 0.5), (990001, 'tag:pixar', 2),
                                  (990002, 'genre:Horror', 1), (990002, 'tag:no such tag anywhere', 1);
SELECT count(*) AS before_refresh FROM rec.similar_items(990001, 5, 'cold_extra');
SELECT rec.refresh_items('cold_extra', ARRAY[990001, 990002, 990003]) AS refreshed;
SELECT item_id, n_ratings FROM rec.item_factors
WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'cold_extra' AND deployed) AND item_id > 990000
ORDER BY item_id;
-- Its nearest titles share its features (Pixar's are animated films for children).
SELECT count(*) AS similar, count(*) FILTER (WHERE m.genres LIKE '%Animation%') AS animated
FROM rec.similar_items(990001, 5, 'cold_extra') s JOIN movies m USING (item_id);
SELECT count(*) AS recommended FROM rec.recommend(1, 10, 'cold_extra', candidates => ARRAY[990001, 990002]);

-- Bad input is refused clearly.
SELECT error_of($$CALL rec.train('bad', 'ratings', item_features => 'no_such_table')$$);
CREATE TABLE one_column_features (item_id int);
SELECT error_of($$CALL rec.train('bad', 'ratings', item_features => 'one_column_features')$$);
CREATE TABLE text_id_features (item_id text, feature text);
SELECT error_of($$CALL rec.train('bad', 'ratings', item_features => 'text_id_features')$$);
CREATE TABLE nan_features (item_id int, feature text, weight float8);
INSERT INTO nan_features VALUES (1, 'genre:x', 'NaN');
SELECT error_of($$CALL rec.train('bad', 'ratings', item_features => 'nan_features')$$);
-- NULLs and empty features are skipped; an empty feature table adds nothing.
CREATE TABLE sparse_features (item_id int, feature text);
INSERT INTO sparse_features VALUES (NULL, 'genre:x'), (1, NULL), (1, '');
CALL rec.train('sparse', 'ratings', factors => 8, iterations => 2, item_features => 'sparse_features');
SELECT n_items FROM rec.models WHERE name = 'sparse';
-- Dropping a model drops its feature weights.
SELECT rec.drop_model('cold_extra');
SELECT count(*) AS left_behind FROM rec.feature_weights fw
WHERE NOT EXISTS (SELECT 1 FROM rec.model_versions v WHERE v.model_id = fw.model_id);
