-- The functions of a home page: recency in training, rec.trending, rec.because_you_watched, and the
-- rules (candidates, exclude, diversity, group caps) on every function that returns items.
SET client_min_messages = warning;
CREATE VIEW rated AS SELECT user_id, item_id, rating, to_timestamp(ts) AS at FROM ratings;
CREATE TABLE movie_genres AS SELECT item_id, unnest(string_to_array(genres, '|')) AS genre FROM movies;
CALL rec.train('page', 'rated', factors => 32, time_column => 'at');
CALL rec.train('page_recent', 'rated', factors => 32, time_column => 'at', half_life => '2 years');
CALL rec.train('page_recent_bpr', 'ratings', factors => 16, algorithm => 'bpr', iterations => 5,
               time_column => 'ts', half_life => '2 years');
CALL rec.train('page_recent_ials', 'ratings', factors => 16, algorithm => 'ials', iterations => 5,
               time_column => 'ts', half_life => '2 years');
CALL rec.train('page_ials', 'ratings', factors => 16, algorithm => 'ials', iterations => 5);

-- Recency is stored with the version, and it changes the model (als, ials, bpr all take it).
SELECT name, hyperparameters->>'time_column' AS time_column, hyperparameters->>'half_life' AS half_life
FROM rec.models WHERE name LIKE 'page%' ORDER BY name;
SELECT count(*) FILTER (WHERE abs(rec.predict(u, i, 'page') - rec.predict(u, i, 'page_recent')) > 0.01) > 50
           AS als_changed,
       count(*) FILTER (WHERE abs(rec.predict(u, i, 'page_ials') - rec.predict(u, i, 'page_recent_ials')) > 1e-4) > 50
           AS ials_changed
FROM generate_series(1, 100) u, (VALUES (1), (50), (318), (2571)) i(i);
-- A user whose ratings are all old: weighted by 0.5^(age/half_life), they pull less, so the user's
-- factors shrink against the same penalty (user 1 rated in 2000, the newest rating is from 2018).
SELECT (SELECT sqrt(sum(f * f)) FROM rec.user_factors uf, unnest(uf.factors) f
        WHERE uf.user_id = 1 AND uf.model_id = (SELECT model_id FROM rec.models WHERE name = 'page_recent'))
     < (SELECT sqrt(sum(f * f)) FROM rec.user_factors uf, unnest(uf.factors) f
        WHERE uf.user_id = 1 AND uf.model_id = (SELECT model_id FROM rec.models WHERE name = 'page'))
       AS old_user_shrinks;

-- rec.trending equals the plain-SQL decayed count, for every item, and ranks by it.
CREATE TEMP TABLE decayed AS
SELECT item_id, sum(0.5 ^ least(extract(epoch FROM newest.t - at) / extract(epoch FROM interval '30 days'), 1000))
           AS score
FROM rated, (SELECT max(at) AS t FROM rated) newest GROUP BY item_id;
SELECT count(*) AS items, count(*) FILTER (WHERE abs(t.score - d.score) > 1e-5 * greatest(d.score, 1)) AS different
FROM rec.trending('page', 100000, interval '30 days') t JOIN decayed d USING (item_id);
SELECT array_agg(item_id) = (SELECT array_agg(item_id)::bigint[] FROM (SELECT item_id FROM decayed
                                                             ORDER BY score DESC, item_id LIMIT 10) d) AS same_top_10
FROM rec.trending('page', 10, interval '30 days');
-- Filters: never short, candidates only, excluded never.
SELECT count(*) AS returned, count(*) FILTER (WHERE item_id NOT IN (SELECT item_id FROM movies WHERE item_id < 1000))
           AS not_candidates,
       count(*) FILTER (WHERE item_id IN (SELECT item_id FROM rec.trending('page', 20))) AS excluded
FROM rec.trending('page', 10, candidates => (SELECT array_agg(item_id) FROM movies WHERE item_id < 1000),
                  exclude => (SELECT array_agg(item_id) FROM rec.trending('page', 20)));
