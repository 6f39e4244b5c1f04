#!/usr/bin/env bash
# Training as the data grow (a benchmark, not a test), issue 12 part 2b: implicit ALS with every
# default (64 factors, 15 iterations, CG) on synthetic sets of 1 M, 10 M, 30 M and 100 M interactions
# (gen_synth.py; 10 M is synth10m, 100 M is `gen_synth.py 1000000 100000 100000000 OUT --seed 2`),
# each loaded into a table first. For each: seconds of the whole CALL and per interaction, seconds
# per iteration, microseconds per interaction and iteration, the peak of memory counted by the run (its NOTICE, the
# figure rec.max_memory is checked against) and the backend's measured peak (RssAnon sampled every
# 20 ms), and their ratio (also written to $OUT/scale.csv for bench/plots.py). Needs pg_recommend
# installed, python3-numpy, and for 100 M about 25 GB of disk and 6 GB of memory for the generator.
#   bench/scale.sh [sizes, e.g. "1 10 30 100"]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-"1 10 30 100"}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
shape() {  # users items for a size in millions
    case $1 in
        1) echo "10000 2000" ;; 10) echo "100000 20000" ;; 30) echo "300000 60000" ;; 100) echo "1000000 100000" ;;
        *) echo "$(($1 * 10000)) $(($1 * 1000))" ;;
    esac
}
for size in $SIZES; do
    dir="$OUT/scale_${size}m"
    if [ ! -f "$dir/train.txt" ]; then
        read -r users items <<<"$(shape "$size")"
        /usr/bin/python3 ../shared/tools/gen_synth.py "$users" "$items" "$((size * 1000000))" "$dir" --seed 2 >/dev/null
        rm -f "$dir/all.txt" "$dir/data.npz"
    fi
done
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; d="$OUT"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u +%Y-%m-%d)"

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=1GB" -o "max_wal_size=16GB" \
    -o "checkpoint_timeout=30min" bash -c "
set -euo pipefail
psql -X -q -c 'CREATE EXTENSION pg_recommend'
echo 'size,interactions,call_seconds,seconds_per_iteration,counted_mb,measured_mb' > $OUT/scale.csv
printf '%-6s %12s %10s %12s %10s %12s %14s %14s %8s\n' size interactions seconds 'us/int' s/iter 'us/(int*it)' 'counted MB' 'measured MB' ratio
for size in $SIZES; do
    psql -X -q -c \"DROP TABLE IF EXISTS events; CREATE TABLE events (user_id int, item_id int, value real)\"
    psql -X -q -c \"\\\\copy events FROM '$OUT/scale_\${size}m/train.txt' WITH (DELIMITER ' ')\"
    psql -X -q -c 'VACUUM ANALYZE events'
    pidfile=\$(mktemp)
    start=\$(date +%s.%N)
    psql -X -At -v ON_ERROR_STOP=1 2> $OUT/scale_notices.txt > /dev/null <<SQL &
SELECT pg_backend_pid() \\\\g \$pidfile
SELECT pg_sleep(0.5);
CALL rec.train('scale', 'events', rating_column => 'value', algorithm => 'ials');
SQL
    job=\$!
    sleep 0.25
    pid=\$(cat \$pidfile); base=\$(awk '/RssAnon/ {print \$2}' /proc/\$pid/status); peak=0
    while kill -0 \$job 2>/dev/null; do
        v=\$(awk '/RssAnon/ {print \$2}' /proc/\$pid/status 2>/dev/null || true)
        if [ -n \"\$v\" ] && [ \"\$v\" -gt \"\$peak\" ]; then peak=\$v; fi
        sleep 0.02
    done
    wait \$job
    seconds=\$(awk -v a=\$start -v b=\$(date +%s.%N) 'BEGIN {printf \"%.1f\", b - a - 0.5}')
    counted=\$(grep -oE 'peak memory about [0-9]+ MB' $OUT/scale_notices.txt | awk '{print \$4}')
    solve=\$(grep -oE 'iteration 15/15: loss [0-9.]+, [0-9.]+ s' $OUT/scale_notices.txt | awk '{print \$(NF-1)}')
    nnz=\$(psql -X -At -c \"SELECT n_ratings FROM rec.models WHERE name = 'scale' AND deployed\")
    measured=\$(( (peak - base) / 1024 ))
    printf '%-6s %12s %10s %12.2f %10.3f %12.3f %14s %14s %8.2f\n' \${size}M \$nnz \$seconds \$(awk -v s=\$seconds -v n=\$nnz 'BEGIN {print s / n * 1e6}') \$(awk -v s=\$solve 'BEGIN {print s / 15}') \
        \$(awk -v s=\$solve -v n=\$nnz 'BEGIN {print s / 15 / n * 1e6}') \$counted \$measured \$(awk -v c=\$counted -v m=\$measured 'BEGIN {print c / m}')
    echo \"\${size}M,\$nnz,\$seconds,\$(awk -v s=\$solve 'BEGIN {printf \"%.3f\", s / 15}'),\$counted,\$measured\" >> $OUT/scale.csv
    grep -E 'read|trained' $OUT/scale_notices.txt | sed 's/^/    /'
    psql -X -q -c \"SELECT rec.drop_model('scale')\" > /dev/null
done
"
