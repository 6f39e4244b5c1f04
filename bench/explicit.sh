#!/usr/bin/env bash
# Explicit-feedback training against LIBMF (a benchmark, not a test), issue 12 check 1: synth10m
# (gen_synth.py 100000 20000 10000000 OUT --seed 2; train.txt, 9.0 M ratings), 64 factors. In one run,
# alternating, each RUNS times:
#   LIBMF:  mf-train -l2 0.05 -k 64 -t 20 -r 0.1 -s 2 train.txt  (wall clock, parsing its text file included)
#   ours:   CALL rec.train(...) on the same rows already loaded in a table (wall clock of the whole CALL:
#           reading, indexing, training, storing the model)
# then each one's test RMSE on test.txt (mf-predict -e 0; rec.predict, clipped like LIBMF's predictions),
# and the ratio of the medians (a row appended to $OUT/explicit.csv for bench/plots.py). LIBMF is built
# from its public source outside this repository (never committed): LIBMF=/path/to/dir/with/mf-train.
# Needs pg_recommend installed and python3-numpy.
#   LIBMF=... bench/explicit.sh [RUNS] [extra rec.train arguments, e.g. ", iterations => 6"]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
EXTRA=${2:-}
OUT=${BENCH_OUT:-$PWD/bench/out}
DATA="$OUT/synth10m"
[ -x "${LIBMF:-}/mf-train" ] || { echo "set LIBMF to a directory with LIBMF's mf-train and mf-predict (built with AVX and OpenMP)" >&2; exit 1; }
mkdir -p "$OUT"
if [ ! -f "$DATA/train.txt" ]; then
    /usr/bin/python3 ../shared/tools/gen_synth.py 100000 20000 10000000 "$DATA" --seed 2 >/dev/null
fi
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; d="$OUT"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u +%Y-%m-%d)"

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=1GB" -o "max_wal_size=8GB" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pg_recommend;
CREATE TABLE synth (user_id int, item_id int, stars real);
CREATE TABLE synth_test (user_id int, item_id int, stars real);
\copy synth FROM '$DATA/train.txt' WITH (DELIMITER ' ')
\copy synth_test FROM '$DATA/test.txt' WITH (DELIMITER ' ')
VACUUM ANALYZE synth;
SQL
ours=(); libmf=()
for run in \$(seq $RUNS); do
    start=\$(date +%s.%N)
    $LIBMF/mf-train -l2 0.05 -k 64 -t 20 -r 0.1 -s 2 --quiet $DATA/train.txt $OUT/libmf.model > /dev/null
    libmf+=(\$(awk -v a=\$start -v b=\$(date +%s.%N) 'BEGIN {printf \"%.2f\", b - a}'))
    start=\$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 -c \"CALL rec.train('synth', 'synth', rating_column => 'stars' $EXTRA)\" 2> $OUT/explicit_notices.txt
    ours+=(\$(awk -v a=\$start -v b=\$(date +%s.%N) 'BEGIN {printf \"%.2f\", b - a}'))
    echo \"run \$run: LIBMF \${libmf[-1]} s, rec.train \${ours[-1]} s\"
done
grep -E 'read|trained' $OUT/explicit_notices.txt | sed 's/^/    /'
libmf_rmse=\$($LIBMF/mf-predict -e 0 $DATA/test.txt $OUT/libmf.model $OUT/libmf.predictions | grep -oE '[0-9.]+\$')
our_rmse=\$(psql -X -At -c \"SELECT round(sqrt(avg((rec.predict(user_id, item_id, 'synth') - stars) ^ 2))::numeric, 4) FROM synth_test\")
median() { printf '%s\n' \"\$@\" | sort -n | awk '{a[NR] = \$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
m_ours=\$(median \"\${ours[@]}\"); m_libmf=\$(median \"\${libmf[@]}\")
echo \"hyperparameters: \$(psql -X -At -c \"SELECT hyperparameters FROM rec.models WHERE name = 'synth' AND deployed\")\"
echo \"median wall seconds: rec.train \$m_ours, LIBMF \$m_libmf; ratio \$(awk -v a=\$m_ours -v b=\$m_libmf 'BEGIN {printf \"%.2f\", a / b}') (check: <= 1.00)\"
echo \"test RMSE: rec.train \$our_rmse, LIBMF \$libmf_rmse (check: ours <= LIBMF's)\"
[ -f $OUT/explicit.csv ] || echo \"iterations,rec_train_s,libmf_s,rec_train_rmse,libmf_rmse\" > $OUT/explicit.csv
echo \"\$(psql -X -At -c \"SELECT hyperparameters->>'iterations' FROM rec.models WHERE name = 'synth' AND deployed\"),\$m_ours,\$m_libmf,\$our_rmse,\$libmf_rmse\" >> $OUT/explicit.csv
"
