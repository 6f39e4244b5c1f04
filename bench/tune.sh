#!/usr/bin/env bash
# rec.tune on MovieLens-100k u1 (not a test; issue 5, check 3): a 3 x 3 grid over factors and
# regularization, tuned on a per-user split of u1.base (80% train, 20% validation), the chosen
# configuration retrained on all of u1.base and scored on u1.test; against every grid point trained on
# u1.base and scored on u1.test separately. Prints each grid point's test RMSE, the chosen one, and the
# gap to the best. The data are read from ../shared/data/ml-100k (never commit them).
#   bench/tune.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ML100K:-$PWD/../shared/data/ml-100k}
[ -f "$DATA/u1.base" ] || { echo "no MovieLens-100k at $DATA" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then chmod a+rx "$DATA" 2>/dev/null || true; fi
GRID='{"factors": [16, 32, 64], "regularization": [0.04, 0.08, 0.16], "iterations": [15], "bias_regularization": [0], "unweighted_regularization": [4]}'
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION pg_recommend;
CREATE TABLE u1_base (user_id int, item_id int, rating real, ts bigint);
CREATE TABLE u1_test (user_id int, item_id int, rating real, ts bigint);
SQL
psql -X -q -c 'COPY u1_base FROM STDIN' < $DATA/u1.base
psql -X -q -c 'COPY u1_test FROM STDIN' < $DATA/u1.test
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\\timing on
SELECT * FROM rec.split('u1_base', 'tune_train', 'tune_validation', method => 'per_user', test_fraction => 0.2);
CALL rec.tune('tuned', 'tune_train', 'tune_validation', '$GRID');
\\timing off
-- Every grid point on all of u1.base, scored on u1.test.
CREATE TABLE grid_points AS
SELECT (f.value)::int AS factors, (r.value)::float8 AS regularization
FROM jsonb_array_elements_text('$GRID'::jsonb -> 'factors') f, jsonb_array_elements_text('$GRID'::jsonb -> 'regularization') r;
CREATE TABLE grid_rmse (factors int, regularization float8, test_rmse float8);
DO \$\$
DECLARE g record;
BEGIN
    FOR g IN SELECT * FROM grid_points ORDER BY 1, 2 LOOP
        CALL rec.train('point', 'u1_base', factors => g.factors, regularization => g.regularization, iterations => 15,
                       bias_regularization => 0, unweighted_regularization => 4);
        INSERT INTO grid_rmse SELECT g.factors, g.regularization, value FROM rec.evaluate('point', 'u1_test') WHERE metric = 'rmse';
    END LOOP;
END \$\$;
SELECT factors, regularization, round(test_rmse::numeric, 4) AS test_rmse FROM grid_rmse ORDER BY 1, 2;
-- The configuration tune deployed, retrained on all of u1.base.
CREATE TABLE chosen AS SELECT (hyperparameters->>'factors')::int AS factors,
                              (hyperparameters->>'regularization')::float8 AS regularization,
                              validation_value
                       FROM rec.models WHERE name = 'tuned' AND deployed;
SELECT c.factors, c.regularization, round(c.validation_value::numeric, 4) AS validation_rmse,
       round(g.test_rmse::numeric, 4) AS chosen_test_rmse,
       round((SELECT min(test_rmse) FROM grid_rmse)::numeric, 4) AS best_test_rmse,
       round((g.test_rmse - (SELECT min(test_rmse) FROM grid_rmse))::numeric, 4) AS gap
FROM chosen c JOIN grid_rmse g USING (factors, regularization);
SQL
" 2>&1 | grep -v "^Dropping cluster\|^Creating new\|^20[0-9][0-9]-\|^\*\*\*"
