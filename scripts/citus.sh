# Citus for the distributed tests (issue 15), sourced by scripts/test.sh: ensure_citus installs Citus
# into this PostgreSQL when it is missing, from the upstream source tarball (../shared/vendor, or
# CITUS_TARBALL=path), building it once under a cache folder (PG_RECOMMEND_CACHE, default
# /var/cache/pg_recommend) so that a second run on the same machine only installs it. It returns 1, having
# said why in one line, when there is neither an installed Citus nor a tarball.
CITUS_VERSION=13.2.2

citus_installed() {
    grep -qs "default_version = '${CITUS_VERSION%.*}" "$(pg_config --sharedir)/extension/citus.control"
}

ensure_citus() {
    citus_installed && return 0
    local tarball=${CITUS_TARBALL:-$PWD/../shared/vendor/citus-$CITUS_VERSION.tar.gz}
    if [ ! -f "$tarball" ]; then
        echo "skipped: the distributed tests need Citus $CITUS_VERSION, which is not installed, and there is no source tarball at $tarball (set CITUS_TARBALL)"
        return 1
    fi
    local cache=${PG_RECOMMEND_CACHE:-/var/cache/pg_recommend}
    local build=$cache/citus-$CITUS_VERSION
    as_root mkdir -p "$cache"
    as_root chown "$(id -u):$(id -g)" "$cache"
    # Its build needs these besides the server headers (krb5: PostgreSQL 15's libpq-be.h includes gssapi).
    local missing=""
    for p in liblz4-dev libzstd-dev libkrb5-dev; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
    if [ ! -f "$build/.built" ]; then
        echo "   building Citus $CITUS_VERSION from $tarball into $build (once per machine)"
        rm -rf "$build"
        tar -xzf "$tarball" -C "$cache"
        # PostgreSQL 15.20's headers export have_createdb_privilege(); Citus 13.2.2 defines a static one
        # of the same name (the vendor README's two-line rename).
        sed -i 's/^have_createdb_privilege(void)/citus_have_createdb_privilege(void)/' \
            "$build/src/include/pg_version_compat.h"
        sed -i 's/!have_createdb_privilege()/!citus_have_createdb_privilege()/' \
            "$build/src/backend/distributed/commands/serialize_distributed_ddls.c"
        (cd "$build" && ./configure --without-libcurl >/dev/null && make -s -j"$(nproc)" with_llvm=no >/dev/null 2>&1) ||
            { echo "Citus failed to build in $build"; return 2; }
        touch "$build/.built"
    fi
    (cd "$build" && as_root make -s install with_llvm=no >/dev/null 2>&1)
    citus_installed
}
