#!/usr/bin/env bash
# Throwaway PostgreSQL server for the store tests (CI and local runs).
#
#   eval "$(scripts/ci-postgres.sh start)"   # prints: export BALANCE_STATION_TEST_PG_URL=...
#   scripts/ci-postgres.sh stop              # stops the server and deletes its files
#
# Installs Debian's postgresql package when no server binaries exist (needs root + apt),
# creates a cluster in a temp dir (as the postgres user when run as root: initdb refuses
# root), listens only on a Unix socket in that dir, on a free port, with fsync off (test
# data). State lives in $BS_PG_STATE (default /tmp/balance-station-ci-pg.env).
set -euo pipefail
state="${BS_PG_STATE:-/tmp/balance-station-ci-pg.env}"

find_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    if [ -f "$state" ]; then
        echo "ci-postgres: already started (state in $state); run '$0 stop' first" >&2
        exit 1
    fi
    bindir="$(find_bindir)"
    if [ -z "$bindir" ]; then
        echo "ci-postgres: installing Debian's postgresql package" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
        bindir="$(find_bindir)"
        [ -n "$bindir" ] || { echo "ci-postgres: no PostgreSQL binaries after install" >&2; exit 1; }
    fi
    root="$(mktemp -d /tmp/bs-ci-pg.XXXXXX)"
    mkdir -p "$root/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$root"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_pg "$bindir/initdb" -D "$root/data" -A trust -U postgres --no-sync >"$root/initdb.log" 2>&1 \
        || { cat "$root/initdb.log" >&2; exit 1; }
    as_pg "$bindir/pg_ctl" -D "$root/data" -w -l "$root/server.log" \
        -o "-p $port -k $root/sock -c listen_addresses='' -c fsync=off -c full_page_writes=off" \
        start >&2
    as_pg "$bindir/createdb" -h "$root/sock" -p "$port" -U postgres balance_station_test
    url="postgresql+psycopg://postgres@/balance_station_test?host=$root/sock&port=$port"
    printf 'BS_PG_ROOT=%q\nBS_PG_BINDIR=%q\nBALANCE_STATION_TEST_PG_URL=%q\n' \
        "$root" "$bindir" "$url" >"$state"
    echo "export BALANCE_STATION_TEST_PG_URL='$url'"
}

stop() {
    [ -f "$state" ] || { echo "ci-postgres: not running (no $state)" >&2; return 0; }
    # shellcheck disable=SC1090
    . "$state"
    as_pg "$BS_PG_BINDIR/pg_ctl" -D "$BS_PG_ROOT/data" -m fast -w stop >&2 || true
    rm -rf "$BS_PG_ROOT" "$state"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
