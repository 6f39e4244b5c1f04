#!/usr/bin/env bash
# The memory a training counts (its NOTICE "peak memory about N MB", the figure rec.max_memory is
# checked against) is within 25% of what the backend really holds at its peak (RssAnon sampled from
# /proc every 20 ms, less the backend's own before the call), for als and ials on 3 M rows. Against the
# server in PG* variables, run by a user who may read the backend's /proc (root or the server's user).
set -euo pipefail
source "$(dirname "$0")/checks.sh"
sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS memory_ratings" \
    -c "CREATE TABLE memory_ratings AS SELECT (g * 7919) % 100000 AS user_id, (g * 104729) % 20000 AS item_id,
               1 + (g % 5) AS rating FROM generate_series(1, 3000000::bigint) g" \
    -c "VACUUM ANALYZE memory_ratings"

# Trains in a fresh backend while sampling its private memory; prints "counted_mb measured_mb".
counted_and_measured() {
    local pidfile notices
    pidfile=$(mktemp); notices=$(mktemp)
    psql -X -q -At -v ON_ERROR_STOP=1 > /dev/null 2> "$notices" <<SQL &
SELECT pg_backend_pid() \g $pidfile
SELECT pg_sleep(0.5);
CALL rec.train('memory_check', 'memory_ratings', $1);
SQL
    local job=$! pid="" base peak=0 value
    for _ in $(seq 100); do pid=$(cat "$pidfile" 2>/dev/null || true); [ -n "$pid" ] && break; sleep 0.01; done
    base=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
    while kill -0 $job 2>/dev/null; do
        value=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        if [ -n "$value" ] && [ "$value" -gt "$peak" ]; then peak=$value; fi
        sleep 0.02
    done
    wait $job
    local counted
    counted=$(grep -oE 'peak memory about [0-9]+ MB' "$notices" | awk '{print $4}')
    echo "$counted $(( (peak - base) / 1024 ))"
    rm -f "$pidfile" "$notices"
}

for arguments in "algorithm => 'als', iterations => 3" "algorithm => 'ials', iterations => 3"; do
    read -r counted measured <<< "$(counted_and_measured "$arguments")"
    echo "# $arguments: counted $counted MB, measured $measured MB"
    check "$arguments: the counted peak is within 25% of the measured one" \
        "$(awk -v c="$counted" -v m="$measured" 'BEGIN {r = c / m; print (r >= 0.75 && r <= 1.25) ? "yes" : "no, ratio " r}')" yes
    sql -c "SELECT rec.drop_model('memory_check')" > /dev/null
done
sql -c "DROP TABLE memory_ratings"
finish
