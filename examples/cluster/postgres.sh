#!/usr/bin/env bash
# A throwaway PostgreSQL server for trying the cluster on one machine (examples/cluster/README.md):
# it listens on 127.0.0.1:5432, where node-a.yaml, node-b.yaml and node-c.yaml look for it, with a
# role "detour" that needs no password and an empty database "detour" owned by that role.
#
#   bash examples/cluster/postgres.sh start   # prints the URL the node files use
#   bash examples/cluster/postgres.sh stop    # stops it and deletes its data
#
# Its data lives in $DETOUR_CLUSTER_PG (default /tmp/detour-cluster-postgres) and is written without
# fsync: it is for trying things, never for anything worth keeping. Needs Debian's postgresql
# package (scripts/setup.sh installs it). As root, the server runs as the "postgres" user.
set -euo pipefail

cmd=${1:-}
dir=${DETOUR_CLUSTER_PG:-/tmp/detour-cluster-postgres}
url="postgres://detour@127.0.0.1:5432/detour?sslmode=disable"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "no PostgreSQL server here (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$(id postgres >/dev/null 2>&1 && echo postgres || echo nobody)" -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ -d "$dir/data" ]; then echo "already made in $dir; 'stop' first to start afresh" >&2; exit 1; fi
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    echo "something already listens on 127.0.0.1:5432 (a PostgreSQL of your own?). Use it instead: give it a role" >&2
    echo "'detour' that may log in from 127.0.0.1 and a database 'detour' it owns (README, 'The database')." >&2
    exit 1
  fi
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$(id postgres >/dev/null 2>&1 && echo postgres || echo nobody)" "$dir"
  chmod 700 "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U detour --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { echo "initdb failed: $(tail -3 "$dir/initdb.log")" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p 5432 -k $dir -c fsync=off" start >/dev/null \
    || { echo "the server did not start: $(tail -5 "$dir/server.log")" >&2; exit 1; }
  psql "postgres://detour@127.0.0.1:5432/postgres?sslmode=disable" -X -q -c "CREATE DATABASE detour OWNER detour"
  echo "$url"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2
  ;;
esac
