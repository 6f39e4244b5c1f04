-- Garden test: every function called with edge-case arguments (NULLs, zero, negative, the ends of
-- the integer types, NaN and infinities, empty and unknown names, wrong id types). Each call returns
-- or raises an error with a specific SQLSTATE: never an internal error (XX000), never a crash (the
-- test would stop). Its first run found rec.evaluate allocating 16 GB of gains for k = 2^31 (the
-- backend was killed); gains are now sized by the catalogue.
SET client_min_messages = error;
CALL rec.train('garden', 'tiny', factors => 2, iterations => 2);
CREATE TEMP TABLE garden_calls (fn text, call text);
CREATE TEMP TABLE ids (v text);
INSERT INTO ids VALUES ('NULL::int'), ('0'), ('-1'), ('1'), ('9223372036854775807'), ('-9223372036854775808'),
    ('''x'''), ('''a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11''::uuid'), ('''''');
CREATE TEMP TABLE counts (v text);
INSERT INTO counts VALUES ('NULL::int'), ('0'), ('-1'), ('1'), ('2147483647'), ('-2147483648');
CREATE TEMP TABLE models (v text);
INSERT INTO models VALUES ('NULL'), ('''garden'''), ('''no_such'''), ('''''');
CREATE TEMP TABLE id_arrays (v text);
INSERT INTO id_arrays VALUES ('NULL::bigint[]'), ('''{}''::bigint[]'), ('ARRAY[NULL::bigint]'), ('ARRAY[10, 10, 99]'),
    ('ARRAY[''x'']'), ('ARRAY[9223372036854775807]');
CREATE TEMP TABLE reals (v text);
INSERT INTO reals VALUES ('NULL'), ('0'), ('-1'), ('''NaN'''), ('''Infinity'''), ('''-Infinity'''), ('1e308');

INSERT INTO garden_calls
SELECT 'recommend', format('SELECT * FROM rec.recommend(%s, %s, %s)', u.v, n.v, m.v) FROM ids u, counts n, models m
UNION ALL
SELECT 'recommend typed', format('SELECT * FROM rec.recommend(%s, item_type => NULL::text, n => %s, model => %s, candidates => %s)', u.v, n.v, m.v, a.v)
FROM ids u, counts n, models m, id_arrays a WHERE n.v IN ('1', '2147483647')
UNION ALL
SELECT 'recommend filters', format('SELECT * FROM rec.recommend(1, 3, %s, true, %s, %s)', m.v, a.v, b.v)
FROM models m, id_arrays a, id_arrays b
UNION ALL
SELECT 'recommend_for_items', format('SELECT * FROM rec.recommend_for_items(%s, %s, %s, %s)', a.v,
       CASE WHEN r.v = 'NULL' THEN 'NULL' ELSE format('ARRAY[%s, 1, 1]::real[]', r.v) END, n.v, m.v)
FROM id_arrays a, reals r, counts n, models m WHERE a.v <> 'ARRAY[''x'']'
UNION ALL
SELECT 'similar_items', format('SELECT * FROM rec.similar_items(%s, %s, %s)', u.v, n.v, m.v) FROM ids u, counts n, models m
UNION ALL
SELECT 'similar_users', format('SELECT * FROM rec.similar_users(%s, %s, %s)', u.v, n.v, m.v) FROM ids u, counts n, models m
UNION ALL
SELECT 'predict', format('SELECT rec.predict(%s, %s, %s)', u.v, i.v, m.v) FROM ids u, ids i, models m
UNION ALL
SELECT 'explain', format('SELECT * FROM rec.explain(%s, %s, %s, %s)', u.v, i.v, n.v, m.v)
FROM ids u, ids i, counts n, models m WHERE i.v NOT LIKE '%uuid' AND n.v IN ('NULL::int', '-1', '2147483647')
UNION ALL
SELECT 'refresh', format('SELECT rec.refresh_users(%s, %s)', m.v, a.v) FROM models m, id_arrays a
UNION ALL
SELECT 'refresh items', format('SELECT rec.refresh_items(%s, %s)', m.v, a.v) FROM models m, id_arrays a
UNION ALL
SELECT 'evaluate', format('SELECT * FROM rec.evaluate(%s, %s, %s)', m.v, s, n.v)
FROM models m, unnest(ARRAY['NULL', '''tiny''', '''no_such''', '''''', '''tiny; SELECT 1''']) s, counts n
UNION ALL
SELECT 'train', format('CALL rec.train(''garden_t'', ''tiny'', factors => %s, iterations => %s, regularization => %s)', f.v, i.v, r.v)
FROM counts f, counts i, reals r WHERE f.v <> '1' AND i.v <> '1'
UNION ALL
SELECT 'train algorithms', format('CALL rec.train(''garden_t'', ''tiny'', algorithm => %L, factors => 2, iterations => 1, alpha => %s)', a, r.v)
FROM unnest(ARRAY['als', 'ials', 'bpr', '', 'ALS', NULL]) a, reals r
UNION ALL
SELECT 'lifecycle', format('SELECT rec.%s(%s, %s)', fn, m.v, n.v)
FROM unnest(ARRAY['deploy', 'prune']) fn, models m, counts n
UNION ALL
SELECT 'rollback and drop', format('SELECT rec.%s(%s)', fn, m.v) FROM unnest(ARRAY['rollback', 'drop_model']) fn, models m
UNION ALL
SELECT 'grant', format('SELECT rec.%s(%s, %s)', fn, m.v, r) FROM unnest(ARRAY['grant', 'revoke']) fn, models m,
       unnest(ARRAY['NULL', '''public''', '''no_such_role''', '''''']) r
UNION ALL
SELECT 'split', format('SELECT * FROM rec.split(''tiny'', %s, ''garden_test'', %L, %s)', t, meth, r.v)
FROM unnest(ARRAY['NULL', '''''', '''garden_train''']) t, unnest(ARRAY['random', 'per_user', 'time', 'nope']) meth, reals r
UNION ALL
SELECT 'recommend_all', format('SELECT rec.recommend_all(%s, %s, %s)', m.v, n.v, t)
FROM models m, counts n, unnest(ARRAY['NULL', '''''', '''garden_all''']) t
UNION ALL
SELECT 'tune', format('CALL rec.tune(''garden_tune'', ''tiny'', ''tiny'', %s)', g)
FROM unnest(ARRAY['NULL', '''{}''', '''[]''', '''{"factors": []}''', '''{"factors": [0]}''', '''{"factors": ["x"]}''',
                  '''{"nope": [1]}''', '''{"factors": [2], "iterations": [1]}''']) g;

-- Each call in its own subtransaction; the SQLSTATE (or 'ok') of each.
CREATE TEMP TABLE garden_results AS
SELECT fn, call, CASE WHEN r = 'no error' THEN 'ok' ELSE left(r, 5) END AS outcome
FROM (SELECT fn, call, error_of(call) AS r FROM garden_calls) s;
SELECT count(*) > 2000 AS many_calls, count(*) FILTER (WHERE outcome = 'ok') > 500 AS many_succeeded
FROM garden_results;
-- The SQLSTATEs seen: data exceptions (22...), names and types (42...), object state (55000); the
-- list is part of the expected output, so a new kind of failure shows up as a difference.
SELECT outcome, count(*) > 0 AS seen FROM garden_results WHERE outcome <> 'ok' GROUP BY outcome ORDER BY outcome;
SELECT fn, call, outcome FROM garden_results WHERE outcome LIKE 'XX%' OR outcome LIKE '58%' ORDER BY fn, call;
SELECT rec.drop_model(name) FROM (SELECT DISTINCT name FROM rec.models WHERE name LIKE 'garden%') m;
