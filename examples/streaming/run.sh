#!/usr/bin/env bash
# The streaming example in one command (README.md here): installs what is missing, builds and installs
# pg_recommend, starts a throw-away cluster, runs setup.sql (load MovieLens latest-small, train) and
# serves the home page on http://127.0.0.1:$PORT/ (default 8080) until Ctrl-C, which also removes
# the cluster. HOST=0.0.0.0 listens on every address (e.g. inside a container).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/common.sh"
cd "$root"
install_packages
build_and_install
export PORT=${PORT:-8080} HOST=${HOST:-127.0.0.1}
echo "== starting a throw-away cluster, loading MovieLens latest-small and training (a few seconds)"
# Files are read by psql's \copy, as this user: the server needs no access to the tree.
# Debian's python3-psycopg2 is for /usr/bin/python3, whatever python3 comes first on PATH.
# shellcheck disable=SC2016  # $PWD, $HOST and $PORT are expanded by the inner shell
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" bash -c '
    set -euo pipefail
    psql -X -q -v ON_ERROR_STOP=1 -v data="$PWD/data/ml-latest-small" -f examples/streaming/setup.sql
    echo "== open http://$HOST:$PORT/?user=1 (Ctrl-C stops the server and removes the cluster)"
    /usr/bin/python3 examples/streaming/app.py --host "$HOST" --port "$PORT"
'
