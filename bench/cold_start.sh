#!/usr/bin/env bash
# Cold-start titles from their features (bench/cold_start.sql) in a throw-away cluster, for ials and als.
#   bench/cold_start.sh [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then chmod -R a+rX data bench; d="$PWD"; while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done; fi
seed=${1:-0.13}
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c "
set -euo pipefail
for algorithm in ials als; do
    psql -X -q -v seed=$seed -v algorithm=\$algorithm -v data=$PWD/data/ml-latest-small -f bench/cold_start.sql
done"
