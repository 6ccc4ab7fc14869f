#!/usr/bin/env bash
# Durable fan-out: the real daemon (`detour run`) failing one business over to email for
# BENCH_DURABLE_MESSAGES (20,000) personalised recipients, timed from `detour failover start` until
# every delivery is recorded `sent` in its state file, into smtp-sink over BENCH_DURABLE_CONNECTIONS
# (4) connections; beside smtp-source (the same message bytes, the same sessions, nothing stored)
# and a throwaway Postfix instance (its own durable queue: smtp-source into it, its smtp client out
# to the same sink over 4 connections, timed until its queue is empty). Then the daemon's peak RSS
# during a BENCH_DURABLE_BIG (100,000; 0 skips it) recipient fan-out. See bench/durable_bench.py.
# bench-needs-product: detour
set -euo pipefail
source "$BENCH_DIR/lib.sh"

sink=/usr/sbin/smtp-sink source=/usr/sbin/smtp-source
[ -x "$sink" ] && [ -x "$source" ] || die "smtp-sink/smtp-source not found in /usr/sbin (Debian package postfix)"
[ -x /usr/sbin/postfix ] && [ -x /usr/lib/postfix/sbin/master ] || die "postfix not found (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || die "the Postfix reference runs a second Postfix instance, which needs root"
detour=$BENCH_BIN_DIR/detour
[ -x "$detour" ] || die "no binary at $detour"

n=$BENCH_DURABLE_MESSAGES c=$BENCH_DURABLE_CONNECTIONS k=$BENCH_DURABLE_CONCURRENCY
limit=$BENCH_DURABLE_TIMEOUT

# Postfix's daemons and smtp-sink (as nobody) need to reach their files: a world-searchable
# scratch dir of our own, removed at the end.
work=$(mktemp -d "${TMPDIR:-/tmp}/detour-durable.XXXXXX")
chmod 755 "$work"
pf=$work/postfix
sink_pid="" capture_pid="" postfix_started=no

