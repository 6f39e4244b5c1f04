# Shared by scripts/demo.sh and scripts/test.sh: install what a fresh Debian 12 lacks, build, install.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the build, the tests and the demo need (chromium and psycopg2: the streaming example's
# browser test; numpy: the item-item models' reference computation; pg_cron: the scheduled-retraining
# test; debhelper, postgresql-server-dev-all and lintian: building the Debian package; debootstrap:
# the PostgreSQL 17 and 18 chroots).
PACKAGES="build-essential postgresql-15 postgresql-server-dev-15 postgresql-common libeigen3-dev
          libgtest-dev postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl libipc-run-perl valgrind
          chromium python3-psycopg2 python3-numpy fonts-dejavu-core postgresql-15-cron
          debhelper postgresql-server-dev-all lintian debootstrap"

install_packages() {
    local missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "== installing:$missing"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
}

build_and_install() {
    echo "== building pg_recommend"
    make -s -j"$(nproc)" >/dev/null
    as_root make -s install >/dev/null
}

# The server runs as the postgres user, which must be able to read the repository (the shipped data
# and the test files) and write test results.
open_tree_to_postgres() {
    if [ "$(id -u)" = 0 ]; then
        chmod -R a+rX .
        mkdir -p test/results && chown -R postgres test
        # Every directory above the tree must be traversable too.
        local d="$PWD"
        while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done
    fi
}
