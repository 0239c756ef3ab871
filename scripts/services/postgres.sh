# Sourced by scripts/test: a throwaway PostgreSQL server for the tests that need one.
#
#   start_postgres  installs Debian's `postgresql` when missing, creates a cluster in a temp
#                   dir, starts it on a free 127.0.0.1 port (and a socket in the temp dir),
#                   creates the database crossdock_test and exports
#                   CROSSDOCK_TEST_DATABASE_URL=postgresql+psycopg://crossdock@127.0.0.1:<port>/crossdock_test
#   stop_postgres   stops the server by its PID and removes the temp dir (safe to call twice)
#
# The cluster's default collation is ICU en-US, not C: ordering that depends on the
# database's locale (rather than on crossdock's schema) shows up in the tests.

_postgres_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
        dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$dir"
}

_postgres_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a PostgreSQL program as the cluster's owner: root may not run the server.
_postgres_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local bindir port attempt
    bindir=$(_postgres_bindir)
    CROSSDOCK_POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/crossdock-postgres.XXXXXX")
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$CROSSDOCK_POSTGRES_DIR"
    fi
    _postgres_as_owner "$bindir/initdb" --pgdata="$CROSSDOCK_POSTGRES_DIR/data" \
        --username=crossdock --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        --locale-provider=icu --icu-locale=en-US >"$CROSSDOCK_POSTGRES_DIR/initdb.log" 2>&1 || {
        cat "$CROSSDOCK_POSTGRES_DIR/initdb.log" >&2
        return 1
    }
    # A port chosen now may be taken before the server binds it: try a few.
    for attempt in 1 2 3; do
        port=$(_postgres_free_port)
        if _postgres_as_owner "$bindir/pg_ctl" --pgdata="$CROSSDOCK_POSTGRES_DIR/data" \
            --log="$CROSSDOCK_POSTGRES_DIR/server.log" --wait --silent start \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $CROSSDOCK_POSTGRES_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"; then
            break
        fi
        if [ "$attempt" -eq 3 ]; then
            cat "$CROSSDOCK_POSTGRES_DIR/server.log" >&2
            return 1
        fi
    done
    CROSSDOCK_POSTGRES_PID=$(head -n 1 "$CROSSDOCK_POSTGRES_DIR/data/postmaster.pid")
    _postgres_as_owner "$bindir/createdb" --host=127.0.0.1 --port="$port" --username=crossdock \
        crossdock_test
    export CROSSDOCK_TEST_DATABASE_URL="postgresql+psycopg://crossdock@127.0.0.1:$port/crossdock_test"
    echo "== PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $CROSSDOCK_POSTGRES_PID)"
}

stop_postgres() {
    local pid=${CROSSDOCK_POSTGRES_PID:-} tries=0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -INT "$pid" # "fast" shutdown: disconnect clients, then exit
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid"
        fi
    fi
    if [ -n "${CROSSDOCK_POSTGRES_DIR:-}" ]; then
        rm -rf "$CROSSDOCK_POSTGRES_DIR"
    fi
    CROSSDOCK_POSTGRES_PID="" CROSSDOCK_POSTGRES_DIR=""
    unset CROSSDOCK_TEST_DATABASE_URL
}
