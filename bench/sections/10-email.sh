#!/usr/bin/env bash
# Email fan-out: N personalised emails to a local smtp-sink at each connection count, through
# Detour's email channel, Postfix's smtp-source (same message, same sessions, connections reused)
# and Apprise mailto:// (a connection per message; fewer messages when slow, scaled). Two more rows
# split Detour's figure: its SMTP pool alone (one prebuilt message) and rendering alone (no sending).
# smtp-sink offers PIPELINING, which Detour uses and smtp-source does not; one more row per count
# compares both against a second smtp-sink that does not offer it (-p), the same conversation.
# bench-needs-product: detour-bench
set -euo pipefail
source "$BENCH_DIR/lib.sh"

sink=/usr/sbin/smtp-sink source=/usr/sbin/smtp-source
[ -x "$sink" ] && [ -x "$source" ] || die "smtp-sink/smtp-source not found in /usr/sbin (Debian package postfix)"

port=$(free_port)
# smtp-sink accepts and discards everything; as root it must be told which user to become.
sink_args=(); [ "$(id -u)" -eq 0 ] && sink_args=(-u nobody)
start_bg smtp-sink "$sink" "${sink_args[@]}" "127.0.0.1:$port" 1000
sink_pid=$BG_PID
trap 'stop_bg "$sink_pid"' EXIT
wait_port "$port" 10 || die "smtp-sink did not start on 127.0.0.1:$port: $(cat "$BENCH_TMP/smtp-sink.log")"
log "email: smtp-sink on 127.0.0.1:$port"
plain_port=$(free_port)
start_bg smtp-sink-p "$sink" "${sink_args[@]}" -p "127.0.0.1:$plain_port" 1000
plain_pid=$BG_PID
trap 'stop_bg "$sink_pid"; stop_bg "$plain_pid"' EXIT
wait_port "$plain_port" 10 || die "smtp-sink -p did not start on 127.0.0.1:$plain_port: $(cat "$BENCH_TMP/smtp-sink-p.log")"
log "email: smtp-sink without PIPELINING on 127.0.0.1:$plain_port"

sample=$BENCH_TMP/email-sample
"$DETOUR_BENCH" email --sample "$sample"
n=$BENCH_MESSAGES

# source_rate PORT SESSIONS: messages/s of one smtp-source run of the sample against 127.0.0.1:PORT
source_rate() {
  local t0 t1
  t0=$(now)
  "$source" -d -s "$2" -m "$n" -F "$sample/message.eml" -f hello@rosies.example.test -t customer@example.test \
    "127.0.0.1:$1" >&2 || die "smtp-source failed at $2 session(s) against 127.0.0.1:$1"
  t1=$(now)
  calc "$n / ($t1 - $t0)"
}

# Detour (every connection count) and smtp-source (each count) take turns, BENCH_REPEAT times, so
# both see the same machine; each figure is the best of its runs.
declare -A postfix_runs=() postfix_plain_runs=()
for r in $(seq "$BENCH_REPEAT"); do
  log "email: Detour, $n messages at $BENCH_CONNECTIONS connection(s), with the pool and rendering timed apart (run $r of $BENCH_REPEAT)"
  "$DETOUR_BENCH" email --messages "$n" --connections "$BENCH_CONNECTIONS" --breakdown --server "smtp://127.0.0.1:$port" \
    --json >"$BENCH_TMP/email-detour-$r.json" || die "detour-bench email failed (see the lines above)"
  for c in ${BENCH_CONNECTIONS//,/ }; do
    log "email: smtp-source, $n messages, $c session(s) (run $r of $BENCH_REPEAT)"
    postfix_runs[$c]="${postfix_runs[$c]:-} $(source_rate "$port" "$c")"
  done
  log "email: Detour and smtp-source against smtp-sink without PIPELINING (run $r of $BENCH_REPEAT)"
  "$DETOUR_BENCH" email --messages "$n" --connections "$BENCH_CONNECTIONS" --modes channel --server "smtp://127.0.0.1:$plain_port" \
    --json >"$BENCH_TMP/email-plain-$r.json" || die "detour-bench email (no PIPELINING) failed (see the lines above)"
  for c in ${BENCH_CONNECTIONS//,/ }; do
    postfix_plain_runs[$c]="${postfix_plain_runs[$c]:-} $(source_rate "$plain_port" "$c")"
  done
done
# rate MODE CONNECTIONS [RUNS]: Detour's best messages/s for that mode and connection count
# (RUNS: detour, against the PIPELINING sink, or plain, against the other)
rate() {
  "$BENCH_PY" -c 'import glob, json, sys
print(max(r["messagesPerSecond"] for f in glob.glob(sys.argv[1]) for r in json.load(open(f))
          if r["mode"] == sys.argv[2] and r["connections"] == int(sys.argv[3])))' "$BENCH_TMP/email-${3:-detour}-*.json" "$1" "$2"
}

for c in ${BENCH_CONNECTIONS//,/ }; do
  section="email, $c conn"
  detour=$(rate channel "$c")
  pool=$(rate pool-only "$c")
  plain=$(rate channel "$c" plain)
  # shellcheck disable=SC2086
  postfix=$(max_of ${postfix_runs[$c]})
  # shellcheck disable=SC2086
  postfix_plain=$(max_of ${postfix_plain_runs[$c]})

  log "email: Apprise mailto://, up to $n messages or ${BENCH_APPRISE_BUDGET}s, $c thread(s)"
  out=$BENCH_TMP/email-apprise-$c.json
  "$BENCH_PY" "$BENCH_DIR/apprise_send.py" mailto --target "127.0.0.1:$port" --count "$n" --concurrency "$c" \
    --budget "$BENCH_APPRISE_BUDGET" --subject "$(cat "$sample/subject.txt")" --text "$sample/text.txt" >"$out" \
    || die "Apprise mailto:// failed at $c thread(s)"
  [ "$(json_get "$out" 'd["failures"]')" = 0 ] || die "Apprise mailto:// had failures: $(cat "$out")"
  apprise=$(json_get "$out" 'd["per_second"]')
  sent=$(json_get "$out" 'd["sent"]')
  scaled=""; [ "$sent" -lt "$n" ] && scaled=" ($(group "$sent") sent, scaled)"

  meets=$(at_least "$detour" "$postfix" 0.5)
  row "$section" "Detour email channel" "$(group "$detour") msg/s" \
    "smtp-source -d -s $c: $(group "$postfix") msg/s" "$(ratio "$detour" "$postfix") (≥ 0.5×: $meets)"
  row "$section" "Detour email channel" "$(group "$detour") msg/s" \
    "Apprise mailto://$scaled: $(group "$apprise") msg/s" "$(ratio "$detour" "$apprise")"
  row "$section" "  of which: Detour SMTP pool alone" "$(group "$pool") msg/s" \
    "smtp-source -d -s $c: $(group "$postfix") msg/s" "$(ratio "$pool" "$postfix")"
  row "$section" "Detour email channel, server without PIPELINING" "$(group "$plain") msg/s" \
    "smtp-source -d -s $c, same server: $(group "$postfix_plain") msg/s" "$(ratio "$plain" "$postfix_plain")"
done
render=$(rate render-only 0)
row "email" "  of which: Detour render + build alone" "$(group "$render") msg/s" "no sending; $(nproc) tasks" ""
