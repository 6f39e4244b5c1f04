#!/usr/bin/env bash
# Latency of a home page's functions (bench/home_page.sql) on the streaming example's model, in a
# throw-away cluster.   bench/home_page.sh
set -euo pipefail
cd "$(dirname "$0")/.."
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -v data=$PWD/data/ml-latest-small -f examples/streaming/setup.sql >/dev/null
psql -X -q -f bench/home_page.sql"
