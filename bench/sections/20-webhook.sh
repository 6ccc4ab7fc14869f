#!/usr/bin/env bash
# Webhook delivery: N signed standard-format deliveries to a local nginx that answers 204, through
# Detour's webhook channel, wrk (the same request bytes, the same connection count, for a few
# seconds) and Apprise json:// (fewer when slow, scaled).
# bench-needs-product: detour-bench
set -euo pipefail
source "$BENCH_DIR/lib.sh"

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || die "nginx not found (Debian package nginx)"
command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

port=$(free_port)
dir=$BENCH_TMP/nginx
mkdir -p "$dir"
# Run as the current user: as root, workers would otherwise become nobody.
user_line=""; [ "$(id -u)" -eq 0 ] && user_line="user root;"
cat >"$dir/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location /hook { return 204; }
  }
}
CONF
start_bg nginx "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
nginx_pid=$BG_PID
trap 'stop_bg "$nginx_pid"' EXIT
wait_port "$port" 10 || die "nginx did not start on 127.0.0.1:$port: $(cat "$BENCH_TMP/nginx.log" "$dir/error.log" 2>/dev/null)"
url=http://127.0.0.1:$port/hook
log "webhook: nginx on $url"

sample=$BENCH_TMP/webhook-sample
"$DETOUR_BENCH" webhook --sample "$sample"
n=$BENCH_DELIVERIES c=$BENCH_CONCURRENCY
section="webhook, $c in flight"

# Detour and wrk take turns, BENCH_REPEAT times; each figure is the best of its runs.
detour_runs=() wrk_runs=()
for r in $(seq "$BENCH_REPEAT"); do
  log "webhook: Detour, $n deliveries, $c in flight (run $r of $BENCH_REPEAT)"
  out=$BENCH_TMP/webhook-detour-$r.json
  "$DETOUR_BENCH" webhook --deliveries "$n" --concurrency "$c" --url "$url" --json >"$out" \
    || die "detour-bench webhook failed (see the lines above)"
  detour_runs+=("$(json_get "$out" 'd[0]["deliveriesPerSecond"]')")

  log "webhook: wrk, $c connections, one thread, ${BENCH_WRK_SECONDS}s (run $r of $BENCH_REPEAT)"
  wrk_out=$BENCH_TMP/wrk-$r.txt
  WRK_SAMPLE=$sample wrk -t 1 -c "$c" -d "${BENCH_WRK_SECONDS}s" -s "$BENCH_DIR/wrk_post.lua" "$url" >"$wrk_out" \
    || die "wrk failed: $(cat "$wrk_out")"
  ! grep -q "Non-2xx" "$wrk_out" || die "wrk saw non-2xx answers: $(cat "$wrk_out")"
  wrk_rate=$(awk '/^Requests\/sec:/ { print $2 }' "$wrk_out")
  [ -n "$wrk_rate" ] || die "no Requests/sec in wrk's output: $(cat "$wrk_out")"
  wrk_runs+=("$wrk_rate")
done
detour=$(max_of "${detour_runs[@]}")
wrk_rate=$(max_of "${wrk_runs[@]}")

log "webhook: Apprise json://, up to $n posts or ${BENCH_APPRISE_BUDGET}s, $c threads"
out=$BENCH_TMP/webhook-apprise.json
"$BENCH_PY" "$BENCH_DIR/apprise_send.py" json --target "$url" --count "$n" --concurrency "$c" \
  --budget "$BENCH_APPRISE_BUDGET" --text "$sample/text.txt" >"$out" || die "Apprise json:// failed"
[ "$(json_get "$out" 'd["failures"]')" = 0 ] || die "Apprise json:// had failures: $(cat "$out")"
apprise=$(json_get "$out" 'd["per_second"]')
sent=$(json_get "$out" 'd["sent"]')
scaled=""; [ "$sent" -lt "$n" ] && scaled=" ($(group "$sent") sent, scaled)"

row "$section" "Detour webhook channel" "$(group "$detour") deliveries/s" \
  "wrk -t1 -c$c, same request: $(group "$wrk_rate") req/s" "$(ratio "$detour" "$wrk_rate")"
row "$section" "Detour webhook channel" "$(group "$detour") deliveries/s" \
  "Apprise json://$scaled: $(group "$apprise") req/s" "$(ratio "$detour" "$apprise")"
