-- Text and uuid ids: trained, served and returned as they are (issue 5, check 1). The same MovieLens
-- ratings with uuid users (a uuid made from each user id) and text items ('movie-<id>').
SET client_min_messages = warning;
CREATE TABLE keyed AS
SELECT md5('user ' || user_id)::uuid AS customer, 'movie-' || item_id AS sku, rating, user_id, item_id
FROM ratings;
CREATE INDEX ON keyed (customer);
CREATE INDEX ON keyed (sku);
CREATE FUNCTION customer(id integer) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT md5('user ' || id)::uuid $$;
CALL rec.train('keyed', 'keyed', user_column => 'customer', item_column => 'sku', factors => 16, iterations => 10);
SELECT user_type, item_type, n_users, n_items, n_ratings FROM rec.model_versions WHERE name = 'keyed';
-- Every stored row keeps its id's text.
SELECT count(*) FILTER (WHERE user_key IS NULL) AS users_without_key, count(DISTINCT user_key) AS distinct_keys
FROM rec.user_factors JOIN rec.models USING (model_id) WHERE name = 'keyed';

-- rec.recommend names the type of the item ids it returns.
SELECT pg_typeof(item_id) AS item_type, count(*) AS n,
       bool_and(item_id IN (SELECT sku FROM keyed)) AS all_known_items,
       bool_and(item_id NOT IN (SELECT sku FROM keyed WHERE customer = customer(1))) AS none_seen
FROM rec.recommend(customer(1), item_type => NULL::text, model => 'keyed') GROUP BY 1;
-- The uuid may also be given as text, in any case; the answer is the same.
SELECT (SELECT array_agg(item_id) FROM rec.recommend(customer(1), item_type => NULL::text, model => 'keyed'))
     = (SELECT array_agg(item_id) FROM rec.recommend(upper(customer(1)::text), item_type => NULL::text, model => 'keyed'))
       AS same_for_text_form;
-- The integer-item form refuses, naming the form to use.
SELECT error_of($$SELECT * FROM rec.recommend(customer(1), model => 'keyed')$$);
-- item_type only names a type.
SELECT error_of($$SELECT * FROM rec.recommend(customer(1), 'movie-1'::text, model => 'keyed')$$);
-- Filters take the items' own ids.
SELECT array_agg(item_id ORDER BY item_id) AS only_candidates
FROM rec.recommend(customer(1), item_type => NULL::text, model => 'keyed',
                   candidates => ARRAY['movie-1', 'movie-2', 'movie-3', 'movie-4', 'movie-5', 'no-such-movie']);
SELECT count(*) AS excluded_returned
FROM rec.recommend(customer(1), item_type => NULL::text, n => 20, model => 'keyed',
                   exclude => (SELECT array_agg(item_id) FROM rec.recommend(customer(1), item_type => NULL::text, model => 'keyed')))
WHERE item_id IN (SELECT item_id FROM rec.recommend(customer(1), item_type => NULL::text, model => 'keyed'));
-- An unknown user gets the most rated items.
SELECT array_agg(item_id) = (SELECT array_agg(sku) FROM (SELECT sku FROM keyed GROUP BY sku ORDER BY count(*) DESC, min(item_id) LIMIT 3) p)
       AS unknown_user_gets_popular
FROM rec.recommend('00000000-0000-0000-0000-000000000000'::uuid, item_type => NULL::text, n => 3, model => 'keyed');

-- Scores agree with rec.predict (which clips to the rating range), which takes either id type.
SELECT bool_and(abs(least(greatest(r.score, 0.5), 5) - rec.predict(customer(1), r.item_id, 'keyed')) < 1e-4) AS predict_agrees
FROM rec.recommend(customer(1), item_type => NULL::text, model => 'keyed') r;
SELECT rec.predict(customer(1), 'no-such-movie', 'keyed') = rec.predict(customer(1), 'another', 'keyed') AS baseline_for_unknown;

-- The other serving functions return ids of the type they are given.
SELECT pg_typeof(item_id) AS similar_item_type, count(*) FROM rec.similar_items('movie-1', 5, 'keyed') GROUP BY 1;
SELECT pg_typeof(user_id) AS similar_user_type, count(*) FROM rec.similar_users(customer(1), 5, 'keyed') GROUP BY 1;
SELECT pg_typeof(item_id) AS explained_item_type, bool_and(item_id IN (SELECT sku FROM keyed WHERE customer = customer(1))) AS own_items
FROM rec.explain(customer(1), 'movie-1'::text, 5, 'keyed') GROUP BY 1;
SELECT pg_typeof(item_id) AS folded_item_type, count(*)
FROM rec.recommend_for_items(ARRAY['movie-1', 'movie-2', 'movie-50'], n => 5, model => 'keyed') GROUP BY 1;
-- Their candidates and exclude are arrays of text ids too.
SELECT array_agg(item_id ORDER BY item_id) AS similar_among_text_candidates
FROM rec.similar_items('movie-1', 5, 'keyed', candidates => ARRAY['movie-1', 'movie-2', 'movie-3', 'movie-4', 'no-such'],
                       exclude => ARRAY['movie-3']);
