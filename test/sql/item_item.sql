-- Item-item models: EASE^R and item-kNN, trained, stored, served and judged through the same functions
-- as the factor models, each answer checked against plain SQL over the stored weights.
SET client_min_messages = warning;
CREATE TABLE liked AS SELECT user_id, item_id, 1 AS value FROM ratings WHERE rating >= 4;
-- EASE's weights are dense (n² of them): the plain-SQL checks use 60 users' likes of the first 3000 ids.
CREATE TABLE liked_some AS SELECT * FROM liked WHERE user_id <= 60 AND item_id <= 3000;
CALL rec.train('ease', 'liked_some', rating_column => 'value', algorithm => 'ease');
CALL rec.train('knn', 'liked', rating_column => 'value', algorithm => 'itemknn', neighbours => 50);
SELECT name, algorithm, hyperparameters, train_metric, iterations_run, n_items,
       train_value = (SELECT sum(cardinality(weights)) FROM rec.item_weights w WHERE w.model_id = m.model_id) AS counted
FROM rec.models m WHERE name IN ('ease', 'knn') ORDER BY name;
-- EASE is dense (every row lists every item, the diagonal 0); item-kNN keeps 50 neighbours a row.
SELECT bool_and(neighbours IS NULL AND cardinality(weights) = (SELECT count(DISTINCT item_id) FROM liked_some)) AS dense,
       bool_and(weights[position] = 0) AS zero_diagonal
FROM (SELECT neighbours, weights, row_number() OVER (ORDER BY item_id) AS position
      FROM rec.item_weights WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'ease')) w;
SELECT max(cardinality(weights)) AS most, bool_and(cardinality(neighbours) = cardinality(weights)) AS paired
FROM rec.item_weights WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'knn');

-- The weights as (item i, item j, w) in plain SQL, and each item's index (position in item id order).
CREATE TEMP VIEW item_index AS
SELECT w.model_id, w.item_id, (row_number() OVER (PARTITION BY w.model_id ORDER BY w.item_id) - 1)::int AS index
FROM rec.item_weights w;
CREATE TEMP VIEW pairs AS
SELECT x.name, x.i, j.item_id AS j, x.weight
FROM (SELECT m.name, w.model_id, w.item_id AS i, e.neighbour, e.weight
      FROM rec.models m JOIN rec.item_weights w ON w.model_id = m.model_id,
           LATERAL unnest(coalesce(w.neighbours, (SELECT array_agg(g - 1) FROM generate_series(1, cardinality(w.weights)) g)),
                          w.weights) AS e(neighbour, weight)) x
JOIN item_index j ON j.model_id = x.model_id AND j.index = x.neighbour;

-- EASE's closed form B = I - P diag(1/diag P), P = (XᵀX + λI)⁻¹, means (XᵀX + λI)(I - B) is diagonal:
-- checked on a version trained on 30 users' likes (every entry off the diagonal below 1e-4 of the
-- diagonal's smallest).
CREATE TABLE liked_small AS SELECT * FROM liked WHERE user_id <= 30 AND item_id <= 300;
CALL rec.train('ease_small', 'liked_small', rating_column => 'value', algorithm => 'ease', regularization => 5);
WITH g AS (SELECT a.item_id AS i, b.item_id AS j, count(*) + CASE WHEN a.item_id = b.item_id THEN 5 ELSE 0 END AS v
           FROM liked_small a JOIN liked_small b USING (user_id) GROUP BY 1, 2),
     items AS (SELECT DISTINCT item_id FROM liked_small),
     one_minus_b AS (SELECT a.item_id AS i, b.item_id AS j,
                            CASE WHEN a.item_id = b.item_id THEN 1 ELSE 0 END - coalesce(p.weight, 0) AS v
                     FROM items a CROSS JOIN items b LEFT JOIN pairs p ON p.name = 'ease_small' AND p.i = a.item_id AND p.j = b.item_id),
     product AS (SELECT g.i, o.j, sum(g.v * o.v) AS v FROM g JOIN one_minus_b o ON o.i = g.j GROUP BY 1, 2)
