-- The bad-input catalogue of rec.log_impressions: NULLs, non-arrays, empty lists, unknown models and
-- versions, ids of the wrong kind.
SET client_min_messages = warning;
CALL rec.train('bad_log', 'tiny', factors => 2, iterations => 2);
SELECT error_of($$SELECT rec.log_impressions('bad_log', NULL::int, ARRAY[10])$$);
SELECT error_of($$SELECT rec.log_impressions('bad_log', 1, NULL::int[])$$);
SELECT error_of($$SELECT rec.log_impressions('bad_log', 1, 10)$$);
SELECT error_of($$SELECT rec.log_impressions('no_such_model', 1, ARRAY[10])$$);
SELECT error_of($$SELECT rec.log_impressions('bad_log', 1, ARRAY[10], version => 9)$$);
SELECT error_of($$SELECT rec.log_impressions('bad_log', 1, ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid])$$);
SELECT error_of($$SELECT rec.log_impressions('bad_log', '1'::text, ARRAY['ten']::text[])$$);
-- An empty list records nothing; NULL elements are left out; items the model never saw are kept
-- (the application may show new titles).
SELECT rec.log_impressions('bad_log', 1, ARRAY[]::int[]) AS empty,
       rec.log_impressions('bad_log', 1, ARRAY[10, NULL, 99]) AS with_null_and_new;
SELECT user_id, items, version FROM rec.impressions WHERE model = 'bad_log';
SELECT rec.drop_model('bad_log');
