#!/usr/bin/env bash
# Cluster drills: three real `detour run` nodes on one PostgreSQL database, each with its own
# platform stand-in and SMTP stand-in, one failure each (a leader killed or frozen, the database
# restarted, one node's network down, one node alone seeing the platform down), narrated with
# timestamps and judged PASS/FAIL.
#
#   examples/cluster/run.sh                  # every drill
#   examples/cluster/run.sh leader-kill ...  # the named ones
#   examples/cluster/run.sh --list
#
# Uses $DETOUR_BIN or .build/debug/detour (run `swift build` first), and $DETOUR_PYTHON,
# $DETOUR_TEST_PYTHON or .venv/bin/python (a Python with aiosmtpd: scripts/setup.sh makes it).
# PostgreSQL: $DETOUR_TEST_POSTGRES_URL (a server where the role may CREATE DATABASE; each drill gets
# a database of its own) or else one throwaway server (scripts/postgres-test-server.sh) for the run,
# stopped at the end. database-restart always starts a server of its own, since it restarts it.
# DRILL_KEEP=1 keeps each drill's temp dir (configs, node logs, what the stand-ins received) and database.
# Exits non-zero if any drill failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
all=(leader-kill leader-freeze database-restart network-down-abstains one-node-sees-down)
# Each drill's hard limit in seconds (drills.py stops itself sooner; this is the backstop).
declare -A limit=([leader-kill]=300 [leader-freeze]=210 [database-restart]=360 [network-down-abstains]=210 [one-node-sees-down]=210)

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${all[@]}"; exit 0; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

bin="${DETOUR_BIN:-$repo/.build/debug/detour}"
[ -x "$bin" ] || { echo "no detour binary at $bin: run 'swift build' or set DETOUR_BIN" >&2; exit 2; }
py="${DETOUR_PYTHON:-${DETOUR_TEST_PYTHON:-$repo/.venv/bin/python}}"
if [ ! -x "$py" ]; then py="$(command -v python3 || true)"; fi
"$py" -c "import aiosmtpd" 2>/dev/null || { echo "no Python with aiosmtpd ($py): run scripts/setup.sh or set DETOUR_PYTHON" >&2; exit 2; }
command -v psql >/dev/null || ls /usr/lib/postgresql/*/bin/psql >/dev/null 2>&1 \
  || { echo "no psql: install PostgreSQL (scripts/setup.sh does)" >&2; exit 2; }

names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")
for n in "${names[@]}"; do
  [[ " ${all[*]} " == *" $n "* ]] || { echo "unknown drill '$n'; drills: ${all[*]}" >&2; exit 2; }
done

child="" pgdir="" out=""
cleanup() {
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; echo "(interrupted)"; fi
  [ -n "$out" ] && rm -f "$out"
  if [ -n "$pgdir" ]; then bash "$repo/scripts/postgres-test-server.sh" stop "$pgdir"; echo "(stopped the throwaway PostgreSQL server)"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One throwaway PostgreSQL server for the drills that share one, unless one is given.
if [ -z "${DETOUR_TEST_POSTGRES_URL:-}" ] && [[ " ${names[*]} " =~ \ (leader-kill|leader-freeze|network-down-abstains|one-node-sees-down)\  ]]; then
  pgdir="$(mktemp -u /tmp/detour-cluster-pg.XXXXXX)"   # the script makes it (for the server's user, as root)
  url="$(bash "$repo/scripts/postgres-test-server.sh" start "$pgdir")" || { echo "cannot start a throwaway PostgreSQL server" >&2; exit 2; }
  export DETOUR_TEST_POSTGRES_URL="$url"
  echo "throwaway PostgreSQL server for the drills: $url"
fi

keep=(); [ -n "${DRILL_KEEP:-}" ] && keep=(--keep)
failed=(); results=()
for n in "${names[@]}"; do
  echo
  out="$(mktemp "${TMPDIR:-/tmp}/detour-cluster-drill-$n.XXXXXX")"
  timeout -s TERM -k 30 "${limit[$n]}" "$py" -u "$here/drills.py" "$n" --bin "$bin" "${keep[@]}" > "$out" 2>&1 &
  child=$!
  tail -n +1 --pid="$child" -f "$out" &
  wait "$child"; rc=$?
  wait $! 2>/dev/null
  child=""
  verdict="$(grep -E "^(PASS|FAIL) $n" "$out" | tail -1)"
  [ $rc -eq 124 ] && [ -z "$verdict" ] && verdict="FAIL $n: killed at its hard limit (${limit[$n]}s)"
  results+=("$verdict")
  rm -f "$out"; out=""
  [ $rc -eq 0 ] || failed+=("$n")
done

echo
echo "=== cluster drills"
for r in "${results[@]}"; do echo "  ${r:-(no verdict)}"; done
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: ${failed[*]}"; exit 1; fi
echo "all ${#names[@]} passed"
