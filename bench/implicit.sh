#!/usr/bin/env bash
# Implicit-feedback benchmark (not a test).
#  1. MovieLens-100k u1.base/u1.test, ratings >= 4 as positives (value 1): precision and ndcg at 10 of
#     ials with implicit's reference settings, ials with the documented best settings, and bpr.
#  2. synth10m (../shared/tools/gen_synth.py 100000 20000 10000000 OUT --seed 2; train.txt as
#     (user, item, stars), stars as the value): ials with 64 factors, 15 iterations at 1 and 2 threads:
#     seconds per iteration, the whole CALL rec.train (reading the table included), and the achieved
#     GFLOP/s of the half-steps next to Eigen's dense SGEMM GFLOP/s measured in the same run; with
#     IMPLICIT_PYTHONPATH set (the `implicit` library built from its public source outside this
#     repository), the same training by implicit (CG, 3 steps) at the same thread counts, and the ratio
#     (also written to $OUT/implicit_synth.csv for bench/plots.py).
#     implicit's CG calls BLAS (sdot, saxpy) through SciPy: Debian's default is the reference BLAS,
#     three times slower here than OpenBLAS, so IMPLICIT_LD_LIBRARY_PATH may name a directory with
#     OpenBLAS's libblas.so.3 (Debian's libopenblas0-pthread, unpacked with dpkg -x) for implicit alone.
# Needs pg_recommend installed (scripts/test.sh does it) and Debian's python3-numpy for the generator
# (python3-scipy too for implicit).
#   [IMPLICIT_PYTHONPATH=... [IMPLICIT_LD_LIBRARY_PATH=...]] bench/implicit.sh [--skip-synth]
set -euo pipefail
cd "$(dirname "$0")/.."
ML=${ML100K:-$PWD/../shared/data/ml-100k}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
SYNTH=1; [ "${1:-}" = --skip-synth ] && SYNTH=0
if [ $SYNTH = 1 ] && [ ! -f "$OUT/synth10m/train.txt" ]; then
    dpkg-query -W python3-numpy >/dev/null 2>&1 || { echo "needs python3-numpy (apt-get install python3-numpy)" >&2; exit 1; }
    /usr/bin/python3 ../shared/tools/gen_synth.py 100000 20000 10000000 "$OUT/synth10m" --seed 2 >/dev/null
fi
EIGEN=${EIGEN_INCLUDE:-/usr/include/eigen3}
g++ -std=c++17 -O3 -fopenmp -I"$EIGEN" bench/sgemm_gflops.cpp -o "$OUT/sgemm_gflops"
SGEMM1=$("$OUT/sgemm_gflops" 2048 1); SGEMM2=$("$OUT/sgemm_gflops" 2048 2)
if [ "$(id -u)" = 0 ]; then chmod -R a+rX "$OUT" "$ML" 2>/dev/null || true; d="$OUT"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=1GB" -o "max_wal_size=8GB" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pg_recommend;
CREATE TABLE u1_base (user_id int, item_id int, rating int, ts bigint);
CREATE TABLE u1_test (user_id int, item_id int, rating int, ts bigint);
\copy u1_base FROM '$ML/u1.base'
\copy u1_test FROM '$ML/u1.test'
CREATE VIEW pos_base AS SELECT user_id, item_id, 1 AS value FROM u1_base WHERE rating >= 4;
CREATE VIEW pos_test AS SELECT user_id, item_id, 1 AS value FROM u1_test WHERE rating >= 4;
SET client_min_messages = warning;
CALL rec.train('ials_reference', 'pos_base', rating_column => 'value', algorithm => 'ials', factors => 64,
               iterations => 15, regularization => 0.01, alpha => 1.0);
CALL rec.train('ials_best', 'pos_base', rating_column => 'value', algorithm => 'ials', factors => 16,
               iterations => 15, regularization => 20, alpha => 2);
CALL rec.train('bpr', 'pos_base', rating_column => 'value', algorithm => 'bpr', factors => 64,
               iterations => 100, learning_rate => 0.01);
\echo 'MovieLens-100k u1, ratings >= 4 as positives, k = 10 (implicit library: ials 0.3185 / 0.3175, bpr precision 0.312)'
SELECT m.name, m.hyperparameters,
       round((SELECT value FROM rec.evaluate(m.name, 'pos_test', 10, rating_column => 'value') WHERE metric = 'precision')::numeric, 4) AS precision,
       round((SELECT value FROM rec.evaluate(m.name, 'pos_test', 10, rating_column => 'value') WHERE metric = 'ndcg')::numeric, 4) AS ndcg
