#!/usr/bin/env bash
# Training on a Citus cluster against one node (issue 15, checks 1 and 4):
#   bench/distributed.sh [ml100k|synth1m|synth10m]
# A coordinator and two workers on this machine (test/shell/citus_cluster.sh, Citus from scripts/citus.sh);
# the same interactions in a plain table and in one distributed by user; for als and ials: training
# seconds, seconds per iteration (from the last iteration's NOTICE), the bytes the loopback interface
# carried during the call (every node talks over 127.0.0.1: that is the traffic between nodes, plus a
# few hundred bytes of psql), and the coordinator backend's peak private memory (RssAnon sampled every
# 20 ms: the shared buffers it touches are not its own) against the interactions' size, the CPU
# seconds of that backend and of the whole machine (every node: /proc/stat) during the call.
# Run as root (it starts the servers as postgres) or as the user who runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-ml100k}
if [ "$(id -u)" = 0 ]; then
    source scripts/common.sh
    source scripts/citus.sh
    ensure_citus || exit 1
    case $data in
        synth1m) [ -f /tmp/pg_recommend_synth1m/train.txt ] ||
            /usr/bin/python3 ../shared/tools/gen_synth.py 6000 4000 1000000 /tmp/pg_recommend_synth1m --seed 2 ;;
        synth10m) [ -f /tmp/pg_recommend_synth10m/train.txt ] ||
            /usr/bin/python3 ../shared/tools/gen_synth.py 100000 20000 10000000 /tmp/pg_recommend_synth10m --seed 2 ;;
    esac
    chmod -R a+rX /tmp/pg_recommend_synth* 2>/dev/null || true
    exec su postgres -c "bash $0 $data"
fi
source test/shell/citus_cluster.sh
trap citus_stop EXIT
export PGUSER=postgres CITUS_PORT=${CITUS_PORT:-57000}
citus_start
node 0 -c "CREATE TABLE plain (user_id int, item_id int, rating real, ts bigint)"
case $data in
    synth*) node 0 >/dev/null <<SQL ;;
CREATE TEMP TABLE t (user_id int, item_id int, rating real);
\copy t FROM '/tmp/pg_recommend_$data/train.txt' WITH (FORMAT text, DELIMITER ' ')
INSERT INTO plain SELECT user_id, item_id, rating, 0 FROM t;
SQL
    *) node 0 -c "\\copy plain FROM '../shared/data/ml-100k/u1.base' WITH (FORMAT text, DELIMITER E'\\t')" ;;
esac
node 0 >/dev/null <<'SQL'
CREATE TABLE events (LIKE plain);
SELECT create_distributed_table('events', 'user_id');
INSERT INTO events SELECT * FROM plain;
VACUUM ANALYZE plain;
SQL
echo "data: $data, $(node 0 -c "SELECT count(*) FROM plain") interactions, plain table $(node 0 -c "SELECT pg_size_pretty(pg_total_relation_size('plain'))")"
echo "source | algorithm | training s (train_seconds) | wall s | s per iteration | MB over loopback | coordinator backend peak private memory | coordinator backend CPU s | machine CPU s (all nodes)"
loopback_bytes() { awk '$1 == "lo:" { print $10 }' /proc/net/dev; }
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
for algorithm in als ials; do
    for source in plain events; do
        # A fresh connection per run; a sampler reads its backend's RssAnon while the training runs.
        flag=$(mktemp) samples=$(mktemp) pidfile=$(mktemp)
        before=$(loopback_bytes) busy_before=$(busy_ticks)
        out=$(node 0 2>&1 <<SQL
SET client_min_messages = notice;
\\pset tuples_only on
SELECT pg_backend_pid() \\g $pidfile
\\! (pid=\$(tr -d ' \\n' < $pidfile); while [ -e $flag ]; do grep RssAnon /proc/\$pid/status >> $samples; awk '{ print "cpu", \$14 + \$15 }' /proc/\$pid/stat >> $samples; sleep 0.02; done) >/dev/null 2>&1 </dev/null &
\\set started \`date +%s.%N\`
CALL rec.train('m_${source}_$algorithm', '$source', algorithm => '$algorithm', factors => 64, iterations => 10);
\\set ended \`date +%s.%N\`
SELECT 'train_seconds', round(train_seconds::numeric, 2) FROM rec.models WHERE name = 'm_${source}_$algorithm';
SELECT 'wall', round((:ended - :started)::numeric, 2);
SQL
)
        moved=$(( $(loopback_bytes) - before )) busy=$(( $(busy_ticks) - busy_before ))
        rm -f "$flag" "$pidfile"; sleep 0.1
        peak=$(awk '$1 == "RssAnon:" { if ($2 > m) m = $2 } END { printf "%.0f MB", m / 1024 }' "$samples")
        coordinator_cpu=$(awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { c = $2 } END { printf "%.1f", c / hz }' "$samples")
        rm -f "$samples"
        per_iteration=$(grep -oE 'iteration 10/10: .*, ([0-9.]+) s' <<<"$out" | grep -oE '[0-9.]+ s$' | awk '{ printf "%.2f", $1 / 10 }')
        echo "$source | $algorithm | $(awk -F'|' '$1 == "train_seconds" { print $2 }' <<<"$out") | $(awk -F'|' '$1 == "wall" { print $2 }' <<<"$out") | $per_iteration | $(awk -v b="$moved" 'BEGIN { printf "%.1f", b / 1e6 }') | $peak | $coordinator_cpu | $(awk -v t="$busy" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')"
    done
done
