#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds, then runs every test:
# C++ unit tests of the core (GoogleTest), pg_regress and pgTAP against a throw-away cluster.
source "$(dirname "$0")/common.sh"
# suite NAME: prints how long the previous suite took, then NAME (CI shows each suite's time).
suite_started=$SECONDS; suite_name=""
suite() {
    [ -n "$suite_name" ] && echo "   ($suite_name: $((SECONDS - suite_started)) s)"
    suite_started=$SECONDS; suite_name=$1
    [ -n "$1" ] && echo "== $1"
    return 0
}
export -f suite
suite "installing packages and building"
install_packages
build_and_install
suite "the PGXN META.json"
bash test/shell/meta_json.sh
suite "unit tests (GoogleTest)"
make -s unittest
suite "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
make -s sanitize
open_tree_to_postgres
# pgvector for the rec.export_vectors test, built from ../shared/vendor when missing (scripts/pgvector.sh).
source scripts/pgvector.sh
ensure_pgvector || true
suite "pg_regress and isolation tests in a throw-away cluster (pg_virtualenv)"
# As root, pg_virtualenv runs the server as postgres and the command as root with PGUSER set;
# -t keeps the cluster in a temporary folder, so a run killed halfway leaves no
# /etc/postgresql/15/regress behind to refuse the next run (a CI failure seen 2026-11-29).
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=256MB" bash -c '
    set -euo pipefail
    status=0
    suite_started=$SECONDS; suite_name="pg_regress and isolation tests"
    if [ "$(id -u)" = 0 ]; then run_as_pg() { su postgres -c "$*"; }; else run_as_pg() { bash -c "$*"; }; fi
    env_vars="PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGPASSWORD=$PGPASSWORD"
    # pg_regress files, then the isolationtester specs.
    run_as_pg "cd $PWD && $env_vars make -s installcheck" || {
        cat test/regression.diffs test/isolation/regression.diffs 2>/dev/null | head -200 || true; status=1; }
    suite "pgTAP tests (pg_prove)"
    psql -X -q -d postgres -c "CREATE DATABASE pgtap_tests"
    psql -X -q -d pgtap_tests -c "CREATE EXTENSION pgtap; CREATE EXTENSION pg_recommend"
    PGDATABASE=pgtap_tests pg_prove --ext .sql test/pgtap/ || status=1
    suite "progress notices"
    PGDATABASE=pgtap_tests bash test/shell/notices.sh || status=1
    suite "serving under concurrency (shared cache, retrain under load)"
    PGDATABASE=pgtap_tests bash test/shell/serving_concurrency.sh || status=1
    suite "concurrent trainings of one model"
    PGDATABASE=pgtap_tests bash test/shell/train_concurrency.sh || status=1
    suite "worker threads shared by concurrent trainings (rec.max_worker_threads)"
    PGDATABASE=pgtap_tests bash test/shell/worker_threads.sh || status=1
    suite "training memory: counted against measured (rec.max_memory)"
    PGDATABASE=pgtap_tests bash test/shell/memory_estimate.sh || status=1
    suite "ALTER EXTENSION UPDATE from every earlier version"
    bash test/shell/update_paths.sh || status=1
    suite "serving without the shared cache"
    PGDATABASE=pgtap_tests bash test/shell/local_cache.sh || status=1
    suite "item-item models against NumPy on MovieLens-100k (test/shell/item_item_reference.sh)"
    PGDATABASE=pgtap_tests bash test/shell/item_item_reference.sh || status=1
    suite "streaming example page in headless Chromium (examples/streaming)"
    PGDATABASE=pgtap_tests bash test/shell/streaming_page.sh || status=1
    suite "factors exported to pgvector (rec.export_vectors)"
    if [ -f "$(pg_config --sharedir)/extension/vector.control" ]; then
        PGDATABASE=pgtap_tests bash test/shell/pgvector.sh || status=1
    else
        echo "skipped: pgvector is not installed (see the line above)"
    fi
    suite ""
    exit $status
'
suite_name=""; suite "TAP tests (PostgreSQL::Test::Cluster: hot standby, crash recovery, dump and restore, cancel, pg_cron)"
# Each test makes its own clusters, run by postgres (a server never runs as root).
tap_dir=$(mktemp -d)
tap_command="cd $PWD/test/tap && PATH=/usr/lib/postgresql/15/bin:\$PATH \
    PERL5LIB=/usr/lib/postgresql/15/lib/pgxs/src/test/perl \
    PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress TESTDIR=$tap_dir prove *.pl"
if [ "$(id -u)" = 0 ]; then
    chown postgres "$tap_dir"
    su postgres -c "$tap_command" || { tail -n 50 "$tap_dir"/tmp_check/log/regress_log_* 2>/dev/null; exit 1; }
else
    bash -c "$tap_command" || exit 1
fi
rm -rf "$tap_dir"
suite "PostgreSQL 17 and 18 in Debian chroots: pg_regress, isolation, pgTAP (scripts/chroots.sh)"
source scripts/chroots.sh
for suite_and_major in trixie:17 sid:18; do
    if ensure_chroot "${suite_and_major%:*}" "${suite_and_major#*:}"; then
        run_chroot_suite "${suite_and_major%:*}" "${suite_and_major#*:}"
    fi
done
suite "distributed tests on a three-node Citus cluster (issue 15)"
source scripts/citus.sh
if ensure_citus; then
    if [ "$(id -u)" = 0 ]; then su postgres -c "bash test/shell/distributed.sh"; else bash test/shell/distributed.sh; fi
fi
suite "the Debian package: dpkg-buildpackage, apt-get install, a fresh cluster (test/shell/debian_package.sh)"
if [ "$(id -u)" = 0 ]; then bash test/shell/debian_package.sh; else echo "skipped: installing a .deb needs root"; fi
suite "pg_regress under valgrind memcheck: setup, train, serve (./scripts/valgrind.sh runs every file)"
./scripts/valgrind.sh setup train serve
suite ""
echo "every suite passed in $SECONDS s: unit, sanitizers, pg_regress, isolation, pgTAP, shell, TAP, PostgreSQL 17/18, Citus, Debian package, valgrind"