SELECT bool_and(item_id IN ('movie-4', 'movie-5')) AS folded_among_text_candidates, count(*)
FROM rec.recommend_for_items(ARRAY['movie-1', 'movie-2'], n => 5, model => 'keyed',
                             candidates => ARRAY['movie-2', 'movie-4', 'movie-5'], exclude => ARRAY['movie-9']);
-- An integer argument where the model has text ids: an error that says so.
SELECT error_of($$SELECT * FROM rec.similar_items(1, 5, 'keyed')$$);

-- recommend_all writes the ids in the source's types.
SELECT rec.recommend_all('keyed', 5, 'keyed_recs');
SELECT format_type(atttypid, NULL) AS column_type, attname FROM pg_attribute
WHERE attrelid = 'keyed_recs'::regclass AND attnum IN (1, 2) ORDER BY attnum;
-- The same lists as rec.recommend, up to items whose scores are equal within float rounding.
SELECT count(*) AS users_with_other_lists
FROM (SELECT user_id, array_agg(item_id ORDER BY rank) AS items, array_agg(score ORDER BY rank) AS scores
      FROM keyed_recs GROUP BY user_id) a,
     LATERAL (SELECT array_agg(item_id) AS items, array_agg(score) AS scores
              FROM rec.recommend(a.user_id, item_type => NULL::text, n => 5, model => 'keyed')) r
WHERE a.items IS DISTINCT FROM r.items
  AND (cardinality(a.items) <> cardinality(r.items)
       OR EXISTS (SELECT 1 FROM unnest(a.scores, r.scores) s(x, y) WHERE abs(x - y) > 1e-5 * abs(y) + 1e-6));

-- A refresh adds a new uuid user; an untyped parameter (some drivers send them) is read as text.
INSERT INTO keyed SELECT '7a7a7a7a-0000-4000-8000-000000000001', sku, rating, NULL, NULL FROM keyed WHERE customer = customer(1);
SELECT rec.refresh_users('keyed', ARRAY['7a7a7a7a-0000-4000-8000-000000000001'::uuid]) AS refreshed;
PREPARE recs_for(unknown) AS SELECT count(*) FROM rec.recommend($1, item_type => NULL::text, model => 'keyed');
EXECUTE recs_for('7a7a7a7a-0000-4000-8000-000000000001');
-- The new user rated what user 1 rated: mostly the same recommendations.
SELECT count(*) >= 7 AS like_the_user_copied
FROM rec.recommend('7a7a7a7a-0000-4000-8000-000000000001'::uuid, item_type => NULL::text, model => 'keyed') a
JOIN rec.recommend(customer(1), item_type => NULL::text, model => 'keyed') b USING (item_id);
SELECT n_users FROM rec.models WHERE name = 'keyed' AND deployed;
-- Text ids in the refresh array: a '{...}' literal is read as text[].
SELECT rec.refresh_items('keyed', '{movie-1,movie-2}') AS refreshed_items;

-- Evaluation reads the test rows' ids the same way; a test source of another id type is refused.
SELECT metric, CASE metric WHEN 'rmse' THEN value < 0.9 ELSE value = 0 END AS as_expected
FROM rec.evaluate('keyed', 'keyed', user_column => 'customer', item_column => 'sku')
WHERE metric IN ('rmse', 'unknown_user_rows');
SELECT error_of($$SELECT * FROM rec.evaluate('keyed', 'ratings')$$);

-- Integer ids keep their own type where the result follows an argument.
SELECT pg_typeof(item_id) AS integer_result FROM rec.similar_items(1, 1, 'movies');
SELECT error_of($$SELECT * FROM rec.similar_items(1::smallint, 100, 'movies')$$);
SELECT pg_typeof(item_id) AS named_integer_result FROM rec.recommend(1, item_type => NULL::integer, n => 1, model => 'movies');
SELECT pg_typeof(item_id) AS text_result_of_integer_model FROM rec.recommend(1, item_type => NULL::text, n => 1, model => 'movies');
SELECT error_of($$SELECT * FROM rec.recommend('not a number', model => 'movies')$$);
SELECT rec.drop_model('keyed');
