-- Cold-start titles on MovieLens latest-small (issue 13, check 1): all ratings of 500 random films with
-- at least 10 ratings are held out; the model is trained on the rest with item_features built from
-- movies.csv (genres, decade of release) and tags.csv (tags), so those films' factors come from their
-- features alone. For each user who rated a held-out film, the 500 films are ranked (candidates) and
-- the per-user AUC taken (rated = positive, the other held-out films = negative), against two
-- baselines: genre popularity (a film scored by its genres' share of the training ratings) and the
-- user's own genre affinity (by the genres' share of the user's training ratings).
-- Run: bench/cold_start.sh (a throw-away cluster), or psql -v data=<absolute path of data/ml-latest-small,
-- readable by the server> -v algorithm=ials -f bench/cold_start.sql
\set ON_ERROR_STOP on
\if :{?seed}
\else
\set seed 0.13
\endif
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_recommend;
DROP TABLE IF EXISTS cs_ratings, cs_movies, cs_tags, cs_held, cs_train, cs_features, cs_genres, cs_scores;
CREATE TABLE cs_ratings (user_id int, item_id int, rating real, ts bigint);
CREATE TABLE cs_movies (item_id int PRIMARY KEY, title text, genres text);
CREATE TABLE cs_tags (user_id int, item_id int, tag text, ts bigint);
\set ratings_csv :data '/ratings.csv'
\set movies_csv :data '/movies.csv'
\set tags_csv :data '/tags.csv'
COPY cs_ratings FROM :'ratings_csv' WITH (FORMAT csv, HEADER true);
COPY cs_movies FROM :'movies_csv' WITH (FORMAT csv, HEADER true);
COPY cs_tags FROM :'tags_csv' WITH (FORMAT csv, HEADER true);
-- 500 films with >= 10 ratings, drawn with a fixed seed (-v seed=..., default 0.13).
SELECT setseed(:seed);
CREATE TABLE cs_held AS
SELECT item_id FROM (SELECT item_id FROM cs_ratings GROUP BY item_id HAVING count(*) >= 10 ORDER BY item_id) f
ORDER BY random() LIMIT 500;
CREATE TABLE cs_train AS SELECT * FROM cs_ratings WHERE item_id NOT IN (SELECT item_id FROM cs_held);
CREATE TABLE cs_genres AS
SELECT item_id, g AS genre FROM cs_movies, unnest(string_to_array(genres, '|')) g WHERE g <> '(no genres listed)';
CREATE TABLE cs_features AS
SELECT item_id, 'genre:' || genre AS feature FROM cs_genres
UNION ALL
SELECT item_id, 'decade:' || (substring(title FROM '\((\d{4})\)\s*$')::int / 10 * 10) FROM cs_movies
WHERE title ~ '\(\d{4}\)\s*$'
UNION
SELECT DISTINCT item_id, 'tag:' || lower(tag) FROM cs_tags;
\timing on
CALL rec.train('cold_start', 'cs_train', algorithm => :'algorithm', item_features => 'cs_features');
\timing off
-- The held-out films are in the model with no interaction: their factors come from features alone.
SELECT count(*) AS held_out_films, count(f.item_id) AS in_model, count(*) FILTER (WHERE f.n_ratings = 0) AS no_interactions
FROM cs_held h LEFT JOIN rec.item_factors f
  ON f.item_id = h.item_id AND f.model_id = (SELECT model_id FROM rec.models WHERE name = 'cold_start' AND deployed);

-- Scores of every (test user, held-out film): the model's (one rec.recommend per user ranks all 500), and
-- the two baselines'.
CREATE TABLE cs_scores AS
WITH users AS (SELECT DISTINCT user_id FROM cs_ratings WHERE item_id IN (SELECT item_id FROM cs_held)),
     held AS (SELECT array_agg(item_id) AS items FROM cs_held),
     model AS (SELECT u.user_id, r.item_id, r.score
               FROM users u, rec.recommend(u.user_id, 500, 'cold_start', exclude_seen => false,
                                           candidates => (SELECT items FROM held)) r),
     genre_share AS (SELECT g.genre, count(*)::float8 / (SELECT count(*) FROM cs_train) AS share
                     FROM cs_train t JOIN cs_genres g USING (item_id) GROUP BY g.genre),
     film_popularity AS (SELECT h.item_id, coalesce(avg(gs.share), 0) AS score
                         FROM cs_held h LEFT JOIN cs_genres g USING (item_id) LEFT JOIN genre_share gs USING (genre)
                         GROUP BY h.item_id),
     user_genre AS (SELECT t.user_id, g.genre, count(*)::float8 / max(n.n) AS share
                    FROM cs_train t JOIN cs_genres g USING (item_id)
                    JOIN (SELECT user_id, count(*) AS n FROM cs_train GROUP BY user_id) n USING (user_id)
                    GROUP BY t.user_id, g.genre),
     affinity AS (SELECT u.user_id, g.item_id, avg(coalesce(ug.share, 0)) AS score
                  FROM users u CROSS JOIN cs_genres g
                  LEFT JOIN user_genre ug ON ug.user_id = u.user_id AND ug.genre = g.genre
                  WHERE g.item_id IN (SELECT item_id FROM cs_held) GROUP BY u.user_id, g.item_id),
     positives AS (SELECT DISTINCT user_id, item_id FROM cs_ratings WHERE item_id IN (SELECT item_id FROM cs_held))
SELECT u.user_id, h.item_id, p.user_id IS NOT NULL AS positive, m.score AS model, fp.score AS genre_popularity,
       coalesce(a.score, 0) AS genre_affinity
FROM users u CROSS JOIN cs_held h
LEFT JOIN positives p ON p.user_id = u.user_id AND p.item_id = h.item_id
LEFT JOIN model m ON m.user_id = u.user_id AND m.item_id = h.item_id
JOIN film_popularity fp ON fp.item_id = h.item_id
LEFT JOIN affinity a ON a.user_id = u.user_id AND a.item_id = h.item_id;

-- Per-user AUC (ties count half: average ranks), then the mean over users.
CREATE FUNCTION pg_temp.mean_auc(method text) RETURNS TABLE (users bigint, mean_auc numeric) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH ranked AS (
            SELECT user_id, positive,
                   (rank() OVER w + count(*) OVER (PARTITION BY user_id, %1$I) - 1 + rank() OVER w) / 2.0 AS r
            FROM cs_scores WINDOW w AS (PARTITION BY user_id ORDER BY %1$I))
        SELECT count(*), round(avg(auc)::numeric, 4) FROM (
            SELECT user_id, (sum(r) FILTER (WHERE positive) - p * (p + 1) / 2.0) / (p * (count(*) - p)) AS auc
            FROM (SELECT *, count(*) FILTER (WHERE positive) OVER (PARTITION BY user_id) AS p FROM ranked) x
            GROUP BY user_id, p HAVING p > 0 AND count(*) > p) per_user $q$, method);
END $$;
SELECT 'model (' || :'algorithm' || ' + item features)' AS ranking, * FROM pg_temp.mean_auc('model')
UNION ALL SELECT 'genre popularity', * FROM pg_temp.mean_auc('genre_popularity')
UNION ALL SELECT 'user''s genre affinity', * FROM pg_temp.mean_auc('genre_affinity');
SELECT count(*) FILTER (WHERE model IS NULL) AS unscored_pairs FROM cs_scores;
