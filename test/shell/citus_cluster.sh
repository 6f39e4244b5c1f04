# A Citus cluster on one machine for the distributed tests (source it, as the user who runs the
# servers, never root): citus_start makes a coordinator and two workers in a fresh folder, on loopback
# ports CITUS_PORT, +1, +2 (default 56000), with citus and pg_recommend preloaded (citus first), joins
# them, and creates both extensions in the database `regress`; citus_stop stops and removes them.
# Psql against node N (0 = coordinator): node N -c '...'.
CITUS_PORT=${CITUS_PORT:-56000}
PG_BIN=$(pg_config --bindir)

node() { local n=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $((CITUS_PORT + n)) -d regress "$@"; }

citus_start() {
    CITUS_DIR=$(mktemp -d /tmp/pg_recommend_citus.XXXXXX)
    for n in 0 1 2; do
        "$PG_BIN/initdb" -D "$CITUS_DIR/node$n" -A trust -U postgres >/dev/null
        cat >> "$CITUS_DIR/node$n/postgresql.conf" <<CONF
port = $((CITUS_PORT + n))
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CITUS_DIR'
shared_preload_libraries = 'citus,pg_recommend'
shared_buffers = 128MB
max_connections = 60
rec.cache_size = '256MB'
CONF
        "$PG_BIN/pg_ctl" -D "$CITUS_DIR/node$n" -l "$CITUS_DIR/node$n.log" -w start >/dev/null
        psql -X -q -h 127.0.0.1 -p $((CITUS_PORT + n)) -U postgres -d postgres -c 'CREATE DATABASE regress' >/dev/null
        node "$n" -U postgres -c 'CREATE EXTENSION citus' >/dev/null
    done
    node 0 -U postgres -c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_PORT)" >/dev/null
    for n in 1 2; do node 0 -U postgres -c "SELECT citus_add_node('127.0.0.1', $((CITUS_PORT + n)))" >/dev/null; done
    node 0 -U postgres -c 'CREATE EXTENSION pg_recommend' >/dev/null
}

citus_stop() {
    [ -n "${CITUS_DIR:-}" ] || return 0
    for n in 0 1 2; do "$PG_BIN/pg_ctl" -D "$CITUS_DIR/node$n" -m fast stop >/dev/null 2>&1 || true; done
    rm -rf "$CITUS_DIR"
}
