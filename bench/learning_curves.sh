#!/usr/bin/env bash
# Learning curves (a benchmark, not a test), issue 16: the training and validation metric of every
# iteration, as rec.train stores them in rec.models.learning_curve when given a validation_source.
# MovieLens-100k u1.base / u1.test (../shared/data/ml-100k, not shipped):
#   als, every default but iterations => 30: training RMSE and validation RMSE (ratings as given)
#   ials, the documented best (factors 16, regularization 20, alpha 2), 30 iterations, and bpr (64
#   factors, learning rate 0.01), 60 iterations: ratings >= 4 as positives, validation ndcg@10
# Writes $OUT/learning_curves.csv (model, iteration, training_metric, training, validation_metric,
# validation) for bench/plots.py and prints the first, best and last iteration of each.
#   bench/learning_curves.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ML=${ML100K:-$PWD/../shared/data/ml-100k}
OUT=${BENCH_OUT:-$PWD/bench/out}
mkdir -p "$OUT"
if [ "$(id -u)" = 0 ]; then chmod -R a+rwX "$OUT"; chmod -R a+rX "$ML"; d="$OUT"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u '+%Y-%m-%d %H:%M') UTC"

pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_recommend;
CREATE TABLE u1_base (user_id int, item_id int, rating int, ts bigint);
CREATE TABLE u1_test (user_id int, item_id int, rating int, ts bigint);
\copy u1_base FROM '$ML/u1.base'
\copy u1_test FROM '$ML/u1.test'
CREATE VIEW pos_base AS SELECT user_id, item_id, 1 AS value FROM u1_base WHERE rating >= 4;
CREATE VIEW pos_test AS SELECT user_id, item_id, 1 AS value FROM u1_test WHERE rating >= 4;
CALL rec.train('als', 'u1_base', validation_source => 'u1_test', iterations => 30);
CALL rec.train('ials', 'pos_base', rating_column => 'value', algorithm => 'ials', validation_source => 'pos_test',
               factors => 16, regularization => 20, alpha => 2, iterations => 30);
CALL rec.train('bpr', 'pos_base', rating_column => 'value', algorithm => 'bpr', validation_source => 'pos_test',
               factors => 64, learning_rate => 0.01, iterations => 60);
SQL
psql -X -q -c \"\\\\copy (SELECT m.name, (e->>'iteration')::int AS iteration, m.train_metric,
                                 round((e->>'training')::numeric, 5) AS training, m.validation_metric,
                                 round((e->>'validation')::numeric, 5) AS validation
                          FROM rec.models m, jsonb_array_elements(m.learning_curve) e
                          ORDER BY m.model_id, (e->>'iteration')::int) TO '$OUT/learning_curves.csv' WITH (FORMAT csv, HEADER true)\"
psql -X -c \"SELECT m.name, m.train_metric, m.validation_metric,
                    (m.learning_curve->0->>'validation')::numeric(8, 4) AS first,
                    (SELECT max((e->>'validation')::float8) FILTER (WHERE m.validation_metric NOT LIKE '%RMSE%')
                            ::numeric(8, 4) FROM jsonb_array_elements(m.learning_curve) e) AS best_ndcg,
                    (SELECT min((e->>'validation')::float8) FILTER (WHERE m.validation_metric LIKE '%RMSE%')
                            ::numeric(8, 4) FROM jsonb_array_elements(m.learning_curve) e) AS best_rmse,
                    m.validation_value::numeric(8, 4) AS last, m.train_seconds::numeric(8, 2) AS seconds
             FROM rec.models m ORDER BY m.model_id\"
" 2>&1 | grep -v "^Dropping cluster\|^Creating new"
