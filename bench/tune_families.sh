#!/usr/bin/env bash
# Model selection across algorithm families (a benchmark, not a test), issue 17 check 3: rec.tune with
# the issue's grid keyed by algorithm (ials 3 x 2 x 2, ease 3, itemknn 2: 17 trials) on a per-user
# split of MovieLens-100k u1.base's positives (ratings >= 4; 80% train, 20% validation, rec.split), the
# chosen configuration retrained on all of u1.base's positives and scored on u1.test's (precision@10,
# rec.evaluate); against every grid point trained on u1.base and scored on u1.test separately. Prints
# each grid point's test precision, the chosen one, and its gap to the best. The data are read from
# ../shared/data/ml-100k (never commit them).
#   bench/tune_families.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ML100K:-$PWD/../shared/data/ml-100k}
[ -f "$DATA/u1.base" ] || { echo "no MovieLens-100k at $DATA" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then chmod -R a+rX "$DATA" 2>/dev/null || true; fi
GRID='{"ials": {"factors": [32, 64, 128], "regularization": [0.01, 0.1], "alpha": [1, 4]}, "ease": {"regularization": [50, 200, 800]}, "itemknn": {"neighbours": [50, 200]}}'
echo "machine: $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M') UTC"
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_recommend;
CREATE TABLE u1_base (user_id int, item_id int, rating real, ts bigint);
CREATE TABLE u1_test (user_id int, item_id int, rating real, ts bigint);
\\copy u1_base FROM '$DATA/u1.base'
\\copy u1_test FROM '$DATA/u1.test'
CREATE TABLE base_pos AS SELECT user_id, item_id, 1 AS value FROM u1_base WHERE rating >= 4;
CREATE TABLE test_pos AS SELECT user_id, item_id, 1 AS value FROM u1_test WHERE rating >= 4;
\\timing on
SELECT * FROM rec.split('base_pos', 'tune_train', 'tune_validation', method => 'per_user', test_fraction => 0.2);
CALL rec.tune('tuned', 'tune_train', 'tune_validation', '$GRID', rating_column => 'value');
\\timing off
-- Every grid point on all of u1.base's positives, scored on u1.test's.
CREATE TABLE grid_points (algorithm text, hyperparameters jsonb, trial_version int, validation_value float8, test_precision float8);
DO \$\$
DECLARE t record; arguments text;
BEGIN
    FOR t IN SELECT version, algorithm, hyperparameters, validation_value FROM rec.models WHERE name = 'tuned' ORDER BY version LOOP
        arguments := CASE t.algorithm
            WHEN 'ials' THEN format('factors => %s, regularization => %s, alpha => %s', t.hyperparameters->>'factors',
                                    t.hyperparameters->>'regularization', t.hyperparameters->>'alpha')
            WHEN 'ease' THEN format('regularization => %s', t.hyperparameters->>'regularization')
            ELSE format('neighbours => %s', t.hyperparameters->>'neighbours') END;
        EXECUTE format('CALL rec.train(%L, %L, rating_column => %L, algorithm => %L, %s)', 'point', 'base_pos', 'value', t.algorithm, arguments);
        INSERT INTO grid_points SELECT t.algorithm, t.hyperparameters, t.version, t.validation_value, value
        FROM rec.evaluate('point', 'test_pos', 10, rating_column => 'value') WHERE metric = 'precision';
        PERFORM rec.drop_model('point');
    END LOOP;
END \$\$;
SELECT algorithm, hyperparameters, trial_version, round(validation_value::numeric, 4) AS validation_ndcg,
       round(test_precision::numeric, 4) AS test_precision,
       CASE WHEN trial_version = (SELECT version FROM rec.models WHERE name = 'tuned' AND deployed) THEN 'chosen' ELSE '' END AS chosen
FROM grid_points ORDER BY test_precision DESC;
SELECT round(c.test_precision::numeric, 4) AS chosen_test_precision, round(max(g.test_precision)::numeric, 4) AS best_test_precision,
       round((100 * (1 - c.test_precision / max(g.test_precision)))::numeric, 2) AS gap_percent
FROM grid_points g, grid_points c WHERE c.trial_version = (SELECT version FROM rec.models WHERE name = 'tuned' AND deployed)
GROUP BY c.test_precision;
SQL
" 2>&1 | grep -v "^Dropping cluster\|^Creating new"