SELECT count(*) > 100 AS entries, max(abs(v)) FILTER (WHERE i <> j) < 1e-4 * min(abs(v)) FILTER (WHERE i = j) AS diagonal
FROM product;

-- Item-kNN's similarities are the cosine of the items' columns (values 1 here), for every kept pair of
-- 20 items, within 1e-5.
WITH norms AS (SELECT item_id, sqrt(count(*)) AS n FROM liked GROUP BY 1),
     first20 AS (SELECT item_id FROM norms ORDER BY item_id LIMIT 20),
     together AS (SELECT a.item_id AS i, b.item_id AS j, count(*) AS users
                  FROM liked a JOIN liked b USING (user_id) WHERE a.item_id IN (SELECT item_id FROM first20) GROUP BY 1, 2),
     kept AS (SELECT * FROM pairs WHERE name = 'knn' AND i IN (SELECT item_id FROM first20))
SELECT count(*) AS pairs, max(abs(k.weight - t.users / (ni.n * nj.n))) < 1e-5 AS cosine
FROM kept k JOIN together t ON t.i = k.i AND t.j = k.j JOIN norms ni ON ni.item_id = k.i JOIN norms nj ON nj.item_id = k.j;
-- Each row keeps its 50 largest: the item itself (cosine 1, within float rounding) among them.
SELECT count(*) > 10 AS rows, bool_and(abs(k.weight - 1) < 1e-5) AS itself_kept
FROM pairs k WHERE name = 'knn' AND k.i = k.j AND k.i <= 100;

-- A user's scores are Σ x_ui W_ij over their items: rec.recommend's top 10 of unseen items is the
-- plain-SQL ranking, for 20 users and both models.
CREATE TEMP VIEW sources AS SELECT 'ease' AS name, * FROM liked_some UNION ALL SELECT 'knn', * FROM liked;
CREATE TEMP VIEW plain_scores AS
SELECT p.name, l.user_id, p.j AS item_id, sum(l.value * p.weight) AS score
FROM sources l JOIN pairs p ON p.name = l.name AND p.i = l.item_id GROUP BY 1, 2, 3;
CREATE TEMP TABLE plain_top AS
SELECT name, user_id, array_agg(item_id ORDER BY score DESC, item_id) AS items
FROM (SELECT s.*, row_number() OVER (PARTITION BY s.name, s.user_id ORDER BY s.score DESC, s.item_id) AS rank
      FROM plain_scores s
      WHERE s.user_id <= 20
        AND NOT EXISTS (SELECT 1 FROM sources x WHERE x.name = s.name AND x.user_id = s.user_id AND x.item_id = s.item_id)) t
WHERE rank <= 10 GROUP BY 1, 2;
SELECT p.name, count(*) FILTER (WHERE p.items IS DISTINCT FROM
                                (SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM rec.recommend(p.user_id, 10, p.name)))
                   AS users_differing, count(*) AS users
FROM plain_top p GROUP BY p.name ORDER BY p.name;
-- rec.predict is that score; rec.explain's terms are x_ui W_i,target and sum to it.
SELECT m.name,
       max(abs(rec.predict(s.user_id, s.item_id, m.name) - s.score)) < 1e-4 AS predict_is_the_sum,
       max(abs((SELECT sum(contribution) FROM rec.explain(s.user_id, s.item_id, 100000, m.name)) - s.score)) < 1e-4 AS terms_sum
FROM (VALUES ('ease'), ('knn')) m(name) JOIN plain_scores s ON s.name = m.name
WHERE s.user_id IN (1, 7) AND s.item_id IN (1, 2, 3, 50, 260)
GROUP BY m.name ORDER BY m.name;
SELECT e.item_id, round(e.contribution::numeric, 6) = round(p.weight::numeric, 6) AS is_the_weight
FROM rec.explain(1, 2, 3, 'knn') e JOIN pairs p ON p.name = 'knn' AND p.i = e.item_id AND p.j = 2
ORDER BY e.contribution DESC, e.item_id;
-- Filters apply before the top n; unknown users get the most popular items; a new user is their items.
SELECT array_agg(item_id ORDER BY item_id) AS served,
       (SELECT array_agg(c ORDER BY c) FROM unnest(ARRAY[1, 2, 3, 32, 47, 50, 110, 260, 296, 318]) c
        WHERE c <> 2 AND c NOT IN (SELECT item_id FROM liked_some WHERE user_id = 7)) AS eligible
