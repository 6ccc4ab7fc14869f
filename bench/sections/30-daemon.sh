#!/usr/bin/env bash
# The running daemon (issues #6 and #7): start to READY with 100 and 1,000 policies, idle RSS and
# CPU, failover latency (decision -> banner served, -> first webhook, -> first email; outage start
# -> decision with fast probes) and durability (SIGKILL mid fan-out of 5,000 emails, restart, count
# lost and duplicated). The real `detour run` against local stand-ins; see bench/daemon_bench.py.
# bench-needs-product: detour
set -euo pipefail
source "$BENCH_DIR/lib.sh"

bash "$ROOT/scripts/setup.sh" >&2   # the test servers' venv (aiosmtpd)
log "daemon: start-up, idle cost, failover latency, durability (about 2 minutes)"
"$ROOT/.venv/bin/python" "$BENCH_DIR/daemon_bench.py" "$BENCH_BIN_DIR/detour" | while IFS='|' read -r section what value target; do
  trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
  row "$(trim "$section")" "Detour: $(trim "$what")" "$(trim "$value")" "target $(trim "$target")" ""
done
