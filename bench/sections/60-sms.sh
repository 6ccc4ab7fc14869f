#!/usr/bin/env bash
# SMS fan-out: the real daemon (`detour run`) texting BENCH_SMS_TEXTS (10,000) customers through its
# SMS channel (provider twilio, base_url a local Twilio stand-in: Tests/Servers/twilio_server.py
# --fast), BENCH_SMS_CONCURRENCY (16) in flight, timed from `detour failover start` until every text
# is recorded `sent` in its state file; beside wrk POSTing the same request to the same stand-in
# (its ceiling here) and Apprise form:// sending the same texts, one URL per number, to the same
# stand-in (Apprise's Twilio plugin only talks to api.twilio.com). Each run has a fresh stand-in
# whose log must show exactly N requests, all 201, to N distinct numbers, with To, From and Body
# only. See bench/sms_bench.py.
# bench-needs-product: detour
set -euo pipefail
source "$BENCH_DIR/lib.sh"

command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"
detour=$BENCH_BIN_DIR/detour
[ -x "$detour" ] || die "no binary at $detour"

n=$BENCH_SMS_TEXTS k=$BENCH_SMS_CONCURRENCY limit=$BENCH_SMS_TIMEOUT
work=$BENCH_TMP/sms
mkdir -p "$work"
sample=$work/request

# Detour and wrk take turns, BENCH_REPEAT times; each figure is the best run. Apprise runs once.
detour_runs=() wrk_runs=()
for r in $(seq "$BENCH_REPEAT"); do
  log "sms: Detour daemon, $(group "$n") texts, $k in flight (run $r of $BENCH_REPEAT)"
  out=$work/detour-$r.json
  "$BENCH_PY" "$BENCH_DIR/sms_bench.py" detour "$detour" --texts "$n" --concurrency "$k" --timeout "$limit" \
    --workdir "$work" --sample "$sample" >"$out" || die "the daemon's fan-out of $n texts failed (see the lines above)"
  detour_runs+=("$(json_get "$out" 'd["textsPerSecond"]')")
  log "sms: Detour $(group "${detour_runs[-1]}") texts/s ($(json_get "$out" '"%.2f s; failover start %.0f ms; CPU per text: daemon %.0f µs, stand-in %.0f µs" % (d["seconds"], d["commandSeconds"] * 1000, d["daemonCPUMicrosecondsPerText"], d["standInCPUMicrosecondsPerText"])'))"

  log "sms: wrk -t1 -c$k, ${BENCH_WRK_SECONDS}s, the same request to a fresh stand-in (run $r of $BENCH_REPEAT)"
  out=$work/wrk-$r.json
  "$BENCH_PY" "$BENCH_DIR/sms_bench.py" wrk --sample "$sample" --connections "$k" --seconds "$BENCH_WRK_SECONDS" \
    --workdir "$work" >"$out" || die "wrk against the stand-in failed"
  wrk_runs+=("$(json_get "$out" 'd["requestsPerSecond"]')")
  log "sms: wrk $(group "${wrk_runs[-1]}") req/s (stand-in CPU per request $(json_get "$out" '"%.0f" % d["standInCPUMicrosecondsPerText"]') µs)"
done
detour_rate=$(max_of "${detour_runs[@]}")
wrk_rate=$(max_of "${wrk_runs[@]}")
best=$(for f in "$work"/detour-*.json; do "$BENCH_PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["textsPerSecond"], sys.argv[1])' "$f"; done | sort -g | tail -1 | cut -d' ' -f2)
body=$(json_get "$best" 'd["body"]')

log "sms: Apprise form://, $(group "$n") URLs in one Apprise object, one notify()"
out=$work/apprise.json
"$BENCH_PY" "$BENCH_DIR/sms_bench.py" apprise --body "$body" --texts "$n" --timeout "$limit" --workdir "$work" >"$out" \
  || die "Apprise form:// failed (see the lines above)"
apprise_rate=$(json_get "$out" 'd["textsPerSecond"]')
log "sms: Apprise $(group "$apprise_rate") texts/s ($(json_get "$out" '"%.2f s, building the object %.2f s; CPU per text: Apprise %.0f µs, stand-in %.0f µs" % (d["seconds"], d["addSeconds"], d["appriseCPUMicrosecondsPerText"], d["standInCPUMicrosecondsPerText"])'))"

section="sms, $(group "$n") texts"
tool="Detour daemon: failover start → all recorded sent ($k in flight)"
row "$section" "$tool" "$(group "$detour_rate") texts/s" \
  "Apprise form://, one object, $(group "$n") URLs, one notify(): $(group "$apprise_rate") texts/s" "$(ratio "$detour_rate" "$apprise_rate")"
row "$section" "$tool" "$(group "$detour_rate") texts/s" \
  "wrk -t1 -c$k, same request, same stand-in (its ceiling): $(group "$wrk_rate") req/s" "$(ratio "$detour_rate" "$wrk_rate")"
row "$section" "  of which: \`detour failover start\` round trip (queues every text)" \
  "$(json_get "$best" '"%.0f" % (d["commandSeconds"] * 1000)') ms" "" ""
row "$section" "  CPU per text: Detour daemon + stand-in" \
  "$(json_get "$best" '"%.0f + %.0f µs" % (d["daemonCPUMicrosecondsPerText"], d["standInCPUMicrosecondsPerText"])')" \
  "Apprise + stand-in: $(json_get "$out" '"%.0f + %.0f µs" % (d["appriseCPUMicrosecondsPerText"], d["standInCPUMicrosecondsPerText"])')" ""
row "$section" "  durability: each text stored before it is sent, its outcome recorded" "$(group "$n") of $(group "$n")" \
  "Apprise: none (in memory; a crash loses which were sent)" ""
