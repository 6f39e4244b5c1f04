#!/usr/bin/env bash
# Two trainings of one model name at once (issue 5): the second waits for the first (wait => true, the
# default) and becomes the next version, or fails at once with 55P03 (wait => false); nothing is lost
# or numbered twice. Against the server in PG* variables.
set -euo pipefail
source "$(dirname "$0")/checks.sh"
sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS busy_ratings" \
    -c "SELECT rec.drop_model(name) FROM (SELECT DISTINCT name FROM rec.models WHERE name = 'busy') m" \
    -c "CREATE TABLE busy_ratings AS SELECT u AS user_id, i AS item_id, 1 + (u * i) % 5 AS rating
        FROM generate_series(1, 50) u, generate_series(1, 40) i"

# The first training holds its transaction open for two seconds after training.
sql -c "SET client_min_messages = warning" -c "BEGIN" \
    -c "CALL rec.train('busy', 'busy_ratings', factors => 4, iterations => 2)" \
    -c "SELECT pg_sleep(2)" -c "COMMIT" > /dev/null &
first=$!
sleep 0.7
refused=$(psql -X -q -At -c "SET client_min_messages = warning" -c "\\set VERBOSITY sqlstate" \
          -c "CALL rec.train('busy', 'busy_ratings', factors => 4, iterations => 2, wait => false)" 2>&1 || true)
check "wait => false while another session trains the model: 55P03" "$refused" "ERROR:  55P03"
started=$(date +%s%N)
sql -c "SET client_min_messages = warning" -c "CALL rec.train('busy', 'busy_ratings', factors => 4, iterations => 2)"
waited_ms=$(( ($(date +%s%N) - started) / 1000000 ))
wait $first
check "the default waits for the first training to commit" "$([ "$waited_ms" -gt 800 ] && echo waited || echo "did not wait (${waited_ms} ms)")" "waited"
check "the two trainings are versions 1 and 2, the second deployed" \
      "$(sql -c "SELECT string_agg(version || ':' || deployed, ' ' ORDER BY version) FROM rec.models WHERE name = 'busy'")" \
      "1:false 2:true"
sql -c "SELECT rec.drop_model('busy')" -c "DROP TABLE busy_ratings" > /dev/null
finish