SELECT error_of($$SELECT * FROM rec.trending('page_ials')$$);
SELECT error_of($$SELECT * FROM rec.trending('page', 10, NULL)$$);
SELECT error_of($$SELECT * FROM rec.trending('page', 10, interval '0 days')$$);
SELECT error_of($$SELECT * FROM rec.trending('page', -1)$$);
SELECT error_of($$CALL rec.train('bad', 'rated', half_life => '1 day')$$);
SELECT error_of($$CALL rec.train('bad', 'rated', time_column => 'rating', half_life => '-1 day')$$);
SELECT error_of($$CALL rec.train('bad', 'rated', time_column => 'title')$$);
SELECT error_of($$CALL rec.train('bad', 'movies', item_column => 'item_id', user_column => 'item_id', rating_column => 'item_id', time_column => 'genres')$$);
CREATE TEMP TABLE null_times AS SELECT user_id, item_id, rating, NULL::timestamptz AS at FROM rated LIMIT 5;
SELECT error_of($$CALL rec.train('bad', 'null_times', time_column => 'at')$$);

-- rec.because_you_watched: anchors are the user's strongest items, rows hold n items each, no item
-- twice, none the user has seen, each row's items by cosine as rec.similar_items ranks them.
CREATE TEMP TABLE rows_of_7 AS SELECT * FROM rec.because_you_watched(7, 3, 10, 'page');
SELECT count(DISTINCT anchor_item) AS rows, count(*) AS items, count(DISTINCT item_id) AS distinct_items,
       count(*) FILTER (WHERE item_id IN (SELECT item_id FROM ratings WHERE user_id = 7)) AS seen_returned,
       bool_and(anchor_item IN (SELECT item_id FROM ratings WHERE user_id = 7
                                AND rating = (SELECT max(rating) FROM ratings WHERE user_id = 7))) AS anchors_strongest
FROM rows_of_7;
SELECT count(*) AS joined, bool_and(b.score = s.similarity) AS first_row_is_similar_items
FROM (SELECT * FROM rows_of_7 WHERE anchor_item = (SELECT anchor_item FROM rows_of_7 WHERE rank = 1 LIMIT 1)) b
JOIN rec.similar_items(b.anchor_item, 10, 'page', exclude => (SELECT array_agg(item_id) FROM ratings WHERE user_id = 7)) s
  USING (item_id);
-- Never short for 50 users with candidates and exclude; candidates only; excluded never.
SELECT count(*) AS users, count(*) FILTER (WHERE items <> 30 OR distinct_items <> 30) AS short_or_repeated,
       sum(bad) AS not_allowed
FROM (SELECT u, count(*) AS items, count(DISTINCT b.item_id) AS distinct_items,
             count(*) FILTER (WHERE b.item_id >= 5000 OR b.item_id <= 100) AS bad
      FROM generate_series(1, 50) u,
           rec.because_you_watched(u, 3, 10, 'page',
                                   candidates => (SELECT array_agg(item_id) FROM movies WHERE item_id < 5000),
                                   exclude => (SELECT array_agg(item_id) FROM movies WHERE item_id <= 100)) b
      GROUP BY u) per_user;
SELECT count(*) AS unknown_user_rows FROM rec.because_you_watched(-1, 3, 10, 'page');
SELECT count(*) AS zero_rows FROM rec.because_you_watched(7, 0, 10, 'page');
SELECT error_of($$SELECT * FROM rec.because_you_watched(7, -1)$$);
SELECT error_of($$SELECT * FROM rec.because_you_watched(7, 3, NULL)$$);

-- similar_items, recommend_for_items and recommend_all take candidates and exclude (serve_filters.sql);
-- here the rules. Diversity lowers how alike the returned items are (mean pairwise cosine of their
-- factors), for rec.recommend, recommend_for_items and because_you_watched.
CREATE FUNCTION mean_cosine(items bigint[], model_name text) RETURNS float8 LANGUAGE sql AS $$
    WITH f AS (SELECT item_id, factors FROM rec.item_factors
               WHERE model_id = (SELECT model_id FROM rec.models WHERE name = model_name AND deployed)
                 AND item_id = ANY (items)),
         pairs AS (SELECT (SELECT sum(x * y) FROM unnest(a.factors, b.factors) v(x, y))
                          / sqrt((SELECT sum(x * x) FROM unnest(a.factors) x) * (SELECT sum(y * y) FROM unnest(b.factors) y))
                          AS cosine
                   FROM f a JOIN f b ON a.item_id < b.item_id)
    SELECT avg(cosine) FROM pairs $$;
