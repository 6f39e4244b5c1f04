#!/usr/bin/env bash
# Serving benchmark (not a test): rec.recommend(u, 10) for random users through pgbench at 1 and 2
# clients, p50/p99 latency and queries per second, next to the plain-SQL way of scoring the same
# factors stored as real[] (what a user without this extension would write), on the MovieLens
# latest-small model. Needs pg_recommend installed (scripts/test.sh does it).
#   bench/serving.sh [seconds per run]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; chmod -R a+rX data; d="$PWD"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
cat > "$OUT/recommend.pgb" <<'SQL'
\set u random(1, 610)
SELECT * FROM rec.recommend(:u, 10, 'movies');
SQL
cat > "$OUT/plain_sql.pgb" <<'SQL'
\set u random(1, 610)
SELECT i.item_id, i.bias + (SELECT sum(a * b) FROM unnest(u.factors, i.factors) AS t(a, b)) AS score
FROM rec.user_factors u JOIN rec.item_factors i ON i.model_id = u.model_id
WHERE u.model_id = (SELECT max(model_id) FROM rec.model_versions WHERE name = 'movies') AND u.user_id = :u
  AND i.item_id <> ALL (u.seen_items)
ORDER BY score DESC LIMIT 10;
SQL
pg_virtualenv -v 15 bash -c "
set -euo pipefail
run_as_pg() { if [ \"\$(id -u)\" = 0 ]; then su postgres -c \"\$*\"; else bash -c \"\$*\"; fi; }
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION pg_recommend;
CREATE TABLE ratings (user_id int, item_id int, rating real, ts bigint);
\\copy ratings FROM '$PWD/data/ml-latest-small/ratings.csv' WITH (FORMAT csv, HEADER true)
SET client_min_messages = warning;
CALL rec.train('movies', 'ratings', factors => 64, iterations => 15, regularization => 0.1);
SQL
env_vars=\"PGHOST=\$PGHOST PGPORT=\$PGPORT PGUSER=\$PGUSER PGPASSWORD=\$PGPASSWORD PGDATABASE=postgres\"
echo 'MovieLens latest-small model (610 users, 9,724 items, 64 factors): top 10 for a random user'
printf '%-12s %7s %10s %10s %10s\n' query clients p50_ms p99_ms qps
for script in recommend plain_sql; do
  for clients in 1 2; do
    rm -f $OUT/pgbench_log.*
    run_as_pg \"cd $OUT && \$env_vars pgbench -n -M prepared -T $SECONDS_PER_RUN -c \$clients -j \$clients -l --log-prefix=pgbench_log -f $OUT/\$script.pgb\" > $OUT/pgbench.out 2>&1
    qps=\$(grep -oE 'tps = [0-9.]+' $OUT/pgbench.out | awk '{print \$3}')
    cat $OUT/pgbench_log.* | awk '{print \$3 / 1000.0}' | sort -n > $OUT/latencies
    total=\$(wc -l < $OUT/latencies)
    p50=\$(awk -v n=\$total 'NR == int(n * 0.50) + 1 {print; exit}' $OUT/latencies)
    p99=\$(awk -v n=\$total 'NR == int(n * 0.99) + 1 {print; exit}' $OUT/latencies)
    printf '%-12s %7s %10.3f %10.3f %10.0f\n' \$script \$clients \$p50 \$p99 \$qps
  done
done
" 2>&1 | grep -v "^Dropping cluster\|^Creating new"
