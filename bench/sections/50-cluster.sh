#!/usr/bin/env bash
# Cluster: the durable fan-out of BENCH_CLUSTER_MESSAGES (20,000) emails with 1, 2 and 3 nodes on
# one PostgreSQL database, beside one node on SQLite, into one smtp-sink (each node with
# BENCH_DURABLE_CONNECTIONS connections and BENCH_DURABLE_CONCURRENCY in flight); and the time from
# the leader's decision until every node serves the banner. PostgreSQL is a throwaway server
# (scripts/postgres-test-server.sh: fsync off, synchronous commits kept). See bench/cluster_bench.py.
# bench-needs-product: detour
set -euo pipefail
source "$BENCH_DIR/lib.sh"

: "${BENCH_CLUSTER_MESSAGES:=20000}"
: "${BENCH_CLUSTER_NODES:=1 2 3}"
sink=/usr/sbin/smtp-sink
[ -x "$sink" ] || die "smtp-sink not found in /usr/sbin (Debian package postfix)"
command -v psql >/dev/null || die "psql not found (scripts/setup.sh installs postgresql-client)"
detour=$BENCH_BIN_DIR/detour
n=$BENCH_CLUSTER_MESSAGES c=$BENCH_DURABLE_CONNECTIONS k=$BENCH_DURABLE_CONCURRENCY

pg=$(mktemp -d "${TMPDIR:-/tmp}/detour-bench-pg.XXXXXX")
rmdir "$pg"
sink_pid=""
cleanup() {
  bash "$ROOT/scripts/postgres-test-server.sh" stop "$pg" >/dev/null 2>&1 || true
  [ -z "$sink_pid" ] || stop_bg "$sink_pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

url=$(bash "$ROOT/scripts/postgres-test-server.sh" start "$pg") || die "cannot start a PostgreSQL server"
port=$(free_port)
start_bg cluster-sink "$sink" -u nobody "127.0.0.1:$port" 1000
sink_pid=$BG_PID
wait_port "$port" 10 || die "smtp-sink did not start on 127.0.0.1:$port"
log "cluster: PostgreSQL $(psql "$url" -XtAq -c 'SHOW server_version'), smtp-sink on 127.0.0.1:$port"

# run NODES|sqlite OUT: the best of BENCH_REPEAT fan-outs; its JSON in OUT.
run() {
  local best=0 r out
  for r in $(seq "$BENCH_REPEAT"); do
    out=$BENCH_TMP/cluster-$1-$r.json
    if [ "$1" = sqlite ]; then
      log "cluster: one node on SQLite, $(group "$n") emails (run $r of $BENCH_REPEAT)"
      "$BENCH_PY" "$BENCH_DIR/cluster_bench.py" "$detour" --sink "$port" --messages "$n" --connections "$c" --concurrency "$k" >"$out" \
        || die "the SQLite fan-out failed"
    else
      log "cluster: $1 node(s) on PostgreSQL, $(group "$n") emails (run $r of $BENCH_REPEAT)"
      "$BENCH_PY" "$BENCH_DIR/cluster_bench.py" "$detour" --sink "$port" --messages "$n" --nodes "$1" --postgres "$url" \
        --connections "$c" --concurrency "$k" >"$out" || die "the fan-out with $1 node(s) failed"
    fi
    log "cluster: $(group "$(json_get "$out" 'd["messagesPerSecond"]')") msg/s, banner on every node after $(json_get "$out" '"%.0f" % (d["bannerSeconds"] * 1000)') ms"
    if [ "$(at_least "$(json_get "$out" 'd["messagesPerSecond"]')" "$best" 1.0000001)" = yes ]; then
      best=$(json_get "$out" 'd["messagesPerSecond"]'); cp "$out" "$2"
    fi
  done
}

run sqlite "$BENCH_TMP/cluster-sqlite.json"
sqlite_rate=$(json_get "$BENCH_TMP/cluster-sqlite.json" 'd["messagesPerSecond"]')
section="cluster, $(group "$n") emails"
row "$section" "one node on SQLite: failover start → all recorded sent" "$(group "$sqlite_rate") msg/s" "" ""
for nodes in $BENCH_CLUSTER_NODES; do
  out=$BENCH_TMP/cluster-$nodes.json
  run "$nodes" "$out"
  rate=$(json_get "$out" 'd["messagesPerSecond"]')
  row "$section" "$nodes node(s) on PostgreSQL: failover start → all recorded sent" "$(group "$rate") msg/s" \
    "one node on SQLite: $(group "$sqlite_rate") msg/s" "$(ratio "$rate" "$sqlite_rate")"
  row "$section" "  $nodes node(s): decision → banner served on every node" \
    "$(json_get "$out" '"%.0f" % (d["bannerSeconds"] * 1000)') ms" "goal ≤ 1,000 ms" \
    "meets: $(at_least 1 "$(json_get "$out" 'd["bannerSeconds"]')" 1)"
done
