-- The same seed and data give bit-identical factors, and so identical recommendations, whatever
-- the number of threads.
SET client_min_messages = warning;
SET rec.threads = 1;
CALL rec.train('one_thread', 'ratings', factors => 24, iterations => 4, seed => 5);
SET rec.threads = 2;
CALL rec.train('two_threads', 'ratings', factors => 24, iterations => 4, seed => 5);
RESET rec.threads;
SELECT count(*) AS differing_user_rows
FROM rec.user_factors a JOIN rec.models ma ON ma.model_id = a.model_id AND ma.name = 'one_thread'
FULL JOIN (SELECT b.* FROM rec.user_factors b JOIN rec.models mb ON mb.model_id = b.model_id
           AND mb.name = 'two_threads') b USING (user_id)
WHERE a.factors IS DISTINCT FROM b.factors OR a.bias IS DISTINCT FROM b.bias;
SELECT count(*) AS differing_recommendations
FROM generate_series(1, 610) u,
     LATERAL (SELECT array_agg(item_id) AS items FROM rec.recommend(u, 10, 'one_thread')) a,
     LATERAL (SELECT array_agg(item_id) AS items FROM rec.recommend(u, 10, 'two_threads')) b
WHERE a.items IS DISTINCT FROM b.items;
SELECT a.train_value = b.train_value AS same_rmse
FROM rec.models a, rec.models b WHERE a.name = 'one_thread' AND b.name = 'two_threads';
-- A different seed gives different factors.
CALL rec.train('other_seed', 'ratings', factors => 24, iterations => 4, seed => 6);
SELECT count(*) > 0 AS differs FROM rec.recommend(1, 10, 'one_thread') a
FULL JOIN rec.recommend(1, 10, 'other_seed') b USING (item_id) WHERE a.item_id IS NULL;
