#!/usr/bin/env bash
# Every benchmark figure in one table: installs the reference tools it needs, builds detour-bench
# (release), runs each bench/sections/*.sh in order, and prints the machine, the date and one table
# (section, tool, figure, reference, ratio).
#
#   bash bench/run.sh            # every section
#   bash bench/run.sh webhook    # only sections whose file name contains "webhook"
#   bash bench/run.sh durable    # the daemon's durable fan-out beside smtp-source and Postfix (root)
#   bash bench/run.sh sms        # the daemon's SMS fan-out to a Twilio stand-in, beside Apprise
#   BENCH_BIN_DIR=.build/release bash bench/run.sh sms   # use the binaries there; build nothing
#
# Sizes come from the environment (defaults in bench/lib.sh): BENCH_MESSAGES, BENCH_CONNECTIONS,
# BENCH_DELIVERIES, BENCH_CONCURRENCY, BENCH_WRK_SECONDS, BENCH_APPRISE_BUDGET, BENCH_REPEAT and the
# durable section's BENCH_DURABLE_MESSAGES, _CONNECTIONS, _CONCURRENCY, _BIG, _TIMEOUT, and the SMS
# section's BENCH_SMS_TEXTS, _CONCURRENCY, _TIMEOUT.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
export BENCH_DIR ROOT
source "$BENCH_DIR/lib.sh"
cd "$ROOT"

# --- Install what is missing ---------------------------------------------------------------------

need_apt=()
[ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/smtp-source ] || need_apt+=(postfix)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} with apt-get (postfix only for its smtp-sink and smtp-source; no service is started)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections \
    || die "could not preseed debconf for postfix"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null \
    || die "apt-get install ${need_apt[*]} failed"
fi

venv=$BENCH_DIR/.venv
stamp=$venv/.requirements
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$BENCH_DIR/requirements.txt" "$stamp"; then
  log "preparing $venv with $(grep -v '^#' "$BENCH_DIR/requirements.txt" | tr '\n' ' ')"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$BENCH_DIR/requirements.txt" || die "pip install failed"
  cp "$BENCH_DIR/requirements.txt" "$stamp"
fi
export BENCH_PY=$venv/bin/python

# --- Build ----------------------------------------------------------------------------------------

command -v swift >/dev/null || [ ! -x /opt/swift/usr/bin/swift ] || PATH=/opt/swift/usr/bin:$PATH
prebuilt=${BENCH_BIN_DIR:-}
[ -n "$prebuilt" ] || command -v swift >/dev/null || die "swift not found on PATH"
# The sections to run (every one, or those whose file name contains an argument), and the products
# they name on "# bench-needs-product: NAME" lines: only those are built.
sections=()
for section in "$BENCH_DIR"/sections/*.sh; do
  name=$(basename "$section" .sh)
  if [ $# -gt 0 ]; then
    wanted=no
    for pattern in "$@"; do [[ $name == *"$pattern"* ]] && wanted=yes; done
    [ "$wanted" = yes ] || continue
  fi
  sections+=("$section")
done
[ ${#sections[@]} -gt 0 ] || die "no section in $BENCH_DIR/sections matches: $*"
products=()
while read -r product; do
  [[ " ${products[*]} " == *" $product "* ]] || products+=("$product")
done < <(sed -n 's/^# bench-needs-product: *\([A-Za-z0-9_-]*\).*/\1/p' "${sections[@]}")
if [ -n "$prebuilt" ]; then
  # BENCH_BIN_DIR set: the binaries already there, nothing built (say, while another build runs).
  BENCH_BIN_DIR=$(cd "$prebuilt" && pwd) || die "BENCH_BIN_DIR=$prebuilt is not a directory"
  for product in "${products[@]}"; do
    [ -x "$BENCH_BIN_DIR/$product" ] || die "BENCH_BIN_DIR is set but there is no $BENCH_BIN_DIR/$product"
    log "using $BENCH_BIN_DIR/$product as it is (BENCH_BIN_DIR set: not built)"
  done
else
  for product in "${products[@]}"; do
    log "building $product (release)"
    swift build -c release --product "$product" >&2 || die "swift build -c release --product $product failed"
  done
  BENCH_BIN_DIR=$(swift build -c release --show-bin-path)
fi
DETOUR_BENCH=$BENCH_BIN_DIR/detour-bench
if [[ " ${products[*]} " == *" detour-bench "* ]]; then
  [ -x "$DETOUR_BENCH" ] || die "no binary at $DETOUR_BENCH"
fi
export BENCH_BIN_DIR DETOUR_BENCH

# --- Run the sections -----------------------------------------------------------------------------

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/detour-bench.XXXXXX")
export BENCH_TMP
: >"$BENCH_TMP/pids"
cleanup() {
  # Servers a section started and did not stop (it failed or was interrupted): only those pids.
  while read -r pid; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done <"$BENCH_TMP/pids"
  rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load=$(cut -d' ' -f1-3 /proc/loadavg)
rows=$BENCH_TMP/rows.tsv
: >"$rows"
failed=()
for section in "${sections[@]}"; do
  name=$(basename "$section" .sh)
  log "section $name"
  if ! bash "$section" >>"$rows"; then
    log "section $name FAILED (its rows so far are kept)"
    failed+=("$name")
    row "$name" "FAILED" "see the bench: lines above" "" "" >>"$rows"
  fi
done

# --- The table ------------------------------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo "machine: $(nproc) cores, ${cpu:-unknown CPU}, $ram RAM; load average at start $load"
echo "date:    $started; $(swift --version 2>/dev/null | head -1)"
echo
"$BENCH_PY" - "$rows" <<'PY'
import sys
rows = [["section", "tool", "figure", "reference", "ratio"]]
rows += [(line.rstrip("\n").split("\t") + [""] * 5)[:5] for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
widths = [max(len(r[i]) for r in rows) for i in range(5)]
def line(r):
    return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
print(line(rows[0]))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows[1:]:
    print(line(r))
PY

if [ ${#failed[@]} -gt 0 ]; then
  die "failed sections: ${failed[*]}"
fi
