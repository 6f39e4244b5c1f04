#!/usr/bin/env bash
# Serving benchmark (not a test). In a throw-away cluster with pg_recommend in shared_preload_libraries:
#  1. MovieLens latest-small model: rec.recommend(u, 10) for random users through pgbench at 1 and 2
#     clients (p50/p99 latency, queries per second), rec.recommend_for_items with the user's own
#     ratings (fetched by the query through an index), and the plain-SQL way of scoring the same
#     factors stored as real[] (what a user without this extension would write); `SELECT 1` through
#     the same pgbench is the floor (the round trip and the protocol, no work), and ten rows of
#     (bigint, real) from generate_series the floor for a result of rec.recommend's shape; all by TCP to
#     localhost, then SELECT 1 and rec.recommend over the Unix socket (suffix _socket); then the in-server
#     time of one rec.recommend call (a PL/pgSQL loop);
#  2. rec.recommend_all against the same lists by rec.recommend in a LATERAL loop over every user;
#  3. memory of ten connections serving the model: shared cache against one copy per connection
#     (rec.cache_size = 0), from /proc (needs root or the server's user);
#  4. a synthetic model with 1,000,000 items x 64 factors (gen_synth.py, 20,000 users, 3 M ratings,
#     plus one rating per item so that every item exists), the same pgbench runs and baseline.
# Needs pg_recommend installed (scripts/test.sh does it) and python3-numpy for step 4.
#   bench/serving.sh [seconds per pgbench run]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q python3-numpy >/dev/null; else echo "needs python3-numpy" >&2; exit 1; fi
fi
if [ ! -f "$OUT/synth_1m_items/all.txt" ]; then
    /usr/bin/python3 ../shared/tools/gen_synth.py 20000 1000000 3000000 "$OUT/synth_1m_items" --seed 2 --alpha 0.5 > /dev/null
fi
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; chmod -R a+rX data; d="$PWD"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi

cat > "$OUT/select_1.pgb" <<'SQL'
SELECT 1;
SQL
cat > "$OUT/ten_rows.pgb" <<'SQL'
SELECT i::bigint AS item_id, i::real AS score FROM generate_series(1, 10) i;
SQL
cat > "$OUT/recommend.pgb" <<'SQL'
\set u random(1, 610)
SELECT * FROM rec.recommend(:u, 10, 'movies');
SQL
cat > "$OUT/for_items.pgb" <<'SQL'
\set u random(1, 610)
SELECT * FROM rec.recommend_for_items((SELECT array_agg(item_id) FROM ratings WHERE user_id = :u),
                                      (SELECT array_agg(rating) FROM ratings WHERE user_id = :u), 10, 'movies');
SQL
cat > "$OUT/plain_sql.pgb" <<'SQL'
\set u random(1, 610)
SELECT i.item_id, i.bias + (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS t(a, b)) AS score
FROM rec.user_factors u JOIN rec.item_factors i ON i.model_id = u.model_id
WHERE u.model_id = (SELECT max(model_id) FROM rec.model_versions WHERE name = 'movies') AND u.user_id = :u
  AND i.item_id <> ALL (u.seen_items)
