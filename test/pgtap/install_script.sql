-- The extension's install script and objects are safe to install into a database where other roles
-- can create objects: no SECURITY DEFINER functions, no SQL-language function without a pinned
-- search_path, and no CREATE OR REPLACE / IF NOT EXISTS that would adopt an object someone created
-- first.
BEGIN;
SELECT plan(4);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = 'pg_recommend' AND p.prosecdef), 0,
          'no SECURITY DEFINER function');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid JOIN pg_language l ON l.oid = p.prolang
           WHERE e.extname = 'pg_recommend' AND l.lanname NOT IN ('c', 'internal')
             AND NOT coalesce(p.proconfig::text LIKE '%search_path%', false)), 0,
          'every function that is not C pins its search_path');
CREATE TEMP TABLE script AS
SELECT pg_read_file((SELECT setting FROM pg_config WHERE name = 'SHAREDIR') || '/extension/pg_recommend--' ||
                    (SELECT extversion FROM pg_extension WHERE extname = 'pg_recommend') || '.sql') AS text;
SELECT ok((SELECT text FROM script) ~ 'CREATE TABLE @extschema@.model_versions', 'the install script was read');
SELECT ok((SELECT text !~* 'OR\s+REPLACE|IF\s+NOT\s+EXISTS' FROM script),
          'the install script has no CREATE OR REPLACE and no IF NOT EXISTS');
SELECT * FROM finish();
ROLLBACK;
