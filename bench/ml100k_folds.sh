#!/usr/bin/env bash
# MovieLens-100k five-fold benchmark (not a test): for each of u1..u5, trains with 1 thread and with
# every core, and prints test RMSE, training seconds for both and the speed-up, then the means.
# The data are read from ../shared/data/ml-100k (their licence forbids redistribution: never commit them).
#   bench/ml100k_folds.sh ["extra rec.train arguments"]
# With no argument every hyperparameter is rec.train's default. The documented best (docs/sql.md):
#   bench/ml100k_folds.sh ", factors => 64, iterations => 20, regularization => 0,
#       unweighted_regularization => 3, noise_variance => 1.2, solver => 'cholesky'"
# Needs pg_recommend built and installed (scripts/test.sh or scripts/demo.sh do that).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ML100K:-$PWD/../shared/data/ml-100k}
EXTRA=${1:-}
EXTRA_QUOTED=$(printf '%s' "$EXTRA" | sed "s/'/''/g")  # inside a SQL string literal
CORES=$(nproc)
[ -f "$DATA/u1.base" ] || { echo "no MovieLens-100k at $DATA" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then chmod a+rx "$DATA" 2>/dev/null || true; fi
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pg_recommend;
CREATE TABLE base (fold int, user_id int, item_id int, rating real, ts bigint);
CREATE TABLE test (fold int, user_id int, item_id int, rating real, ts bigint);
SQL
for f in 1 2 3 4 5; do
  for part in base test; do
    sed \"s/^/\$f\t/\" $DATA/u\$f.\$part | psql -X -q -c \"COPY \$part FROM STDIN\"
  done
  psql -X -q -c \"CREATE VIEW base\$f AS SELECT user_id, item_id, rating FROM base WHERE fold = \$f\"
done
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE TABLE results (fold int, threads int, seconds float8, rmse float8);
DO \$\$
DECLARE f int; t int;
BEGIN
  FOR f IN 1..5 LOOP
    FOREACH t IN ARRAY ARRAY[1, $CORES] LOOP
      PERFORM set_config('rec.threads', t::text, false);
      EXECUTE format('CALL rec.train(%L, %L $EXTRA_QUOTED)',
                     'fold' || f || '_' || t, 'base' || f);
      INSERT INTO results
      SELECT f, t, (SELECT train_seconds FROM rec.models WHERE name = 'fold' || f || '_' || t),
             sqrt(avg((rec.predict(user_id, item_id, 'fold' || f || '_' || t) - rating) ^ 2))
      FROM test WHERE fold = f;
    END LOOP;
  END LOOP;
END \$\$;
\echo 'MovieLens-100k, rec.train(name, source$EXTRA_QUOTED); machine: $CORES cores'
SELECT hyperparameters FROM rec.models WHERE name = 'fold1_1';
SELECT coalesce(one.fold::text, 'mean') AS fold,
       round(avg(one.rmse)::numeric, 4) AS test_rmse,
       round(avg(one.seconds)::numeric, 3) AS seconds_1_thread,
       round(avg(many.seconds)::numeric, 3) AS seconds_${CORES}_threads,
       round((avg(one.seconds) / avg(many.seconds))::numeric, 2) AS speedup
FROM results one JOIN results many ON many.fold = one.fold AND many.threads = $CORES
WHERE one.threads = 1
GROUP BY ROLLUP (one.fold) ORDER BY one.fold NULLS LAST;
SQL
" 2>&1 | grep -v "^Dropping cluster\|^Creating new"