ORDER BY score DESC LIMIT 10;
SQL
sed -e 's/random(1, 610)/random(0, 19999)/' -e "s/'movies'/'million'/" "$OUT/recommend.pgb" > "$OUT/recommend_1m.pgb"
sed -e 's/random(1, 610)/random(0, 19999)/' -e "s/'movies'/'million'/" "$OUT/plain_sql.pgb" > "$OUT/plain_sql_1m.pgb"

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=1GB" -o "max_wal_size=8GB" bash -c "
set -euo pipefail
run_as_pg() { if [ \"\$(id -u)\" = 0 ]; then su postgres -c \"\$*\"; else bash -c \"\$*\"; fi; }
env_vars=\"PGHOST=\$PGHOST PGPORT=\$PGPORT PGUSER=\$PGUSER PGPASSWORD=\$PGPASSWORD PGDATABASE=postgres\"
# pgbench_run SCRIPT CLIENTS [pgbench options]: prints p50, p99 (ms) and queries per second.
pgbench_run() {
    rm -f $OUT/pgbench_log.*
    run_as_pg \"cd $OUT && \$env_vars PGHOST=\${bench_host:-\$PGHOST} pgbench -n -M prepared -c \$2 -j \$2 -l --log-prefix=pgbench_log \${3:--T $SECONDS_PER_RUN} -f $OUT/\$1.pgb\" > $OUT/pgbench.out 2>&1
    qps=\$(grep -oE 'tps = [0-9.]+' $OUT/pgbench.out | awk '{print \$3}')
    cat $OUT/pgbench_log.* | awk '{print \$3 / 1000.0}' | sort -n > $OUT/latencies
    total=\$(wc -l < $OUT/latencies)
    p50=\$(awk -v n=\$total 'NR == int(n * 0.50) + 1 {print; exit}' $OUT/latencies)
    p99=\$(awk -v n=\$total 'NR == int(n * 0.99) + 1 {print; exit}' $OUT/latencies)
    printf '%-16s %7s %10.3f %10.3f %10.1f\n' \$1\${bench_host:+_socket} \$2 \$p50 \$p99 \$qps
}
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION pg_recommend;
CREATE TABLE ratings (user_id int, item_id int, rating real, ts bigint);
\\copy ratings FROM '$PWD/data/ml-latest-small/ratings.csv' WITH (FORMAT csv, HEADER true)
CREATE INDEX ON ratings (user_id);
CREATE TABLE users AS SELECT DISTINCT user_id FROM ratings;  -- the application's list of users
SET client_min_messages = warning;
CALL rec.train('movies', 'ratings', factors => 64, iterations => 15, regularization => 0.1);
SELECT count(*) FROM rec.recommend(1, 10, 'movies');
SQL

echo '1. MovieLens latest-small model (610 users, 9,724 items, 64 factors): top 10 for a random user'
printf '%-16s %7s %10s %10s %10s\n' query clients p50_ms p99_ms qps
for script in select_1 ten_rows recommend for_items plain_sql; do for clients in 1 2; do pgbench_run \$script \$clients; done; done
# The runs above connect by TCP to localhost (pg_virtualenv's PGHOST); a local client more often uses
# the Unix socket, which costs less per round trip.
bench_host=\$(psql -X -At -c 'SHOW unix_socket_directories' | cut -d, -f1)
for script in select_1 recommend; do pgbench_run \$script 2; done
bench_host=
echo 'In-server time of one call (no client round trip): a PL/pgSQL loop over 500 random users, clock_timestamp()'
echo 'around each call, after 500 warm-up calls'
psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 <<'SQL'
CREATE FUNCTION pg_temp.serve_times(model text, calls int) RETURNS TABLE (p50_ms float8, p90_ms float8, mean_ms float8)
LANGUAGE plpgsql AS \$f\$
DECLARE
    started timestamptz;
    ms float8[] := '{}';
    found int;
BEGIN
    FOR i IN 1..calls LOOP
        started := clock_timestamp();
        SELECT count(*) INTO found FROM rec.recommend(1 + (random() * 609)::int, 10, model);
        ms := ms || extract(epoch FROM clock_timestamp() - started) * 1000;
    END LOOP;
    RETURN QUERY SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.9) WITHIN GROUP (ORDER BY x),
                        avg(x) FROM unnest(ms) x;
END \$f\$;
DO \$w\$ BEGIN PERFORM pg_temp.serve_times('movies', 500); END \$w\$;
SELECT format('rec.recommend in-server: p50 %s ms, p90 %s ms, mean %s ms', round(p50_ms::numeric, 4),
              round(p90_ms::numeric, 4), round(mean_ms::numeric, 4)) FROM pg_temp.serve_times('movies', 500);
SQL

echo
echo '2. Every user top 10 into a new table (psql \\timing, median of 7 runs each, warm cache): rec.recommend_all,'
echo '   and CREATE TABLE AS over a LATERAL rec.recommend for each row of a users table'
psql -X -q -At -v ON_ERROR_STOP=1 > $OUT/batch.out <<'SQL'
SET client_min_messages = warning;
\\timing on
\\echo recommend_all
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
DROP TABLE IF EXISTS recs; SELECT rec.recommend_all('movies', 10, 'recs');
\\echo loop
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
DROP TABLE IF EXISTS loop_recs; CREATE TABLE loop_recs AS SELECT u.user_id, r.* FROM users u, LATERAL rec.recommend(u.user_id, 10, 'movies') r;
\\echo end
SQL
median() { sort -n | awk '{a[NR] = \$1} END {print a[int((NR + 1) / 2)]}'; }
batch=\$(awk '/^recommend_all/{on=1} /^loop/{on=0} on && /^Time/ {print \$2}' $OUT/batch.out | awk 'NR % 2 == 0' | median)
loop=\$(awk '/^loop/{on=1} /^end/{on=0} on && /^Time/ {print \$2}' $OUT/batch.out | awk 'NR % 2 == 0' | median)
awk -v b=\$batch -v l=\$loop 'BEGIN {printf \"recommend_all: %.1f ms   LATERAL loop of rec.recommend (CREATE TABLE AS): %.1f ms   ratio %.1fx\\n\", b, l, l / b}'

echo
echo '3. Memory of ten connections that each served the model (from /proc, summed over the ten backends)'
memory_of_ten() {
    for c in \$(seq 1 10); do
        PGAPPNAME=mem_probe psql -X -q -At -c \"SELECT count(*) FROM rec.recommend(\$c, 10, 'movies')\" -c 'SELECT pg_sleep(3)' > /dev/null &
    done
    sleep 1.5
    pids=\$(psql -X -At -c \"SELECT pid FROM pg_stat_activity WHERE application_name = 'mem_probe'\")
    anon=0; shmem=0; n=0
    for pid in \$pids; do
        if [ -r /proc/\$pid/status ]; then
            anon=\$((anon + \$(awk '/^RssAnon/ {print \$2}' /proc/\$pid/status)))
            shmem=\$((shmem + \$(awk '/^RssShmem/ {print \$2}' /proc/\$pid/status)))
            n=\$((n + 1))
        fi
    done
    wait
    cached=\$(psql -X -At -c \"SELECT coalesce(sum(bytes) / 1024, 0)::bigint FROM rec.cache_status() WHERE shared\")
    printf '%-34s backends %2d   private (RssAnon) %7d kB   shared pages mapped (RssShmem) %7d kB   shared cache %6d kB\n' \"\$1\" \$n \$anon \$shmem \$cached
}
memory_of_ten 'shared cache (rec.cache_size 1GB)'
psql -X -q -c 'ALTER SYSTEM SET rec.cache_size = 0' -c 'SELECT pg_reload_conf()' > /dev/null
sleep 0.5
memory_of_ten 'one copy per connection (size 0)'
psql -X -q -c 'ALTER SYSTEM RESET rec.cache_size' -c 'SELECT pg_reload_conf()' > /dev/null
echo \"model image: \$(psql -X -At -c \"SELECT pg_size_pretty(sum(bytes)) FROM rec.cache_status()\")\"

echo
echo '4. Synthetic model, 1,000,000 items x 64 factors (20,000 users, ials, 3 iterations): top 10 for a random user'
psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE TABLE million_ratings (user_id int, item_id int, rating real);
\\copy million_ratings FROM '$OUT/synth_1m_items/all.txt' WITH (FORMAT text, DELIMITER ' ')
INSERT INTO million_ratings SELECT i % 20000, i, 3 FROM generate_series(0, 999999) i;
CALL rec.train('million', 'million_ratings', algorithm => 'ials', factors => 64, iterations => 3);
\\timing on
SELECT count(*) AS first_call_loads_the_model FROM rec.recommend(0, 10, 'million');
SQL
printf '%-16s %7s %10s %10s %10s\n' query clients p50_ms p99_ms qps
for clients in 1 2; do pgbench_run recommend_1m \$clients; done
pgbench_run plain_sql_1m 1 '-t 3'
" 2>&1 | grep -v "^Dropping cluster\|^Creating new"