FROM rec.recommend(7, 20, 'ease', candidates => ARRAY[1, 2, 3, 32, 47, 50, 110, 260, 296, 318], exclude => ARRAY[2]);
SELECT array_agg(item_id::bigint ORDER BY score DESC, item_id) = (
           SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM rec.recommend(-5, 5, 'ease', exclude_seen => false)
       ) AS unknown_is_popular
FROM (SELECT item_id, count(*) AS score FROM liked_some GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5) t;
SELECT array_agg(r.item_id::bigint ORDER BY r.score DESC, r.item_id) = (
           SELECT array_agg(item_id ORDER BY score DESC, item_id) FROM (
               SELECT j AS item_id, sum(weight) AS score FROM pairs WHERE name = 'ease' AND i IN (1, 50, 260)
                 AND j NOT IN (1, 50, 260) GROUP BY j ORDER BY 2 DESC, 1 LIMIT 10) t) AS new_user_is_their_items
FROM rec.recommend_for_items(ARRAY[1, 50, 260], NULL, 10, 'ease') r;
-- similar_items: the item's own row of weights, largest first.
SELECT array_agg(s.item_id::bigint ORDER BY s.similarity DESC, s.item_id) = (
           SELECT array_agg(j ORDER BY weight DESC, j) FROM (SELECT j, weight FROM pairs WHERE name = 'knn' AND i = 1 AND j <> 1
                                                             ORDER BY weight DESC, j LIMIT 5) t) AS row_of_weights
FROM rec.similar_items(1, 5, 'knn') s;
SELECT count(*) AS rows FROM rec.because_you_watched(1, 2, 3, 'ease');
-- Every user's top 10 in one statement equals rec.recommend's.
SELECT rec.recommend_all('knn', 10, 'knn_all');
SELECT count(*) AS differing FROM (
    (SELECT user_id, item_id FROM knn_all EXCEPT
     SELECT u.user_id, r.item_id FROM (SELECT DISTINCT user_id FROM liked) u, rec.recommend(u.user_id, 10, 'knn') r)
    UNION ALL
    (SELECT u.user_id, r.item_id FROM (SELECT DISTINCT user_id FROM liked) u, rec.recommend(u.user_id, 10, 'knn') r
     EXCEPT SELECT user_id, item_id FROM knn_all)) d;
-- rec.evaluate judges them as any model (no item factors: diversity is NULL).
CREATE TABLE liked_test AS SELECT user_id, item_id, 1 AS value FROM ratings WHERE rating >= 4 AND user_id % 5 = 0;
SELECT metric, value IS NOT NULL AS has_value, value BETWEEN 0 AND 100 AS in_range
FROM rec.evaluate('ease', 'liked_test', 10, rating_column => 'value')
WHERE metric IN ('precision', 'ndcg', 'coverage', 'diversity') ORDER BY metric;

-- refresh_users replaces a user's items (no solve); refresh_items, similar_users, export_vectors,
-- diversity and item_features do not apply, with a clear error.
INSERT INTO liked_some VALUES (1, 260, 1), (100001, 1, 1), (100001, 50, 1);
SELECT rec.refresh_users('ease', ARRAY[1, 100001]) AS refreshed;
SELECT bool_and(item_id <> 260) AS newly_seen_left_out FROM rec.recommend(1, 20, 'ease');
SELECT array_agg(item_id ORDER BY score DESC, item_id) = (
           SELECT array_agg(item_id::bigint ORDER BY score DESC, item_id) FROM rec.recommend_for_items(ARRAY[1, 50], NULL, 5, 'ease')
       ) AS added_user_served
