#!/usr/bin/env bash
# Serving under concurrency (issue 4, checks 2 and 6), against the server in PG* variables, which must
# have pg_recommend in shared_preload_libraries:
#  - ten connections serving one model use one shared copy of it: none of them holds its own;
#  - retraining a model while 8 clients call rec.recommend in a loop gives zero errors, and every
#    result is exactly the old version's or the new version's list, never a mix.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
chmod a+rwx "$work"
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/checks.sh"

sql -v csv="$root/data/ml-latest-small/ratings.csv" <<'SQL'
SET client_min_messages = warning;
-- Leftovers of an interrupted run.
DROP TABLE IF EXISTS live_a, live_b, expected_a, expected_b, observed;
SELECT rec.drop_model(name) FROM (SELECT DISTINCT name FROM rec.models WHERE name IN ('shared_probe', 'live')) m;
CREATE TABLE live_a (user_id int, item_id int, rating real, ts bigint);
COPY live_a FROM :'csv' WITH (FORMAT csv, HEADER true);
-- The same ratings on other item ids: a list from this model's versions can never pass for one of
-- live_a's, so a mixed result cannot go unnoticed.
CREATE TABLE live_b AS SELECT user_id, item_id + 1000000 AS item_id, rating FROM live_a;
CALL rec.train('shared_probe', 'live_a', factors => 64, iterations => 3);
SQL

# Ten connections at once (each holds its connection for a second while the others run).
for c in $(seq 1 10); do
    sql -c "SELECT count(*) FROM rec.recommend($c, 10, 'shared_probe')" -c "SELECT pg_sleep(1)" \
        -c "SELECT (SELECT count(*) FROM rec.cache_status() s JOIN rec.models m USING (model_id)
                    WHERE m.name = 'shared_probe' AND s.shared) || ' shared, ' ||
                   (SELECT count(*) FROM rec.cache_status() s JOIN rec.models m USING (model_id)
                    WHERE m.name = 'shared_probe' AND NOT s.shared) || ' own, ' ||
                   (SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'pg_recommend model') ||
                   ' model contexts'" > "$work/connection_$c" &
done
wait
answers=$(for c in $(seq 1 10); do sed -n 1p "$work/connection_$c"; done | sort | uniq -c | awk '{print $1 "x" $2}')
check "ten connections each got 10 recommendations" "$answers" "10x10"
copies=$(for c in $(seq 1 10); do tail -n 1 "$work/connection_$c"; done | sort | uniq -c | sed 's/^ *//')
check "each of ten connections served the one shared copy and held none of its own" "$copies" \
      "10 1 shared, 0 own, 0 model contexts"
# Ten first calls at once: one of them reads the model from the tables, the others wait for it.
check "the shared copy was used by all ten and read from the tables once" \
      "$(sql -c "SELECT count(*) || ' entry, ' || (sum(hits) >= 10) || ', ' || sum(loads) || ' load' FROM rec.cache_status() s
                 JOIN rec.models m USING (model_id) WHERE m.name = 'shared_probe'")" "1 entry, true, 1 load"

# A backend whose read of a model fails, caught in a subtransaction, gives up its reservation at once:
# another backend asking for the model meanwhile gets the same error, not an endless wait.
sql -c "SET client_min_messages = warning" -c "CALL rec.train('broken_probe', 'live_a', factors => 4, iterations => 1)" \
    -c "DELETE FROM rec.item_factors WHERE model_id = (SELECT model_id FROM rec.models WHERE name = 'broken_probe')
        AND item_id = (SELECT min(item_id) FROM live_a)" > /dev/null
sql -c "BEGIN" -c "DO \$\$ BEGIN PERFORM * FROM rec.recommend(1, 1, 'broken_probe');
                   EXCEPTION WHEN data_corrupted THEN NULL; END \$\$" -c "SELECT pg_sleep(3)" -c "COMMIT" > /dev/null &
holder=$!
sleep 0.5
other=$(psql -X -q -At -c "SET statement_timeout = '2s'" -c "\\set VERBOSITY sqlstate" \
        -c "SELECT * FROM rec.recommend(1, 1, 'broken_probe')" 2>&1 || true)
wait $holder
check "a failed, caught read leaves no one waiting" "$other" "ERROR:  XX001"
sql -c "SET client_min_messages = warning" -c "SELECT rec.drop_model('broken_probe')" > /dev/null

