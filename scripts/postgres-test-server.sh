#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, in a directory of its own.
#
#   bash scripts/postgres-test-server.sh start DIR   # prints the server's URL (database "postgres")
#   bash scripts/postgres-test-server.sh restart DIR # stops it at once and starts it again (same port)
#   bash scripts/postgres-test-server.sh pause DIR   # stops it at once, keeping its data (the database is "down")
#   bash scripts/postgres-test-server.sh resume DIR  # starts a paused one again (same port)
#   bash scripts/postgres-test-server.sh stop DIR    # stops it and removes DIR
#
# It listens on 127.0.0.1 on a free port and on a unix socket in DIR, trusts local connections
# (user "detour"), and runs without fsync: fast, and never to hold anything worth keeping (a
# crash of the server keeps every commit; only a crash of the machine would not).
# PostgreSQL refuses to run as root, so as root it runs as the "postgres" user that Debian's
# package creates (or "nobody"). Needs Debian's postgresql (scripts/setup.sh installs it).
set -euo pipefail

cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|restart|pause|resume|stop DIR" >&2; exit 2; }

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "postgres-test-server: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$(id postgres >/dev/null 2>&1 && echo postgres || echo nobody)" "$dir"
  chmod 700 "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/initdb" -D "$dir/data" -U detour --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { echo "postgres-test-server: initdb failed: $(tail -3 "$dir/initdb.log")" >&2; exit 1; }
  options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200"
  echo "$options" >"$dir/options"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null \
    || { echo "postgres-test-server: the server did not start: $(tail -5 "$dir/server.log")" >&2; exit 1; }
  echo "postgres://detour@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
restart)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 60 restart >/dev/null \
    || { echo "postgres-test-server: the server did not restart: $(tail -5 "$dir/server.log")" >&2; exit 1; }
  ;;
pause)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null \
    || { echo "postgres-test-server: the server did not stop" >&2; exit 1; }
  ;;
resume)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" start >/dev/null \
    || { echo "postgres-test-server: the server did not start again: $(tail -5 "$dir/server.log")" >&2; exit 1; }
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|restart|pause|resume|stop DIR" >&2; exit 2
  ;;
esac