FROM rec.recommend(100001, 5, 'ease');
SELECT error_of($$SELECT rec.refresh_items('ease', ARRAY[1])$$);
SELECT error_of($$SELECT * FROM rec.similar_users(1, 5, 'knn')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 5, 'ease', diversity => 0.5)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ease', item_features => 'movies')$$);
-- Options of other algorithms are refused; bad values name the range.
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ease', iterations => 5)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'itemknn', factors => 32)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ease', seed => 7)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'itemknn', regularization => 5)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ease', regularization => 0)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ease', similarity => 'bm25')$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'itemknn', neighbours => 0)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'itemknn', similarity => 'jaccard')$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ials', neighbours => 5)$$);
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'bpr', similarity => 'cosine')$$);
-- EASE holds two n x n fp32 matrices while it trains (6,298 items: about 310 MB): a budget below that
-- refuses the catalogue before anything is allocated.
SET rec.max_memory = '100MB';
SELECT error_of($$CALL rec.train('x', 'liked', rating_column => 'value', algorithm => 'ease')$$);
RESET rec.max_memory;
-- Sparsified EASE keeps each row's largest weights; bm25 and tfidf train.
CALL rec.train('ease_top', 'liked_some', rating_column => 'value', algorithm => 'ease', neighbours => 20);
CALL rec.train('knn_bm25', 'liked', rating_column => 'value', algorithm => 'itemknn', similarity => 'bm25', neighbours => 20);
CALL rec.train('knn_tfidf', 'liked', rating_column => 'value', algorithm => 'itemknn', similarity => 'tfidf', neighbours => 20);
SELECT name, hyperparameters, (SELECT max(cardinality(weights)) FROM rec.item_weights w WHERE w.model_id = m.model_id) AS widest,
       (SELECT count(*) FROM rec.recommend(1, 10, m.name)) AS served
FROM rec.models m WHERE name IN ('ease_top', 'knn_bm25', 'knn_tfidf') ORDER BY name;

-- rec.tune over algorithm families: every trial a version with its metric, the best deployed.
CREATE TABLE liked_train AS SELECT * FROM liked WHERE user_id <= 200 AND item_id <= 3000 AND (user_id + item_id) % 5 <> 0;
CREATE TABLE liked_valid AS SELECT * FROM liked WHERE user_id <= 200 AND item_id <= 3000 AND (user_id + item_id) % 5 = 0;
CALL rec.tune('families', 'liked_train', 'liked_valid',
              '{"ials": {"factors": [16], "regularization": [0.1]}, "ease": {"regularization": [100, 500]}, "itemknn": {"neighbours": [20]}}',
              rating_column => 'value');
SELECT version, algorithm, validation_metric, deployed = (validation_value = max(validation_value) OVER ()) AS best_deployed
FROM rec.models WHERE name = 'families' ORDER BY version;
SELECT error_of($$CALL rec.tune('f2', 'liked_train', 'liked_valid', '{"ials": {"factors": [8]}, "regularization": [1]}', rating_column => 'value')$$);
SELECT error_of($$CALL rec.tune('f2', 'liked_train', 'liked_valid', '{"ease": {"factors": [8]}}', rating_column => 'value')$$);
SELECT error_of($$CALL rec.tune('f2', 'liked_train', 'liked_valid', '{"ease": {"regularization": [8]}, "als": {"factors": [8]}}', rating_column => 'value')$$);
SELECT error_of($$CALL rec.tune('f2', 'liked_train', 'liked_valid', '{"ease": [8]}', rating_column => 'value')$$);

-- Dropping a model removes its weights.
SELECT rec.drop_model('ease_small');
SELECT count(*) AS weights_left FROM rec.item_weights w
WHERE NOT EXISTS (SELECT 1 FROM rec.model_versions v WHERE v.model_id = w.model_id);
SELECT rec.drop_model(name) FROM (VALUES ('ease'), ('knn'), ('ease_top'), ('knn_bm25'), ('knn_tfidf'), ('families')) m(name);
DROP TABLE plain_top;
DROP VIEW plain_scores, sources, pairs, item_index;
DROP TABLE knn_all, liked, liked_some, liked_small, liked_test, liked_train, liked_valid;