# model_ids are per database (and restart when the extension is created again): the shared cache must
# never serve one database's model for another's with the same id.
probe_id=$(sql -c "SELECT model_id FROM rec.models WHERE name = 'shared_probe'")
psql -X -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS rec_other_db" -c "CREATE DATABASE rec_other_db"
other() { PGDATABASE=rec_other_db sql "$@"; }
other -c "CREATE EXTENSION pg_recommend" \
      -c "CREATE TABLE shifted AS SELECT user_id, item_id + 1000000 AS item_id, rating
          FROM (VALUES (1, 1, 5.0), (1, 2, 3.0), (2, 1, 4.0), (2, 3, 1.0), (3, 2, 2.0), (3, 3, 5.0)) v(user_id, item_id, rating)" \
      -c "SELECT setval('rec.model_id_seq', $probe_id, false)" \
      -c "SET client_min_messages = warning" -c "CALL rec.train('shared_probe', 'shifted', factors => 2, iterations => 2)" \
      > /dev/null
check "the other database's model has the same model_id" \
      "$(other -c "SELECT model_id FROM rec.models WHERE name = 'shared_probe'")" "$probe_id"
check "each database is served its own model" \
      "$(sql -c "SELECT bool_and(item_id < 1000000) FROM rec.recommend(1, 5, 'shared_probe')") $(other -c "SELECT bool_and(item_id >= 1000000) FROM rec.recommend(1, 5, 'shared_probe')")" \
      "t t"
# The same model_id again after DROP EXTENSION / CREATE EXTENSION: the new model is served.
other -c "DROP EXTENSION pg_recommend" -c "CREATE EXTENSION pg_recommend" \
      -c "UPDATE shifted SET item_id = item_id + 1000000" \
      -c "SELECT setval('rec.model_id_seq', $probe_id, false)" \
      -c "SET client_min_messages = warning" -c "CALL rec.train('shared_probe', 'shifted', factors => 2, iterations => 2)" \
      > /dev/null
check "a re-created extension's model with a reused model_id is served, not the old one" \
      "$(other -c "SELECT bool_and(item_id >= 2000000) FROM rec.recommend(1, 5, 'shared_probe')")" "t"
psql -X -q -c "DROP DATABASE rec_other_db"

# Retraining under load.
# save_served_lists TABLE SOURCE: every user's list as 'live' serves it now, into a new TABLE.
save_served_lists() {
    sql -c "CREATE TABLE $1 AS
            SELECT u.user_id, l.items, l.scores
            FROM (SELECT DISTINCT user_id FROM $2) u,
                 LATERAL (SELECT array_agg(item_id ORDER BY score DESC, item_id) AS items,
                                 array_agg(score ORDER BY score DESC, item_id) AS scores
                          FROM rec.recommend(u.user_id, 10, 'live')) l"
}
sql -c "SET client_min_messages = warning" -c "CALL rec.train('live', 'live_a', factors => 16, iterations => 5)" \
    -c "CREATE TABLE observed (user_id int, items bigint[], scores real[])"
save_served_lists expected_a live_a
cat > "$work/loop.pgb" <<'SQL'
\set u random(1, 610)
INSERT INTO observed SELECT :u, array_agg(item_id ORDER BY score DESC, item_id), array_agg(score ORDER BY score DESC, item_id) FROM rec.recommend(:u, 10, 'live');
SQL
pgbench -n -c 8 -j 2 -T 8 -f "$work/loop.pgb" > "$work/pgbench.out" 2>&1 &
bench=$!
# Alternate the sources: B, A (identical to the first version: training is deterministic), B.
for source in live_b live_a live_b; do
    sleep 1.5
    sql -c "SET client_min_messages = warning" -c "CALL rec.train('live', '$source', factors => 16, iterations => 5)"
done
bench_status=0
wait $bench || bench_status=$?
# pgbench exits non-zero when a client hit an error.
check "pgbench with 8 clients ran without an error" "$bench_status" "0"
[ "$bench_status" = 0 ] || cat "$work/pgbench.out"
save_served_lists expected_b live_b
verdict=$(sql -c "
SELECT count(*) FILTER (WHERE a.user_id IS NULL AND b.user_id IS NULL) || ' mixed or unknown, ' ||
       (count(*) FILTER (WHERE a.user_id IS NOT NULL) > 0) || ' old seen, ' ||
       (count(*) FILTER (WHERE b.user_id IS NOT NULL) > 0) || ' new seen, ' ||
       (count(*) >= 100) || ' enough calls'
FROM observed o
LEFT JOIN expected_a a ON a.user_id = o.user_id AND a.items = o.items AND a.scores = o.scores
LEFT JOIN expected_b b ON b.user_id = o.user_id AND b.items = o.items AND b.scores = o.scores")
check "every result during retraining is exactly the old or the new version's" "$verdict" \
      "0 mixed or unknown, true old seen, true new seen, true enough calls"
echo "  ($(sql -c "SELECT count(*) FROM observed") calls observed)"

sql -c "SET client_min_messages = warning" -c "SELECT rec.drop_model('shared_probe'), rec.drop_model('live')" \
    -c "DROP TABLE live_a, live_b, expected_a, expected_b, observed" > /dev/null
finish
