-- The bad-input catalogue of rec.recommend (both forms): unknown and NULL models, users and ids; n NULL,
-- 0, negative and above the catalogue; NULL, empty and repeated filters.
SET client_min_messages = warning;
CALL rec.train('bad_recommend', 'tiny', factors => 2, iterations => 2);
-- The model.
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'no_such_model')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, '')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, 10, 'bad_recommend', NULL)$$);
-- n: NULL and negative are errors, 0 is no rows, more than the catalogue is every unseen item.
SELECT error_of($$SELECT * FROM rec.recommend(1, NULL::integer, 'bad_recommend')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, -1, 'bad_recommend')$$);
SELECT count(*) AS n_zero FROM rec.recommend(1, 0, 'bad_recommend');
SELECT array_agg(item_id ORDER BY item_id) AS every_unseen_item FROM rec.recommend(1, 2147483647, 'bad_recommend');
SELECT count(*) AS all_unseen_movies FROM rec.recommend(1, 100000, 'movies');
-- Users: NULL and unknown give no rows; ids of another kind are refused.
SELECT count(*) AS null_user FROM rec.recommend(NULL::bigint, 10, 'bad_recommend');
SELECT count(*) AS unknown_user FROM rec.recommend(424242, 10, 'bad_recommend');
SELECT count(*) AS largest_bigint FROM rec.recommend(9223372036854775807, 10, 'bad_recommend');
SELECT error_of($$SELECT * FROM rec.recommend('abc', 10, 'bad_recommend')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1.5, 10, 'bad_recommend')$$);
SELECT error_of($$SELECT * FROM rec.recommend(now(), 10, 'bad_recommend')$$);
-- Filters: NULL means none, empty candidates means nothing is eligible, repeats and NULL elements
-- count once or not at all.
SELECT array_agg(item_id ORDER BY item_id) AS null_filters FROM rec.recommend(1, 10, 'bad_recommend', true, NULL, NULL);
SELECT count(*) AS empty_candidates FROM rec.recommend(1, 10, 'bad_recommend', candidates => '{}');
SELECT array_agg(item_id ORDER BY item_id) AS repeated_candidates
FROM rec.recommend(1, 10, 'bad_recommend', candidates => ARRAY[12, 12, NULL, 424242]);
SELECT array_agg(item_id ORDER BY item_id) AS excluded
FROM rec.recommend(1, 10, 'bad_recommend', exclude => ARRAY[12, 12, NULL]);
-- Text candidates for an integer model: no form of rec.recommend takes them without item_type.
SELECT error_of($$SELECT * FROM rec.recommend(1, n => 10, model => 'bad_recommend', candidates => ARRAY['x'])$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => NULL::bigint, model => 'bad_recommend', candidates => ARRAY['x'])$$);
-- The typed form: item_type must be a NULL of an id type the model has.
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => 5, model => 'bad_recommend')$$);
-- Integer ids are returned in any id type asked for (text: their decimal form).
SELECT array_agg(item_id ORDER BY item_id) AS as_text, pg_typeof(min(item_id)) FROM rec.recommend(1, item_type => NULL::text, model => 'bad_recommend');
SELECT array_agg(item_id ORDER BY item_id) AS as_smallint, pg_typeof(min(item_id)) FROM rec.recommend(1, item_type => NULL::smallint, model => 'bad_recommend');
SELECT array_agg(item_id ORDER BY item_id) AS as_integer FROM rec.recommend(1, item_type => NULL::integer, model => 'bad_recommend');
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => NULL::date, model => 'bad_recommend')$$);
-- A domain over an id type is that type.
CREATE DOMAIN bad_id AS bigint CHECK (VALUE > 0);
SELECT array_agg(item_id ORDER BY item_id) AS domain_ids, pg_typeof(min(item_id))
FROM rec.recommend(1::bad_id, item_type => NULL::bad_id, model => 'bad_recommend');
DROP DOMAIN bad_id;
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => NULL::bigint, n => -5, model => 'bad_recommend')$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => NULL::bigint, model => 'bad_recommend', candidates => ARRAY[now()])$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => NULL::bigint, model => 'bad_recommend', candidates => 5)$$);
SELECT error_of($$SELECT * FROM rec.recommend(1, item_type => NULL::bigint, model => 'bad_recommend', exclude => 5)$$);
-- A model with text ids: integer results are refused by either form, with a hint naming item_type.
CREATE TABLE bad_text_ids AS SELECT 'u' || user_id AS user_id, 'i' || item_id AS item_id, rating FROM tiny;
CALL rec.train('bad_text', 'bad_text_ids', factors => 2, iterations => 2);
SELECT error_of($$SELECT * FROM rec.recommend('u1', 10, 'bad_text')$$);
SELECT error_of($$SELECT * FROM rec.recommend('u1', item_type => NULL::integer, model => 'bad_text')$$);
SELECT array_agg(item_id ORDER BY item_id) AS as_text FROM rec.recommend('u1', item_type => NULL::text, model => 'bad_text');
-- An integer user id is read as its text, '1': not a user of this model, so the most popular items.
SELECT count(*) AS integer_user_on_text_model FROM rec.recommend(1, item_type => NULL::text, model => 'bad_text');
SELECT rec.drop_model('bad_text');
DROP TABLE bad_text_ids;
SELECT rec.drop_model('bad_recommend');