SELECT count(*) AS users,
       count(*) FILTER (WHERE mean_cosine(diverse, 'page') < mean_cosine(plain, 'page')) AS more_diverse,
       count(*) FILTER (WHERE cardinality(diverse) <> 10) AS short
FROM (SELECT u, (SELECT array_agg(item_id) FROM rec.recommend(u, 10, 'page')) AS plain,
             (SELECT array_agg(item_id) FROM rec.recommend(u, 10, 'page', diversity => 0.5)) AS diverse
      FROM generate_series(1, 20) u) lists;
SELECT mean_cosine((SELECT array_agg(item_id) FROM rec.recommend_for_items(ARRAY[1, 2, 3], n => 10, model => 'page',
                                                                           diversity => 0.5)), 'page')
     < mean_cosine((SELECT array_agg(item_id) FROM rec.recommend_for_items(ARRAY[1, 2, 3], n => 10, model => 'page')),
                   'page') AS for_items_more_diverse;
SELECT count(*) AS rows, count(*) FILTER (WHERE d < p) AS more_diverse
FROM (SELECT p.anchor_item, mean_cosine(p.items, 'page') AS p, mean_cosine(d.items, 'page') AS d
      FROM (SELECT anchor_item, array_agg(item_id) AS items FROM rec.because_you_watched(7, 3, 10, 'page')
            GROUP BY 1) p
      JOIN (SELECT anchor_item, array_agg(item_id) AS items
            FROM rec.because_you_watched(7, 3, 10, 'page', diversity => 0.5) GROUP BY 1) d USING (anchor_item)) rows;
-- diversity 0 is the plain ranking; the first item is always the most relevant.
SELECT (SELECT array_agg(item_id) FROM rec.recommend(3, 10, 'page', diversity => 0))
     = (SELECT array_agg(item_id) FROM rec.recommend(3, 10, 'page')) AS zero_is_plain,
       (SELECT item_id FROM rec.recommend(3, 1, 'page')) = (SELECT item_id FROM rec.recommend(3, 10, 'page',
                                                                            diversity => 1) LIMIT 1) AS best_first;
-- Group caps hold on every function that takes them, never short while items remain.
SELECT count(*) AS users, max(per_genre) AS most_of_one_genre, count(*) FILTER (WHERE returned <> 10) AS short
FROM (SELECT u, (SELECT count(*) FROM rec.recommend(u, 10, 'page', group_table => 'movie_genres',
                                                    per_group_limit => 2)) AS returned,
             (SELECT max(c) FROM (SELECT count(*) AS c
                                  FROM rec.recommend(u, 10, 'page', group_table => 'movie_genres', per_group_limit => 2) r
                                  JOIN movie_genres g USING (item_id) GROUP BY g.genre) per) AS per_genre
      FROM generate_series(1, 20) u) caps;
SELECT max(c) AS most_of_one_genre, sum(c) FILTER (WHERE true) > 0 AS any_rows
FROM (SELECT count(*) AS c FROM rec.recommend_for_items(ARRAY[1, 2, 3], n => 10, model => 'page',
                                                         group_table => 'movie_genres', per_group_limit => 1) r
      JOIN movie_genres g USING (item_id) GROUP BY g.genre) per;
SELECT max(c) AS most_of_one_genre_in_a_row
FROM (SELECT count(*) AS c FROM rec.because_you_watched(7, 3, 10, 'page', group_table => 'movie_genres',
                                                          per_group_limit => 2) b
      JOIN movie_genres g USING (item_id) GROUP BY b.anchor_item, g.genre) per;
SELECT count(*) AS unknown_user_capped FROM rec.recommend(-1, 10, 'page', group_table => 'movie_genres',
                                                          per_group_limit => 3);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', diversity => 1.5)$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', diversity => 'NaN')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', group_table => 'movie_genres')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', per_group_limit => 2)$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', group_table => 'movie_genres', per_group_limit => 0)$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', group_table => 'no_such_table', per_group_limit => 1)$$);
CREATE TABLE one_column (item_id int);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'page', group_table => 'one_column', per_group_limit => 1)$$);
