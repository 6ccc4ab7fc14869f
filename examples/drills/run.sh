#!/usr/bin/env bash
# Outage drills: the real `detour run` against local stand-ins (an HTTP platform + control target, an
# SMTP server, a webhook receiver), one scenario each, narrated with timestamps and judged PASS/FAIL.
#
#   examples/drills/run.sh                 # every drill
#   examples/drills/run.sh flapping ...    # the named ones
#   examples/drills/run.sh --list
#
# Uses $DETOUR_BIN or .build/debug/detour (run `swift build` first), and $DETOUR_PYTHON,
# $DETOUR_TEST_PYTHON or .venv/bin/python (a Python with aiosmtpd: scripts/setup.sh makes it).
# DRILL_KEEP=1 keeps each drill's temp dir (config, daemon log, what the stand-ins received).
# Exits non-zero if any drill failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
all=(dns-outage login-path 5xx-and-timeouts our-network-down flapping manual-during-false-negative)

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${all[@]}"; exit 0; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

bin="${DETOUR_BIN:-$repo/.build/debug/detour}"
[ -x "$bin" ] || { echo "no detour binary at $bin: run 'swift build' or set DETOUR_BIN" >&2; exit 2; }
py="${DETOUR_PYTHON:-${DETOUR_TEST_PYTHON:-$repo/.venv/bin/python}}"
if [ ! -x "$py" ]; then py="$(command -v python3 || true)"; fi
"$py" -c "import aiosmtpd" 2>/dev/null || { echo "no Python with aiosmtpd ($py): run scripts/setup.sh or set DETOUR_PYTHON" >&2; exit 2; }

names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")
for n in "${names[@]}"; do
  [[ " ${all[*]} " == *" $n "* ]] || { echo "unknown drill '$n'; drills: ${all[*]}" >&2; exit 2; }
done

child=""
cleanup() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

keep=(); [ -n "${DRILL_KEEP:-}" ] && keep=(--keep)
failed=(); results=()
for n in "${names[@]}"; do
  echo
  out="$(mktemp "${TMPDIR:-/tmp}/detour-drill-$n.XXXXXX")"
  "$py" -u "$here/drill.py" "$n" --bin "$bin" "${keep[@]}" > "$out" 2>&1 &
  child=$!
  tail -n +1 --pid="$child" -f "$out" &
  wait "$child"; rc=$?
  wait $! 2>/dev/null
  child=""
  results+=("$(grep -E "^(PASS|FAIL) $n" "$out" | tail -1)")
  rm -f "$out"
  [ $rc -eq 0 ] || failed+=("$n")
done

echo
echo "=== drills"
for r in "${results[@]}"; do echo "  ${r:-(no verdict)}"; done
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: ${failed[*]}"; exit 1; fi
echo "all ${#names[@]} passed"
