-- The bad-input catalogue of rec.recommend_for_items: NULL, empty, repeated and unknown items; ratings
-- that do not match them; n; models that cannot fold a user in.
SET client_min_messages = warning;
CALL rec.train('bad_fold', 'tiny', factors => 2, iterations => 2);
SELECT count(*) AS null_items FROM rec.recommend_for_items(NULL::bigint[], model => 'bad_fold');
SELECT count(*) AS empty_items FROM rec.recommend_for_items('{}'::bigint[], model => 'bad_fold');
SELECT count(*) AS only_unknown_items FROM rec.recommend_for_items(ARRAY[424242], model => 'bad_fold');
SELECT array_agg(item_id ORDER BY item_id) AS repeated_and_null
FROM rec.recommend_for_items(ARRAY[10, 10, NULL], model => 'bad_fold');
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10, 11], ARRAY[5]::real[], model => 'bad_fold')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], ARRAY['NaN']::real[], model => 'bad_fold')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], ARRAY['Infinity']::real[], model => 'bad_fold')$$);
SELECT count(*) AS null_rating FROM rec.recommend_for_items(ARRAY[10, 11], ARRAY[NULL, 5]::real[], model => 'bad_fold');
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], n => NULL, model => 'bad_fold')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], n => -1, model => 'bad_fold')$$);
SELECT count(*) AS n_zero FROM rec.recommend_for_items(ARRAY[10], n => 0, model => 'bad_fold');
SELECT count(*) AS above_catalogue FROM rec.recommend_for_items(ARRAY[10], n => 2147483647, model => 'bad_fold');
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY['x'], model => 'bad_fold')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], model => 'no_such_model')$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], model => 'filters_bpr')$$);
-- candidates and exclude must be arrays of item ids.
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], model => 'bad_fold', candidates => 11)$$);
SELECT error_of($$SELECT * FROM rec.recommend_for_items(ARRAY[10], model => 'bad_fold', exclude => ARRAY['x'])$$);
SELECT rec.drop_model('bad_fold');