FROM rec.models m ORDER BY m.model_id;
SQL
if [ $SYNTH = 1 ]; then
  psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE UNLOGGED TABLE synth (user_id int, item_id int, stars real)'
  psql -X -q -v ON_ERROR_STOP=1 -c \"\\copy synth FROM '$OUT/synth10m/train.txt' WITH (DELIMITER ' ')\"
  echo 'threads,rec_train_s_per_iteration,implicit_s_per_iteration' > $OUT/implicit_synth.csv
  for t in 1 2; do
    if [ -n \"${IMPLICIT_PYTHONPATH:-}\" ]; then
      LD_LIBRARY_PATH=\"${IMPLICIT_LD_LIBRARY_PATH:-}\" PYTHONPATH=\"${IMPLICIT_PYTHONPATH:-}\" /usr/bin/python3 $PWD/bench/implicit_peer.py $OUT/synth10m/train.txt 64 15 \$t cg > $OUT/implicit_\$t
    fi
    start=\$(date +%s.%N)
    log=\$(PGOPTIONS=\"-c rec.threads=\$t\" psql -X -v ON_ERROR_STOP=1 -c \"CALL rec.train('synth_\$t', 'synth', rating_column => 'stars', algorithm => 'ials', factors => 64, iterations => 15, regularization => 0.01, alpha => 1.0, confidence => 'implicit')\" 2>&1)
    end=\$(date +%s.%N)
    solve=\$(grep -oE 'iteration 15/15: loss [0-9.]+, [0-9.]+ s' <<<\"\$log\" | awk '{print \$(NF-1)}')
    echo \"threads \$t: seconds per iteration \$(awk -v s=\$solve 'BEGIN {printf \"%.3f\", s / 15}'), whole CALL \$(awk -v a=\$start -v b=\$end 'BEGIN {printf \"%.1f\", b - a}') s\"
    echo \"\$log\" | grep -E 'read|trained' | sed 's/^/    /'
    echo \$solve > $OUT/solve_\$t
    if [ -s $OUT/implicit_\$t ]; then
      theirs=\$(awk '{print \$2}' $OUT/implicit_\$t)
      echo \"    implicit library, same data and settings (confidence alpha * value, CG 3 steps): \$theirs s per iteration; ratio rec.train / implicit \$(awk -v a=\$solve -v b=\$theirs 'BEGIN {printf \"%.2f\", a / 15 / b}')\"
    fi
    echo \"\$t,\$(awk -v s=\$solve 'BEGIN {printf \"%.3f\", s / 15}'),\$(awk '{print \$2}' $OUT/implicit_\$t 2>/dev/null)\" >> $OUT/implicit_synth.csv
  done
  psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
SELECT 'interactions ' || n_ratings || ', users ' || n_users || ', items ' || n_items FROM rec.models WHERE name = 'synth_2';
SQL
fi
"
if [ $SYNTH = 1 ]; then
  # Flops of one iteration (both half-steps) of CG with s steps, k factors: per interaction, the residual
  # and each step are two k-vector passes (4k flops); per row, (1 + s) products with the k x k Gram
  # matrix (2k² each) and the Gram matrix itself (k² per row of the other side). The per-iteration
  # loss, folded into the item half-step (2k per interaction and 2k² per item), is counted too, as its
  # time is.
  awk -v nnz=9000079 -v rows=120000 -v users=100000 -v k=64 -v s=3 -v t1="$(cat "$OUT/solve_1")" -v t2="$(cat "$OUT/solve_2")" \
      -v g1="$SGEMM1" -v g2="$SGEMM2" 'BEGIN {
    f = 2 * (1 + s) * 4 * k * nnz + (1 + s) * 2 * k * k * rows + k * k * rows + 2 * k * nnz + 2 * k * k * (rows - users);
    printf "flops per iteration (model): %.1f G\n", f / 1e9;
    printf "1 thread:  %.2f GFLOP/s achieved, Eigen SGEMM %.1f GFLOP/s (%.0f%%)\n", f / (t1 / 15) / 1e9, g1, 100 * f / (t1 / 15) / 1e9 / g1;
    printf "2 threads: %.2f GFLOP/s achieved, Eigen SGEMM %.1f GFLOP/s (%.0f%%)\n", f / (t2 / 15) / 1e9, g2, 100 * f / (t2 / 15) / 1e9 / g2;
    printf "speed-up 2 vs 1 thread: %.2f\n", t1 / t2 }'
fi
