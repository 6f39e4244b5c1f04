#!/usr/bin/env bash
# Every ALTER EXTENSION UPDATE path (issue 6): for each older version, a database created at that version,
# with a model trained and deployed, is updated to the default version. Its extension must then equal a
# fresh install object for object (definitions, columns, indexes, constraints, policies, privileges,
# comments, dumped tables), and the old model must serve the same list and train again. Against the
# server in PG* variables, as a superuser (it creates databases).
set -euo pipefail
source "$(dirname "$0")/checks.sh"

# Everything of the extension a user could notice, by name (never an OID), one line per fact.
fingerprint() {
    sql -d "$1" <<'SQL'
WITH members AS (
    SELECT d.classid, d.objid, d.objsubid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
    WHERE e.extname = 'pg_recommend' AND d.deptype = 'e' AND d.classid <> 'pg_extension'::regclass),
member_relations AS (SELECT objid AS oid FROM members WHERE classid = 'pg_class'::regclass)
SELECT string_agg(fact, E'\n' ORDER BY fact) FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
    UNION ALL
    SELECT 'comment ' || pg_describe_object(m.classid, m.objid, m.objsubid) || ': ' || c.description
    FROM members m JOIN pg_description c ON c.classoid = m.classid AND c.objoid = m.objid AND c.objsubid = m.objsubid
    UNION ALL
    SELECT 'function ' || pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, 'default')
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' rls ' || c.relrowsecurity
           || ' options ' || coalesce(c.reloptions::text, '') || ' acl ' || coalesce(c.relacl::text, 'default')
    FROM pg_class c JOIN member_relations USING (oid)
    UNION ALL
    SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' #' || a.attnum || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '') || ' acl ' || coalesce(a.attacl::text, '')
    FROM pg_attribute a JOIN member_relations r ON r.oid = a.attrelid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN member_relations r ON r.oid = i.indrelid
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(c.oid)
    FROM pg_constraint c JOIN member_relations r ON r.oid = c.conrelid
    UNION ALL
    SELECT 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || cmd || ' ' || roles::text
           || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
    FROM pg_policies WHERE schemaname = 'rec'
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN member_relations r ON r.oid = t.tgrelid
    UNION ALL
    SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
    FROM pg_class c JOIN member_relations USING (oid) WHERE c.relkind = 'v'
    UNION ALL
    SELECT 'dumped ' || cfg::regclass || ' ' || coalesce(cond, '')
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond) WHERE e.extname = 'pg_recommend'
    UNION ALL
    SELECT 'schema acl ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'rec'
) facts(fact);
SQL
}

default=$(sql -c "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_recommend'")
sql -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS update_fresh" -c "CREATE DATABASE update_fresh"
sql -d update_fresh -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_recommend"
fresh=$(fingerprint update_fresh)
check "the fresh install's fingerprint lists the extension's functions" \
      "$(grep -c "^member function rec.recommend(" <<< "$fresh")" "2"

older=$(sql -c "SELECT string_agg(version, ' ' ORDER BY version) FROM pg_available_extension_versions
                WHERE name = 'pg_recommend' AND version <> '$default'")
check "there is at least one older version to update from" "$([ -n "$older" ] && echo yes)" "yes"
for version in $older; do
    check "an update path leads from $version to $default" \
          "$(sql -c "SELECT path IS NOT NULL FROM pg_extension_update_paths('pg_recommend')
                     WHERE source = '$version' AND target = '$default'")" "t"
    db="update_from_${version//./_}"
    sql -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    sql -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_recommend VERSION '$version'" \
        -c "CREATE TABLE ratings AS SELECT u AS user_id, i AS item_id, 1 + (u * 7 + i * 3) % 5 AS rating
            FROM generate_series(1, 60) u, generate_series(1, 40) i WHERE (u + i) % 3 <> 0" \
        -c "CALL rec.train('kept', 'ratings', factors => 8, iterations => 5)"
    before=$(sql -d "$db" -c "SELECT string_agg(item_id::text, ',' ORDER BY score DESC, item_id) FROM rec.recommend(1, 10, 'kept')")
    check "$version: the database was created at $version" \
          "$(sql -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_recommend'")" "$version"
    sql -d "$db" -c "ALTER EXTENSION pg_recommend UPDATE"
    check "$version: ALTER EXTENSION UPDATE reaches $default" \
          "$(sql -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_recommend'")" "$default"
    updated=$(fingerprint "$db")
    check "$version -> $default: the extension equals a fresh install, object for object" \
          "$(diff <(echo "$fresh") <(echo "$updated") || true)" ""
    check "$version -> $default: the model trained before serves the same list" \
          "$(sql -d "$db" -c "SELECT string_agg(item_id::text, ',' ORDER BY score DESC, item_id) FROM rec.recommend(1, 10, 'kept')")" \
          "$before"
    sql -d "$db" -c "SET client_min_messages = warning" -c "CALL rec.train('kept', 'ratings', factors => 8, iterations => 5)"
    check "$version -> $default: training continues at version 2, deployed" \
          "$(sql -d "$db" -c "SELECT version FROM rec.models WHERE name = 'kept' AND deployed")" "2"
    sql -c "DROP DATABASE $db"
done
sql -c "DROP DATABASE update_fresh"
finish
