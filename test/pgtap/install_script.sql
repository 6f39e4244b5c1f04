-- The extension's install and update scripts and objects are safe to install into a database where other roles
-- can create objects: no SECURITY DEFINER functions, no SQL-language function without a pinned
-- search_path, and no CREATE OR REPLACE / IF NOT EXISTS that would adopt an object someone created
-- first.
BEGIN;
SELECT plan(6);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = 'pg_recommend' AND p.prosecdef), 0,
          'no SECURITY DEFINER function');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid JOIN pg_language l ON l.oid = p.prolang
           WHERE e.extname = 'pg_recommend' AND l.lanname NOT IN ('c', 'internal')
             AND NOT coalesce(p.proconfig::text LIKE '%search_path%', false)), 0,
          'every function that is not C pins its search_path');
-- Every script: the current install script, those of earlier versions, and the update scripts.
CREATE TEMP TABLE script AS
SELECT name, pg_read_file(dir || '/' || name) AS text
FROM (SELECT (SELECT setting FROM pg_config WHERE name = 'SHAREDIR') || '/extension' AS dir) d,
     pg_ls_dir(d.dir) AS name
WHERE name ~ '^pg_recommend--.*\.sql$';
SELECT ok((SELECT text FROM script WHERE name = 'pg_recommend--' ||
           (SELECT extversion FROM pg_extension WHERE extname = 'pg_recommend') || '.sql')
          ~ 'CREATE TABLE @extschema@.model_versions', 'the install script was read');
SELECT ok((SELECT count(*) FROM script WHERE name ~ '--.*--') >= 1, 'the update scripts were read');
SELECT is((SELECT string_agg(name, ', ') FROM script WHERE text ~* 'OR\s+REPLACE|IF\s+NOT\s+EXISTS'), NULL,
          'no script has CREATE OR REPLACE or IF NOT EXISTS');
SELECT is((SELECT string_agg(name, ', ') FROM script WHERE text !~ '^(--[^\n]*\n)*\\echo [^\n]*\\quit'), NULL,
          'every script refuses to run in psql (\echo ... \quit before any command)');
SELECT * FROM finish();
ROLLBACK;
