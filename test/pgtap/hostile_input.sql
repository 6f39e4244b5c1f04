-- Hostile and unusual names and objects: no SQL injection through name arguments, every legal
-- identifier works, a temporary table that shadows the source is reported, column privileges apply,
-- and objects a user places on the search_path cannot change what pg_recommend's own SQL does.
BEGIN;
SELECT plan(20);
SET LOCAL client_min_messages = warning;

CREATE TABLE ratings (user_id int, item_id int, rating real);
INSERT INTO ratings SELECT u, i, 1 + (u * 7 + i * 13) % 5
FROM generate_series(1, 40) u, generate_series(1, 30) i WHERE (u + i) % 3 = 0;
CREATE TABLE victim (x int);
CALL rec.train('base', 'ratings', factors => 2, iterations => 1);

-- Names are resolved as names, never pasted into SQL.
SELECT throws_ok($$CALL rec.train('m', 'ratings; DROP TABLE victim')$$, '42602', NULL,
                 'a source name with SQL in it is an invalid name');
SELECT throws_ok($$CALL rec.train('m', 'ratings', user_column => 'user_id FROM ratings; DROP TABLE victim; --')$$,
                 '42703', NULL, 'a column name with SQL in it is an unknown column');
SELECT throws_ok($$SELECT rec.recommend_all('base', 5, 'x (a int); DROP TABLE victim; --')$$, '42602', NULL,
                 'a target table name with SQL in it is refused');
SELECT throws_ok($$SELECT * FROM rec.split('ratings', 't1; DROP TABLE victim', 't2')$$, '42602', NULL,
                 'a split table name with SQL in it is refused');
SELECT has_table('victim', 'the victim table survived every attempt');

-- Quoted, mixed-case, dotted and Unicode identifiers.
CREATE SCHEMA "Odd.Schema";
CREATE TABLE "Odd.Schema"."Ratings Ünïcødé ""q""" ("User Id" int, "ÍtemId" bigint, "Rating!" real);
INSERT INTO "Odd.Schema"."Ratings Ünïcødé ""q""" SELECT * FROM ratings;
SELECT lives_ok($$CALL rec.train('odd', '"Odd.Schema"."Ratings Ünïcødé ""q"""', user_column => 'User Id',
                                 item_column => 'ÍtemId', rating_column => 'Rating!', factors => 4, iterations => 2)$$,
                'quoted, mixed-case, dotted and Unicode names train');
SELECT is((SELECT source FROM rec.models WHERE name = 'odd'), '"Odd.Schema"."Ratings Ünïcødé ""q"""',
          'the source is recorded schema-qualified and quoted');
SELECT is((SELECT count(*)::int FROM rec.recommend(1, 5, 'odd')), 5, 'and the model serves');
SELECT lives_ok($$SELECT rec.refresh_users('odd', ARRAY[1, 2])$$, 'refreshing reads the odd names again');
SELECT lives_ok($$SELECT rec.recommend_all('odd', 3, '"Odd.Schema"."Recs ✓"')$$, 'a Unicode target table name works');
SELECT is((SELECT count(*)::int FROM "Odd.Schema"."Recs ✓"), 120, 'and holds every user''s list');

-- A temporary table that hides the source is used as PostgreSQL would (with a WARNING, asserted in
-- test/sql/bad_input_train.sql), and recorded as such.
CREATE TEMP TABLE ratings AS SELECT * FROM public.ratings WHERE user_id <= 10;
SET LOCAL client_min_messages = error;
SELECT lives_ok($$CALL rec.train('shadowed', 'ratings', factors => 4, iterations => 2)$$,
                'an unqualified name finds the temporary table, as in a query');
SET LOCAL client_min_messages = warning;
SELECT is((SELECT n_users FROM rec.models WHERE name = 'shadowed'), 10, 'the temporary table was read');
SELECT is((SELECT source FROM rec.models WHERE name = 'shadowed'), pg_my_temp_schema()::regnamespace || '.ratings',
          'and the recorded source names it');
SELECT lives_ok($$CALL rec.train('qualified', 'public.ratings', factors => 4, iterations => 2)$$,
                'a qualified name reads the permanent table');
SELECT is((SELECT n_users FROM rec.models WHERE name = 'qualified'), 40, 'all of it');
DROP TABLE pg_temp.ratings;

-- Column privileges: SELECT on the table's other columns is not enough.
CREATE ROLE rec_carol;
GRANT SELECT (user_id, item_id) ON ratings TO rec_carol;
SET LOCAL ROLE rec_carol;
SELECT throws_ok($$CALL rec.train('carol', 'ratings', factors => 4)$$, '42501', NULL,
                 'training needs SELECT on the rating column too');
RESET ROLE;

-- Objects on the caller's search_path do not change pg_recommend's SQL: an `=` for integers that is
-- always true, and a pg_temp function named like a catalogue one.
CREATE TEMP TABLE before AS SELECT * FROM rec.recommend(1, 10, 'qualified');
CREATE FUNCTION public.always_true(int, int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR public.= (LEFTARG = int, RIGHTARG = int, FUNCTION = public.always_true);
CREATE FUNCTION public.always_true8(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.always_true8);
CREATE FUNCTION pg_temp.nextval(regclass) RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint';
SET LOCAL search_path = public, pg_catalog, pg_temp;
SELECT lives_ok($$CALL rec.train('qualified', 'ratings', factors => 4, iterations => 2)$$,
                'training works with hostile operators first on the search_path');
SELECT results_eq($$SELECT item_id FROM rec.recommend(1, 10, 'qualified') ORDER BY item_id$$,
                  $$SELECT item_id FROM pg_temp.before ORDER BY item_id$$,
                  'and the retrained model (same data, same seed) recommends the same items');
SELECT lives_ok($$SELECT rec.refresh_users('qualified', ARRAY[1])$$,
                'refreshing, which filters rows by id, is unaffected');
RESET search_path;
SELECT * FROM finish();
ROLLBACK;
