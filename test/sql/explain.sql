-- rec.explain: which of a user's own items drove a score (implicit's ALS explain), and the shared
-- serving cache (rec.cache_status). Uses the models trained by serve_filters.
SET client_min_messages = warning;

-- Explicit ALS: the contributions of all the user's items add up to the score of the user folded in
-- from those items (rec.recommend_for_items), less the global mean and the item's bias.
CREATE TEMP TABLE user_items AS
SELECT array_agg(item_id ORDER BY item_id) AS items, array_agg(rating ORDER BY item_id) AS ratings
FROM ratings WHERE user_id = 5;
CREATE TEMP TABLE folded AS
SELECT f.item_id, f.score FROM user_items, rec.recommend_for_items(items, ratings, 1, 'filters') f;
SELECT abs((SELECT sum(contribution) FROM rec.explain(5, (SELECT item_id FROM folded), 100000, 'filters'))
           + (SELECT global_mean FROM rec.model_versions WHERE name = 'filters')
           + (SELECT bias FROM rec.item_factors i JOIN rec.model_versions v USING (model_id)
              WHERE v.name = 'filters' AND i.item_id = (SELECT item_id FROM folded))
           - (SELECT score FROM folded)) < 1e-3 AS explicit_terms_add_up;

-- One row per training item of the user when n allows; largest contribution first; only the user's
-- own items; n limits the rows.
SELECT count(*) = (SELECT count(*) FROM ratings WHERE user_id = 5) AS one_per_item,
       bool_and(item_id IN (SELECT item_id FROM ratings WHERE user_id = 5)) AS own_items_only
FROM rec.explain(5, 1, 100000, 'filters');
SELECT bool_and(contribution >= next) AS largest_first
FROM (SELECT contribution, lead(contribution) OVER () AS next FROM rec.explain(5, 1, 20, 'filters')) e
WHERE next IS NOT NULL;
SELECT count(*) AS default_n FROM rec.explain(5, 1, model => 'filters');

-- Implicit ALS: the contributions add up to the folded-in user's score, close to rec.predict's
-- (which uses the stored factors); an item the user has is its own strongest explanation more often
-- than not.
SELECT abs(sum(contribution) - rec.predict(5, 1, 'filters_ials')) < 0.05 * abs(rec.predict(5, 1, 'filters_ials')) + 0.01
       AS implicit_terms_near_score
FROM rec.explain(5, 1, 100000, 'filters_ials');
SELECT count(*) FILTER (WHERE top = r.item_id) > count(*) / 2 AS seen_items_explain_themselves
FROM (SELECT item_id FROM ratings WHERE user_id = 5 ORDER BY item_id LIMIT 20) r,
     LATERAL (SELECT e.item_id AS top FROM rec.explain(5, r.item_id, 1, 'filters_ials') e) t;

-- Joined with titles, as users would write it: "because you watched ...".
SELECT count(m.title) AS titled FROM rec.explain(5, 1, 3, 'filters') e JOIN movies m USING (item_id);

-- Nothing to explain: unknown user or item, NULLs, n = 0. BPR models are refused.
SELECT count(*) AS unknown_user FROM rec.explain(424242, 1, 5, 'filters');
SELECT count(*) AS unknown_item FROM rec.explain(5, 999999999, 5, 'filters');
SELECT count(*) AS null_user FROM rec.explain(NULL, 1, 5, 'filters');
SELECT count(*) AS zero FROM rec.explain(5, 1, 0, 'filters');
SELECT error_of($$SELECT * FROM rec.explain(5, 1, -1, 'filters')$$);
SELECT error_of($$SELECT * FROM rec.explain(5, 1, 5, 'filters_bpr')$$);
SELECT error_of($$SELECT * FROM rec.explain(5, 1, 5, 'no_such_model')$$);

-- The shared cache (pg_recommend is in shared_preload_libraries here): a served model is held once,
-- in shared memory; a transaction pins what it uses, and releases it when it ends.
SELECT current_setting('shared_preload_libraries') ~ 'pg_recommend' AS preloaded, current_setting('rec.cache_size');
SELECT count(*) FROM rec.recommend(1, 10, 'filters');
SELECT shared, pins, bytes > 0 AS has_bytes, hits > 0 AS used
FROM rec.cache_status() JOIN rec.models USING (model_id) WHERE name = 'filters';
BEGIN;
SELECT count(*) FROM rec.recommend(1, 10, 'filters');
SELECT pins AS pinned_inside_transaction FROM rec.cache_status() JOIN rec.models USING (model_id) WHERE name = 'filters';
COMMIT;
SELECT pins AS pinned_after FROM rec.cache_status() JOIN rec.models USING (model_id) WHERE name = 'filters';
-- A retrained model is a new entry; dropping a model frees its entries.
CALL rec.train('cache_probe', 'tiny', factors => 2, iterations => 2);
SELECT count(*) FROM rec.recommend(1, 1, 'cache_probe');
CALL rec.train('cache_probe', 'tiny', factors => 2, iterations => 2);
SELECT count(*) FROM rec.recommend(1, 1, 'cache_probe');
SELECT count(*) AS cached_versions FROM rec.cache_status() WHERE model_id IN
    (SELECT model_id FROM rec.models WHERE name = 'cache_probe');
CREATE TEMP TABLE probe_ids AS SELECT model_id FROM rec.models WHERE name = 'cache_probe';
SELECT rec.drop_model('cache_probe');
SELECT count(*) AS cached_after_drop FROM rec.cache_status() WHERE model_id IN (SELECT model_id FROM probe_ids);
-- The first call reserves the model's slot and reads the model; others wait for it. A read that fails
-- (here a model with a row deleted behind pg_recommend's back) gives the reservation up, also when the
-- error is caught in a subtransaction: the next call fails the same way at once instead of waiting.
CALL rec.train('broken', 'tiny', factors => 2, iterations => 2);
DELETE FROM rec.item_factors WHERE item_id = 13
   AND model_id = (SELECT model_id FROM rec.models WHERE name = 'broken');
SET statement_timeout = '5s';
SELECT regexp_replace(error_of($$SELECT * FROM rec.recommend(1, 1, 'broken')$$), 'model [0-9]+', 'model N') AS error_of;
SELECT regexp_replace(error_of($$SELECT * FROM rec.recommend(1, 1, 'broken')$$), 'model [0-9]+', 'model N') AS error_of;
RESET statement_timeout;
SELECT count(*) AS cached_broken FROM rec.cache_status() JOIN rec.models USING (model_id) WHERE name = 'broken';
SELECT rec.drop_model('broken');
-- Ten first calls at once read a model once: test/shell/serving_concurrency.sh (cache_status.loads).
SELECT loads FROM rec.cache_status() JOIN rec.models USING (model_id) WHERE name = 'filters';

-- rec.cache_size is a server setting: a session cannot change it.
SELECT error_of($$SET rec.cache_size = '10MB'$$);
