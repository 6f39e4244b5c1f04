# PostgreSQL 17 and 18 for the test command (issue 16), sourced by scripts/test.sh. Debian 12 has only
# PostgreSQL 15; Debian 13 ("trixie") has 17 and Debian sid 18, from the same Debian archive. For each,
# ensure_chroot makes a minimal Debian chroot with debootstrap and installs the server, its headers,
# pgTAP and the build tools, once per machine under the cache folder (PG_RECOMMEND_CACHE, default
# /var/cache/pg_recommend); run_chroot_suite copies this tree in, builds and installs pg_recommend
# there, and runs the pg_regress, isolation and pgTAP suites against a throw-away cluster of that
# version (pg_virtualenv inside the chroot: the server runs as its postgres user). Needs root.
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The archive this machine reaches may be a snapshot whose sid Release file has passed its Valid-Until
# date (seen 2026-12-07: "expired (invalid since 30d)"); its signatures are still checked.

chroot_root() { echo "${PG_RECOMMEND_CACHE:-/var/cache/pg_recommend}/$1"; }

# /proc, /dev and /dev/shm inside the chroot while it runs anything (postgresql-common's postinst
# needs /proc; the server needs /dev/shm), and out again.
chroot_mount() {
    local root=$1
    mountpoint -q "$root/proc" || mount --bind /proc "$root/proc"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
    mountpoint -q "$root/dev/shm" || mount --bind /dev/shm "$root/dev/shm"
}
chroot_umount() {
    local root=$1
    umount "$root/dev/shm" "$root/dev" "$root/proc" 2>/dev/null ||
        umount -l "$root/dev/shm" "$root/dev" "$root/proc" 2>/dev/null || true
}

# ensure_chroot SUITE MAJOR: returns 1, having said why in one line, if it cannot be made.
ensure_chroot() {
    local suite=$1 major=$2 root
    root=$(chroot_root "$suite")
    [ -f "$root/.ready-pg$major" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "skipped: PostgreSQL $major tests need root to make a chroot"; return 1
    fi
    command -v debootstrap >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    echo "   making a Debian $suite chroot with PostgreSQL $major in $root (once per machine)"
    mkdir -p "$(dirname "$root")"
    if [ ! -x "$root/usr/bin/apt-get" ]; then
        rm -rf "$root"
        debootstrap --variant=minbase "$suite" "$root" "$DEBIAN_MIRROR" >/dev/null 2>&1 ||
            { echo "skipped: debootstrap $suite failed (is $DEBIAN_MIRROR reachable?)"; return 1; }
    fi
    chroot_mount "$root"
    chroot "$root" bash -c "export DEBIAN_FRONTEND=noninteractive
        apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq --no-install-recommends postgresql-$major \
            postgresql-server-dev-$major postgresql-$major-pgtap libtap-parser-sourcehandler-pgtap-perl \
            libeigen3-dev g++ make >/dev/null 2>&1" ||
        { chroot_umount "$root"; echo "skipped: installing PostgreSQL $major in the $suite chroot failed"; return 1; }
    chroot_umount "$root"
    touch "$root/.ready-pg$major"
}

# run_chroot_suite SUITE MAJOR: the tree's tracked and untracked (not ignored) files, built and tested.
run_chroot_suite() {
    local suite=$1 major=$2 root status=0
    root=$(chroot_root "$suite")
    chroot_mount "$root"
    rm -rf "$root/build" && mkdir -p "$root/build"
    git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$root/build"
    local log
    log=$(mktemp)
    chroot "$root" bash -c "cd /build && make -s -j$(nproc) with_llvm=no >/dev/null && make -s install with_llvm=no >/dev/null &&
        mkdir -p test/results && chmod -R a+rX /build && chown -R postgres test &&
        pg_virtualenv -t -v $major -o shared_preload_libraries=pg_recommend -o shared_buffers=256MB bash -c '
            set -e
            su postgres -c \"cd /build && PGHOST=\$PGHOST PGPORT=\$PGPORT PGUSER=\$PGUSER PGPASSWORD=\$PGPASSWORD make -s installcheck with_llvm=no\" ||
                { cat test/regression.diffs test/isolation/regression.diffs 2>/dev/null | head -100; exit 1; }
            psql -X -q -d postgres -c \"CREATE DATABASE pgtap_tests\"
            psql -X -q -d pgtap_tests -c \"CREATE EXTENSION pgtap; CREATE EXTENSION pg_recommend\"
            PGDATABASE=pgtap_tests pg_prove --ext .sql test/pgtap/'" >"$log" 2>&1 || status=1
    echo "   PostgreSQL $(chroot "$root" pg_config --version | cut -d' ' -f2) in a Debian $suite chroot:"
    grep -E "^# All|^# [0-9]+ of|tests passed|tests failed|\.sql \.|^Result" "$log" | sed 's/^/   /'
    [ "$status" = 0 ] || tail -n 120 "$log"
    rm -f "$log"
    chroot_umount "$root"
    return $status
}
