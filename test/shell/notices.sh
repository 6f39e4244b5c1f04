#!/usr/bin/env bash
# rec.train reports progress with one NOTICE per iteration (number, training RMSE, elapsed seconds).
# A shell test because the elapsed time differs from run to run.
set -euo pipefail
out=$(psql -X -v ON_ERROR_STOP=1 2>&1 <<'SQL'
CREATE TEMP TABLE t (user_id int, item_id int, rating int);
INSERT INTO t SELECT u, i, 1 + (u + i) % 5 FROM generate_series(1, 30) u, generate_series(1, 20) i;
CALL rec.train('notices', 't', factors => 3, iterations => 4);
SELECT rec.drop_model('notices');
SQL
)
count=$(grep -cE 'NOTICE:  iteration [1-4]/4: training RMSE [0-9]+\.[0-9]{4}, [0-9]+\.[0-9]{2} s$' <<<"$out" || true)
if [ "$count" = 4 ]; then
    echo "ok - one progress NOTICE per iteration"
    echo "1 passed, 0 failed"
else
    echo "not ok - expected 4 iteration notices, got $count:"; echo "$out"
    echo "0 passed, 1 failed"
    exit 1
fi