# Everything this section started, whatever way it ends: the sinks, the Postfix instance (stop,
# then any of its processes still running: they all work in its queue directory), the scratch dir.
cleanup() {
  if [ "$postfix_started" = yes ]; then
    timeout 30 postfix -c "$pf/etc" stop >/dev/null 2>&1 || true
    for p in /proc/[0-9]*; do
      cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
      [[ $cwd == "$pf/"* ]] && kill "${p#/proc/}" 2>/dev/null || true
    done
  fi
  [ -z "$sink_pid" ] || stop_bg "$sink_pid"
  [ -z "$capture_pid" ] || stop_bg "$capture_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
start_bg durable-sink "$sink" -u nobody "127.0.0.1:$port" 1000
sink_pid=$BG_PID
wait_port "$port" 10 || die "smtp-sink did not start on 127.0.0.1:$port: $(cat "$BENCH_TMP/durable-sink.log")"
# A second sink that keeps what it gets (-D): the daemon's warm-up email lands here, and is the
# message smtp-source sends.
capture_port=$(free_port)
mkdir -m 777 "$work/capture"
start_bg durable-capture "$sink" -u nobody -D "$work/capture/dump" "127.0.0.1:$capture_port" 10
capture_pid=$BG_PID
wait_port "$capture_port" 10 || die "smtp-sink -D did not start on 127.0.0.1:$capture_port: $(cat "$BENCH_TMP/durable-capture.log")"
log "durable: smtp-sink on 127.0.0.1:$port, capture sink on 127.0.0.1:$capture_port"

# --- The Postfix instance --------------------------------------------------------------------------

pf_port=$(free_port)
mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
chown postfix "$pf/data"
cat >"$pf/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localdomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$port
disable_dns_lookups = yes
smtp_host_lookup = native
default_destination_concurrency_limit = $c
smtp_destination_concurrency_limit = $c
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
CONF
# master.cf as Debian ships it, with smtpd on our port instead of 25 and nothing chrooted (a
# chroot would need copies of /etc files in the queue directory).
awk -v listen="127.0.0.1:$pf_port" '/^[a-z0-9]/ && NF >= 8 { if ($1 == "smtp" && $2 == "inet") $1 = listen; $5 = "n" } { print }' \
  /etc/postfix/master.cf >"$pf/etc/master.cf"
timeout 60 postfix -c "$pf/etc" check >&2 || die "postfix check failed for $pf/etc: $(cat "$pf/maillog" 2>/dev/null)"
postfix_started=yes
timeout 60 postfix -c "$pf/etc" start >&2 || die "postfix did not start: $(tail -5 "$pf/maillog" 2>/dev/null)"
wait_port "$pf_port" 10 || die "Postfix does not listen on 127.0.0.1:$pf_port: $(tail -5 "$pf/maillog" 2>/dev/null)"
log "durable: Postfix $(postconf -c "$pf/etc" -h mail_version) on 127.0.0.1:$pf_port, relaying to the sink over $c connection(s)"

# --- The runs --------------------------------------------------------------------------------------

sample=$work/message.eml
# detour_run MESSAGES OUT [capture]: one daemon, one fan-out; its JSON in OUT.
detour_run() {
  local extra=()
  [ "${3:-}" = capture ] && extra=(--capture-port "$capture_port" --capture-dump "$work/capture/dump" --sample "$sample")
  "$BENCH_PY" "$BENCH_DIR/durable_bench.py" "$detour" --sink "$port" --messages "$1" --connections "$c" \
    --concurrency "$k" --timeout "$limit" --workdir "$work" "${extra[@]}" >"$2" \
    || die "the daemon's fan-out of $1 emails failed (see the lines above)"
}

# source_run PORT [-d]: smtp-source sends the sample n times over c sessions.
source_run() {
  timeout "$limit" "$source" ${2:-} -s "$c" -m "$n" -F "$sample" -f hello@shop.example.test -t customer@example.test \
    "127.0.0.1:$1" >&2 || die "smtp-source (${2:-} -s $c -m $n) against 127.0.0.1:$1 failed or took over ${limit}s"
}

queued() { find "$pf/spool/incoming" "$pf/spool/active" "$pf/spool/deferred" "$pf/spool/maildrop" "$pf/spool/hold" -type f | wc -l; }
sent_logged() { grep -c ' status=sent ' "$pf/maillog" || true; }

# postfix_run: messages/s from smtp-source's start into Postfix until its queue is empty again.
postfix_run() {
  local before t0 t1 end
  before=$(sent_logged)
  t0=$(now)
  source_run "$pf_port" -d
  end=$(( $(date +%s) + limit ))
  while [ "$(queued)" -gt 0 ]; do
    [ "$(date +%s)" -lt "$end" ] || die "Postfix still has $(queued) messages queued after ${limit}s"
    sleep 0.05
  done
  t1=$(now)
  [ -z "$(ls -A "$pf/spool/deferred")" ] || die "Postfix deferred some messages: $(grep -m3 'status=deferred' "$pf/maillog")"
  # Every message logged as sent: postlogd may write the last lines a moment later.
  for _ in $(seq 50); do [ $(( $(sent_logged) - before )) -ge "$n" ] && break; sleep 0.1; done
  [ $(( $(sent_logged) - before )) -eq "$n" ] || die "Postfix logged $(( $(sent_logged) - before )) of $n messages sent"
  calc "$n / ($t1 - $t0)"
}

# Detour, smtp-source and Postfix take turns, BENCH_REPEAT times; each figure is the best run.
detour_runs=() source_runs=() postfix_runs=()
for r in $(seq "$BENCH_REPEAT"); do
  log "durable: Detour daemon, $(group "$n") emails, $c connection(s), $k in flight (run $r of $BENCH_REPEAT)"
  out=$work/detour-$r.json
  if [ "$r" = 1 ]; then detour_run "$n" "$out" capture; else detour_run "$n" "$out"; fi
  [ -s "$sample" ] || die "no message captured from the daemon's warm-up email"
  detour_runs+=("$(json_get "$out" 'd["messagesPerSecond"]')")
  log "durable: Detour $(group "${detour_runs[-1]}") msg/s ($(json_get "$out" '"%.2f" % d["seconds"]') s; failover start took $(json_get "$out" '"%.0f" % (d["commandSeconds"] * 1000)') ms)"

  log "durable: smtp-source -d -s $c -m $n, the daemon's message, into the sink (run $r of $BENCH_REPEAT)"
  t0=$(now); source_run "$port" -d; t1=$(now)
  source_runs+=("$(calc "$n / ($t1 - $t0)")")

  log "durable: smtp-source -d -s $c -m $n into Postfix, until its queue is empty (run $r of $BENCH_REPEAT)"
  postfix_runs+=("$(postfix_run)")
  log "durable: smtp-source $(group "${source_runs[-1]}") msg/s, Postfix $(group "${postfix_runs[-1]}") msg/s"
done
detour_rate=$(max_of "${detour_runs[@]}")
source_rate=$(max_of "${source_runs[@]}")
postfix_rate=$(max_of "${postfix_runs[@]}")
size=$(json_get "$work/detour-1.json" 'd["sampleBytes"]')
best=$(for f in "$work"/detour-*.json; do "$BENCH_PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["messagesPerSecond"], sys.argv[1])' "$f"; done | sort -g | tail -1 | cut -d' ' -f2)
command_ms=$(json_get "$best" '"%.0f" % (d["commandSeconds"] * 1000)')

section="durable, $(group "$n") emails"
row "$section" "Detour daemon: failover start → all recorded sent ($c conn, $k in flight)" "$(group "$detour_rate") msg/s" \
  "smtp-source -d -s $c, same $size-byte message, no queue: $(group "$source_rate") msg/s" \
  "$(ratio "$detour_rate" "$source_rate") (≥ 0.5×: $(at_least "$detour_rate" "$source_rate" 0.5))"
row "$section" "Detour daemon: failover start → all recorded sent ($c conn, $k in flight)" "$(group "$detour_rate") msg/s" \
  "Postfix queue (smtp-source -d -s $c in, $c conn out): $(group "$postfix_rate") msg/s" \
  "$(ratio "$detour_rate" "$postfix_rate") (ahead: $(at_least "$detour_rate" "$postfix_rate" 1.0001))"
row "$section" "  of which: \`detour failover start\` round trip (queues every email)" "$command_ms ms" "" ""

mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }
if [ "$BENCH_DURABLE_BIG" -gt 0 ]; then
  log "durable: Detour daemon, $(group "$BENCH_DURABLE_BIG") emails, peak RSS"
  out=$work/detour-big.json
  detour_run "$BENCH_DURABLE_BIG" "$out"
  # VmHWM is the kernel's own peak; its counters lag a little, so a sample can top it.
  sampled=$(json_get "$out" 'd["rssPeakKB"]')
  hwm=$(max_of "$(json_get "$out" 'd["hwmKB"]')" "$sampled")
  big_rate=$(json_get "$out" 'd["messagesPerSecond"]')
  section="durable, $(group "$BENCH_DURABLE_BIG") emails"
  row "$section" "Detour daemon: peak RSS (VmHWM; VmRSS every 100 ms during the fan-out: $(mb "$sampled"))" \
    "$(mb "$hwm")" "goal ≤ 100 MB" "meets: $(at_least 102400 "$hwm" 1)"
  row "$section" "Detour daemon: failover start → all recorded sent" "$(group "$big_rate") msg/s" "" ""
fi
