#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: trust auth on 127.0.0.1 only, fsync off (nothing in
# it outlives the run; PGTEST_DURABLE=1 keeps PostgreSQL's durable defaults, for benchmarks).
#   .ci/postgres.sh start [DIR]   initdb + start on $PGPORT (default 54329); prints the TEST_DATABASE_URL
#   .ci/postgres.sh stop [DIR]    stop it and remove DIR
# initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user.
set -euo pipefail
cmd=${1:?usage: $0 start|stop [DIR]}
dir=${2:-${PGTEST_DIR:-/tmp/flux-bot-pg}}
port=${PGPORT:-54329}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PATH="${bindir:+$bindir:}$PATH"
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
    if [ -f "$dir/data/postmaster.pid" ] && as_owner pg_ctl -D "$dir/data" status >/dev/null 2>&1; then
        echo "postgresql://postgres@127.0.0.1:$port/postgres"
        exit 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner initdb -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    opts="-h 127.0.0.1 -p $port -k $dir -c max_connections=200"
    [ "${PGTEST_DURABLE:-0}" = 1 ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_owner pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o "$opts" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
