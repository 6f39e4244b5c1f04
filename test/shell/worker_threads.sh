#!/usr/bin/env bash
# Many trainings at once respect rec.max_worker_threads (issue 6): four sessions each ask for 3 threads
# (2 workers) under a cap of 2 workers; at no moment do the runs hold more than 2 workers together, no
# backend runs more threads at once than its lease says, and every worker comes back: after the runs, after a
# cancelled run (ERROR) and after a terminated one (FATAL). Scoring a large catalogue draws from the pool too. Against the server in PG* variables, as a
# superuser (it changes the cap with ALTER SYSTEM).
set -euo pipefail
source "$(dirname "$0")/checks.sh"
cap=2
sql -c "ALTER SYSTEM SET rec.max_worker_threads = $cap" -c "SELECT pg_reload_conf()" > /dev/null
trap 'sql -c "ALTER SYSTEM RESET rec.max_worker_threads" -c "SELECT pg_reload_conf()" > /dev/null' EXIT
sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS pool_ratings" \
    -c "CREATE TABLE pool_ratings AS SELECT (g * 7919) % 30000 AS user_id, (g * 104729) % 3000 AS item_id,
               1 + (g % 5) AS rating FROM generate_series(1, 1000000::bigint) g"
for _ in $(seq 50); do [ "$(sql -c "SHOW rec.max_worker_threads")" = "$cap" ] && break; sleep 0.1; done
check "the new cap is in effect" "$(sql -c "SHOW rec.max_worker_threads")" "$cap"

# The exact solver keeps the parallel part long enough (about a second) for the sampler below to see
# each run's OpenMP threads; with the default CG it lasts a quarter of a second and can be missed.
train() {  # model name, then extra psql arguments; prints the notices
    psql -X -q -At -c "SET rec.threads = 3" "${@:2}" -c "CALL rec.train(model => '$1', source => 'pool_ratings',
        factors => 32, iterations => 12, solver => 'cholesky')" 2>&1
}
notices=$(mktemp -d)
for run in 1 2 3 4; do train "pool$run" > "$notices/$run" & done

# Sample the leases until every run is done: workers held together, runs at once, and each backend's
# threads on a CPU (state R: the session's own plus its busy OpenMP workers) against its lease. Threads
# libgomp keeps idle between a run's phases (indexing may lease 3, training 1) sleep and do not count;
# one still spinning down from the last phase can show as R for a moment, so an excess counts only when
# two samples in a row see it.
# A backend can end between the lease query and these reads: a missing /proc entry counts 0 (under
# pipefail its failing sed or ls would otherwise end the whole script, silently).
running_threads() { { sed 's/.*) //' /proc/"$1"/task/*/stat 2>/dev/null || true; } | awk '$1 == "R"' | wc -l; }
most_workers=0; most_os_threads=0; most_runs=0; over_lease=""; declare -A over_before=()
while [ -n "$(jobs -r)" ]; do
    leases=$(sql -c "SELECT pid || ' ' || threads FROM rec.worker_threads()")
    workers=0; runs=0; declare -A over_now=()
    while read -r pid threads; do
        [ -z "$pid" ] && continue
        workers=$((workers + threads - 1)); runs=$((runs + 1))
        os_threads=$(running_threads "$pid")
        tasks=$({ ls "/proc/$pid/task" 2>/dev/null || true; } | wc -l)
        [ "$tasks" -gt "$most_os_threads" ] && most_os_threads=$tasks
        if [ "$os_threads" -gt "$threads" ]; then
            over_now[$pid]=1
            [ -n "${over_before[$pid]:-}" ] && over_lease="$over_lease pid $pid: $os_threads threads running, lease $threads;"
        fi
    done <<< "$leases"
    over_before=(); for pid in "${!over_now[@]}"; do over_before[$pid]=1; done; unset over_now
    [ "$workers" -gt "$most_workers" ] && most_workers=$workers
    [ "$runs" -gt "$most_runs" ] && most_runs=$runs
    sleep 0.05
done
wait
check "at least three runs were under way at once" "$([ "$most_runs" -ge 3 ] && echo yes || echo "at most $most_runs")" "yes"
check "workers held together never exceeded the cap of $cap" "$([ "$most_workers" -le "$cap" ] && echo yes || echo "$most_workers")" "yes"
check "no backend ran more threads than its lease" "$over_lease" ""
check "some sampled backend had OpenMP threads (so counting the running ones means something)" \
      "$([ "$most_os_threads" -ge 2 ] && echo yes || echo "at most $most_os_threads")" "yes"
check "a run held back by the cap said so" \
      "$(cat "$notices"/* | grep -q "NOTICE:  running on 1 of the 3 threads rec.threads asks for" && echo yes)" "yes"
check "all four runs stored a model" "$(sql -c "SELECT count(*) FROM rec.models WHERE name LIKE 'pool_'")" "4"
check "every worker is back after the runs" "$(sql -c "SELECT count(*) FROM rec.worker_threads()")" "0"

# A run stopped by an error (cancel) or by FATAL (terminate) gives its workers back: a run started after
# gets all it asks for.
wait_for_lease() {
    for _ in $(seq 200); do
        pid=$(sql -c "SELECT pid FROM rec.worker_threads() LIMIT 1")
        [ -n "$pid" ] && { echo "$pid"; return; }
        sleep 0.02
    done
}
for stop in pg_cancel_backend pg_terminate_backend; do
    train pool_stopped > /dev/null &
    pid=$(wait_for_lease)
    sql -c "SELECT $stop($pid)" > /dev/null
    wait || true
    check "$stop during training: the lease is gone" "$(sql -c "SELECT count(*) FROM rec.worker_threads()")" "0"
    check "$stop during training: the next run gets its 3 threads" \
          "$(train pool_after -c "SET client_min_messages = notice" | grep -c "running on" || true)" "0"
done
check "the stopped runs stored nothing" "$(sql -c "SELECT count(*) FROM rec.models WHERE name = 'pool_stopped'")" "0"

# Scoring a catalogue large enough to split over threads (66,000 items x 64 factors) draws its workers
# from the same pool: a fresh session scores on 2 OS threads while a worker is free, on 1 under a cap
# of 0 (counted after the call, in the session that made it).
sql -c "SET client_min_messages = warning" \
    -c "CREATE TABLE pool_wide AS SELECT i % 200 AS user_id, i AS item_id, 1 + i % 5 AS rating
        FROM generate_series(1, 66000) i" \
    -c "CALL rec.train('pool_wide', 'pool_wide', factors => 64, iterations => 1)"
scoring_threads() {
    psql -X -q -At <<'SQL' | tr '\n' ' '
SET rec.threads = 2;
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND_PID :pid
SELECT count(*) FROM rec.recommend(1, 10, 'pool_wide');
\! ls /proc/$BACKEND_PID/task | wc -l
SQL
}
check "scoring a large catalogue with a worker free: 10 rows on 2 threads" "$(scoring_threads)" "10 2 "
sql -c "ALTER SYSTEM SET rec.max_worker_threads = 0" -c "SELECT pg_reload_conf()" > /dev/null
for _ in $(seq 50); do [ "$(sql -c "SHOW rec.max_worker_threads")" = 0 ] && break; sleep 0.1; done
check "scoring under rec.max_worker_threads = 0: 10 rows on 1 thread" "$(scoring_threads)" "10 1 "

sql -c "SET client_min_messages = warning" \
    -c "SELECT rec.drop_model(name) FROM (SELECT DISTINCT name FROM rec.models WHERE name LIKE 'pool%') m" \
    -c "DROP TABLE pool_ratings, pool_wide" > /dev/null
rm -rf "$notices"
finish
