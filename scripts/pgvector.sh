# pgvector for the rec.export_vectors tests (issue 16), sourced by scripts/test.sh: ensure_pgvector
# installs pgvector into this PostgreSQL when it is missing, from the upstream source tarball
# (../shared/vendor, or PGVECTOR_TARBALL=path), building it once under a cache folder
# (PG_RECOMMEND_CACHE, default /var/cache/pg_recommend). It returns 1, having said why in one line,
# when there is neither an installed pgvector nor a tarball.
PGVECTOR_VERSION=0.8.6

pgvector_installed() {
    [ -f "$(pg_config --sharedir)/extension/vector--$PGVECTOR_VERSION.sql" ]
}

ensure_pgvector() {
    pgvector_installed && return 0
    local tarball=${PGVECTOR_TARBALL:-$PWD/../shared/vendor/pgvector-$PGVECTOR_VERSION.tar.gz}
    if [ ! -f "$tarball" ]; then
        echo "skipped: the pgvector tests need pgvector $PGVECTOR_VERSION, which is not installed, and there is no source tarball at $tarball (set PGVECTOR_TARBALL)"
        return 1
    fi
    local cache=${PG_RECOMMEND_CACHE:-/var/cache/pg_recommend}
    local build=$cache/pgvector-$PGVECTOR_VERSION
    as_root mkdir -p "$cache"
    as_root chown "$(id -u):$(id -g)" "$cache"
    if [ ! -f "$build/.built" ]; then
        echo "   building pgvector $PGVECTOR_VERSION from $tarball into $build (once per machine)"
        rm -rf "$build"
        tar -xzf "$tarball" -C "$cache"
        # OPTFLAGS="" drops pgvector's default -march=native (the vendor README's build line).
        (cd "$build" && make -s OPTFLAGS="" >/dev/null 2>&1) || { echo "pgvector failed to build in $build"; return 2; }
        touch "$build/.built"
    fi
    (cd "$build" && as_root make -s install OPTFLAGS="" >/dev/null 2>&1)
    pgvector_installed
}
