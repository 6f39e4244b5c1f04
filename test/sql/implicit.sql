-- Implicit feedback: ials (CG and Cholesky), bpr, and rec.evaluate.
SET client_min_messages = warning;
-- Plays: values are counts; duplicate rows add up; rating_column => NULL counts every row once.
CREATE TABLE plays (user_id int, item_id int, plays int);
INSERT INTO plays SELECT user_id, item_id, 1 + (user_id + item_id) % 3 FROM ratings WHERE rating >= 4;
INSERT INTO plays VALUES (1, 1, 5);  -- user 1 also has (1, 1) above: the two rows are summed
CALL rec.train('plays_cg', 'plays', rating_column => 'plays', algorithm => 'ials', factors => 16,
               iterations => 15, regularization => 0.1, alpha => 2);
CALL rec.train('plays_exact', 'plays', rating_column => 'plays', algorithm => 'ials', factors => 16,
               iterations => 15, regularization => 0.1, alpha => 2, solver => 'cholesky');
SELECT name, algorithm, hyperparameters, train_metric, n_ratings = (SELECT count(DISTINCT (user_id, item_id)) FROM plays) AS summed
FROM rec.models WHERE name LIKE 'plays_%' ORDER BY name;
-- CG reaches the exact solver's training loss within 1%.
SELECT abs(a.train_value / b.train_value - 1) < 0.01 AS cg_within_1_percent
FROM rec.models a, rec.models b WHERE a.name = 'plays_cg' AND b.name = 'plays_exact';
-- confidence => 'implicit' (the implicit library's alpha * value) is another model than the default
-- 1 + alpha * value: with 0/1 values and alpha 1 a positive weighs 1 instead of 2, so the preferences
-- of played items come out lower; the convention is stored and served with the version.
CALL rec.train('plays_implicit', 'plays', rating_column => NULL, algorithm => 'ials', factors => 16,
               iterations => 15, regularization => 0.1, alpha => 1, confidence => 'implicit');
CALL rec.train('plays_hu', 'plays', rating_column => NULL, algorithm => 'ials', factors => 16,
               iterations => 15, regularization => 0.1, alpha => 1);
SELECT m.name, m.hyperparameters->>'confidence' AS confidence,
       round(avg(rec.predict(p.user_id, p.item_id, m.name))::numeric, 1) AS mean_played_score
FROM rec.models m, plays p WHERE m.name IN ('plays_hu', 'plays_implicit') GROUP BY 1, 2 ORDER BY 1;
SELECT error_of($$CALL rec.train('m', 'plays', algorithm => 'ials', confidence => 'spark')$$);
SELECT error_of($$CALL rec.train('m', 'plays', confidence => 'implicit')$$);
SELECT rec.drop_model('plays_implicit'), rec.drop_model('plays_hu');
-- Scores are preferences (about 0..1), not clipped ratings; recommend leaves out played items.
SELECT count(*) AS rows, bool_and(item_id NOT IN (SELECT item_id FROM plays WHERE user_id = 1)) AS unplayed
FROM rec.recommend(1, 10, 'plays_cg');
SELECT rec.predict(1, 1, 'plays_cg') BETWEEN 0.2 AND 1.5 AS preference_scale;
CALL rec.train('plays_binary', 'plays', rating_column => NULL, algorithm => 'ials', factors => 4, iterations => 2);
SELECT n_ratings FROM rec.models WHERE name = 'plays_binary';

-- BPR is deterministic for a seed with one thread.
SET rec.threads = 1;
CALL rec.train('bpr_a', 'plays', rating_column => NULL, algorithm => 'bpr', factors => 8, iterations => 5);
CALL rec.train('bpr_b', 'plays', rating_column => NULL, algorithm => 'bpr', factors => 8, iterations => 5);
RESET rec.threads;
SELECT count(*) AS differing_items FROM rec.item_factors a JOIN rec.item_factors b USING (item_id)
WHERE a.model_id = (SELECT model_id FROM rec.models WHERE name = 'bpr_a')
  AND b.model_id = (SELECT model_id FROM rec.models WHERE name = 'bpr_b')
  AND (a.factors <> b.factors OR a.bias <> b.bias);
SELECT hyperparameters, train_metric, train_value > 0.5 AS learns FROM rec.models WHERE name = 'bpr_a';

-- rec.evaluate agrees with a plain-SQL computation of precision and ndcg at k on a tiny case.
CREATE TABLE tiny_train (user_id int, item_id int);
INSERT INTO tiny_train VALUES (1, 1), (1, 2), (2, 2), (2, 3), (3, 1), (3, 4), (4, 5), (4, 1);
CREATE TABLE tiny_test (user_id int, item_id int);
INSERT INTO tiny_test VALUES (1, 3), (1, 5), (2, 1), (3, 2), (3, 3), (3, 5), (99, 1), (4, 42);
CALL rec.train('tiny_implicit', 'tiny_train', rating_column => NULL, algorithm => 'ials', factors => 2,
               iterations => 5, regularization => 0.1);
SELECT metric, round(value::numeric, 6) FROM rec.evaluate('tiny_implicit', 'tiny_test', k => 2, rating_column => NULL);
WITH k AS (SELECT 2 AS k),
known AS (SELECT DISTINCT user_id FROM tiny_test WHERE user_id IN (SELECT user_id FROM tiny_train)),
recs AS (SELECT u.user_id, r.item_id, r.rank
         FROM known u, LATERAL rec.recommend(u.user_id, (SELECT k FROM k), 'tiny_implicit')
              WITH ORDINALITY AS r(item_id, score, rank)),
per_user AS (
    SELECT u.user_id,
           (SELECT count(*) FROM tiny_test t WHERE t.user_id = u.user_id) AS positives,
           (SELECT count(*) FROM recs r JOIN tiny_test t USING (user_id, item_id) WHERE r.user_id = u.user_id) AS hits,
           (SELECT coalesce(sum(1 / log(2, r.rank + 1)), 0) FROM recs r JOIN tiny_test t USING (user_id, item_id)
            WHERE r.user_id = u.user_id) AS dcg
    FROM known u),
sql AS (
    SELECT sum(hits)::float8 / sum(least((SELECT k FROM k), positives)) AS sql_precision,
           avg(dcg / (SELECT sum(1 / log(2, i + 1)) FROM generate_series(1, least((SELECT k FROM k), positives)) i))::float8
               AS sql_ndcg
    FROM per_user),
ev AS (SELECT * FROM rec.evaluate('tiny_implicit', 'tiny_test', k => 2, rating_column => NULL))
SELECT round(sql_precision::numeric, 6) AS sql_precision, round(sql_ndcg::numeric, 6) AS sql_ndcg,
       abs(sql_precision - (SELECT value FROM ev WHERE metric = 'precision')) < 1e-12
       AND abs(sql_ndcg - (SELECT value FROM ev WHERE metric = 'ndcg')) < 1e-12 AS evaluate_agrees
FROM sql;

-- Explicit models also get rmse and mae; relevance_threshold turns ratings into positives.
CREATE TABLE held_out AS SELECT * FROM ratings WHERE (user_id * 7 + item_id) % 10 = 0;
CREATE TABLE kept AS SELECT * FROM ratings WHERE (user_id * 7 + item_id) % 10 <> 0;
CALL rec.train('split', 'kept', factors => 16, iterations => 5, regularization => 0.1);
SELECT metric, CASE WHEN metric IN ('users', 'unknown_user_rows') THEN value::text
                    WHEN metric IN ('novelty', 'popularity') THEN (value > 0)::text  -- bits; interactions
                    ELSE (value > 0 AND value < 1.2)::text END AS plausible_or_count
FROM rec.evaluate('split', 'held_out', k => 10, relevance_threshold => 4);
-- The rmse reported is rec.predict's.
SELECT abs((SELECT value FROM rec.evaluate('split', 'held_out') WHERE metric = 'rmse')
           - (SELECT sqrt(avg((rec.predict(user_id, item_id, 'split') - rating) ^ 2)) FROM held_out)) < 1e-5
       AS same_as_predict;
