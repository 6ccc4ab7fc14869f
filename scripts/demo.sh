#!/usr/bin/env bash
# The README's first command: builds the self-contained `detour` binary and shows a failover end to
# end on this machine, with no internet: local stand-ins for Instagram, an SMTP server and a webhook
# receiver. Instagram goes down, the customers are emailed, the banner goes up, the webhooks land;
# Instagram comes back, the all-clear goes out and the banner comes down. Then the salon: WhatsApp
# goes down, its customers get a text (a Twilio stand-in) and its Mastodon account a post; WhatsApp
# comes back, the all-clear is a text and a reply to that post. About three minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n\033[1m[%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*"; }
say() { printf '  %s\n' "$*"; }

step "building detour (release, static Swift runtime; the first build takes a few minutes)"
swift build -c release --product detour --static-swift-stdlib 2>&1 | grep -E "error|warning: unre|Compiling detour|Build complete" || true
bin="$PWD/.build/release/detour"
[ -x "$bin" ] || { echo "build failed: run 'swift build -c release --product detour' to see why" >&2; exit 1; }
py=".venv/bin/python"
cfg=examples/demo/detour.yaml
run=demo-run
for port in 2525 8470 8471 8472 8473 8474; do
  if "$py" -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(0 if s.connect_ex(('127.0.0.1',$port))==0 else 1)"; then
    echo "port $port on 127.0.0.1 is in use; the demo needs 2525 and 8470-8474 free" >&2; exit 1
  fi
done
rm -rf "$run"; mkdir -p "$run/state" "$run/smtp" "$run/site"

pids=()
cleanup() {
  # The stand-ins are killed outright (they would linger until their lifetime ends); the daemon was stopped by then.
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

platforms() { # instagram-status whatsapp-status
  printf '{"/instagram": {"status": %s, "body": "%s"}, "/whatsapp": {"status": %s}, "/control": {"status": 204}}' \
    "$1" "$([ "$1" = 200 ] && echo '<html>Instagram</html>' || echo 'Sorry, something went wrong')" "$2" > "$run/platform.json.tmp"
  mv "$run/platform.json.tmp" "$run/platform.json"
}
platforms 200 200
echo '{"*": {"status": 200, "body": "ok"}}' > "$run/receiver.json"
# The salon's providers: a Twilio and a Mastodon stand-in that check requests as the real APIs do.
export DEMO_TWILIO_TOKEN=demo-twilio-token DEMO_MASTODON_TOKEN=demo-mastodon-token
echo '{"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "demo-twilio-token"}' > "$run/twilio.json"
echo '{"access_token": "demo-mastodon-token", "account": {"username": "glowstudio", "id": "109000000000000001", "display_name": "Glow Hair Studio"}}' > "$run/mastodon.json"
touch "$run/glow-stop.txt"
step "starting the stand-ins: Instagram, WhatsApp and a control target on :8472, a webhook receiver on :8471, an SMTP server on :2525, Twilio on :8473, Mastodon on :8474"
"$py" -u Tests/Servers/http_server.py "$run/platform.json" --port 8472 --lifetime 1800 > "$run/platform.out" 2>&1 & pids+=($!)
"$py" -u Tests/Servers/http_server.py "$run/receiver.json" --port 8471 --lifetime 1800 > "$run/receiver.out" 2>&1 & pids+=($!)
"$py" -u Tests/Servers/smtp_server.py --dir "$run/smtp" --port 2525 --lifetime 1800 > "$run/smtp.out" 2>&1 & pids+=($!)
"$py" -u Tests/Servers/twilio_server.py "$run/twilio.json" --port 8473 --lifetime 1800 > "$run/twilio.out" 2>&1 & pids+=($!)
"$py" -u Tests/Servers/mastodon_server.py "$run/mastodon.json" --port 8474 --lifetime 1800 > "$run/mastodon.out" 2>&1 & pids+=($!)
for f in platform receiver smtp twilio mastodon; do
  for _ in $(seq 100); do grep -q READY "$run/$f.out" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$run/$f.out" || { echo "the $f stand-in did not start:" >&2; cat "$run/$f.out" >&2; exit 1; }
done

step "detour policy check --config $cfg"
"$bin" policy check --config "$cfg"

step "detour run --config $cfg   (log: $run/daemon.log)"
"$bin" run --config "$cfg" > "$run/daemon.log" 2>&1 & daemon=$!; pids+=($daemon)
for _ in $(seq 200); do grep -q "detour is ready" "$run/daemon.log" && break; sleep 0.05; done
grep -q "detour is ready" "$run/daemon.log" || { echo "the daemon did not start:" >&2; cat "$run/daemon.log" >&2; exit 1; }
say "$(grep -o 'startup.ms=[0-9]*' "$run/daemon.log" | head -1 | sed 's/startup.ms=/ready in /')ms"
sleep 3
"$bin" status --config "$cfg"

fetch() { "$py" -c "import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())" "$1" 2>/dev/null || true; }
count_emails() { [ -f "$run/smtp/messages.jsonl" ] && wc -l < "$run/smtp/messages.jsonl" || echo 0; }
count_hooks() { [ -f "$run/receiver.json.log" ] && wc -l < "$run/receiver.json.log" || echo 0; }
wait_for() { # seconds, description, command...
  local t=$1 what=$2; shift 2
  for _ in $(seq $((t * 10))); do "$@" && { say "✓ $what"; return 0; }; sleep 0.1; done
  echo "✗ $what did not happen within ${t}s; the daemon's log:" >&2; tail -40 "$run/daemon.log" >&2; exit 1
}
banner_active() { fetch http://127.0.0.1:8470/banner/rosies-bakery.json | grep -q '"active" *: *true'; }
banner_inactive() { fetch http://127.0.0.1:8470/banner/rosies-bakery.json | grep -q '"active" *: *false'; }
emails_at_least() { [ "$(count_emails)" -ge "$1" ]; }
hooks_at_least() { [ "$(count_hooks)" -ge "$1" ]; }
audience=$(($(wc -l < examples/audiences/rosies-bakery.csv) - 1))

step "Instagram goes down: the stand-in answers 503 (the daemon needs 3 failing rounds, then the 5s grace)"
platforms 503 200
wait_for 60 "the banner is live at http://127.0.0.1:8470/banner/rosies-bakery.json" banner_active
wait_for 30 "$audience customers emailed" emails_at_least "$audience"
wait_for 30 "the staff Slack and the signed shop-system webhook received it" hooks_at_least 2

step "what a customer received (the first email, as the SMTP server got it)"
"$py" - "$run/smtp/messages.jsonl" <<'PY'
import base64, email, email.policy, json, sys
first = json.loads(open(sys.argv[1]).readline())
m = email.message_from_bytes(base64.b64decode(first["data_b64"]), policy=email.policy.default)
for h in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe"):
    print(f"  {h}: {m[h]}")
print()
for line in m.get_body(("plain",)).get_content().strip().splitlines()[:12]:
    print("  | " + line)
PY
step "what the shop system received (a Standard Webhooks request, checked with channels/webhook/verify.py)"
"$py" - "$run/receiver.json.log" <<'PY'
import json, os, subprocess, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != "/hooks/rosies": continue
    h = r["headers"]
    ok = subprocess.run([sys.executable, "channels/webhook/verify.py", h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"]],
                        input=r["body"].encode(), env={**os.environ, "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                        capture_output=True).returncode == 0
    body = json.loads(r["body"])
    print(f"  POST /hooks/rosies  webhook-id: {h['webhook-id']}  signature: {'valid' if ok else 'INVALID'}")
    print(f"  type: {body.get('type')}  platforms: {body.get('data', {}).get('platforms')}")
    break
PY
step "the banner the website shows (GET /banner/rosies-bakery.json)"
fetch http://127.0.0.1:8470/banner/rosies-bakery.json | head -20 | sed 's/^/  /'

step "detour status"
"$bin" status --config "$cfg"
step "detour deliveries --business rosies-bakery"
"$bin" deliveries --business rosies-bakery --config "$cfg"

step "Instagram is back: the stand-in answers 200 again (2 healthy rounds, then the 5s recovery grace)"
platforms 200 200
wait_for 60 "the banner is down" banner_inactive
wait_for 30 "the all-clear reached the $audience customers" emails_at_least $((audience * 2))
wait_for 30 "the webhooks got the resolved event" hooks_at_least 4

count_texts() { [ -f "$run/twilio.json.log" ] && grep -c '"status": 201' "$run/twilio.json.log" || echo 0; }
count_posts() { [ -f "$run/mastodon.json.log" ] && grep -c '"status": 200' "$run/mastodon.json.log" || echo 0; }
texts_at_least() { [ "$(count_texts)" -ge "$1" ]; }
posts_at_least() { [ "$(count_posts)" -ge "$1" ]; }
phones=$(tail -n +2 examples/audiences/glow-salon-phones.csv | grep -vc ',yes$' || true)

step "WhatsApp goes down: Glow Hair Studio's customers are booked through it, and it has their phone numbers"
platforms 200 503
wait_for 60 "$phones customers texted (one opted out of texts)" texts_at_least "$phones"
wait_for 30 "the salon's Mastodon account posted the notice" posts_at_least 1

step "what a customer's phone received, and what the salon's followers see (as the stand-ins got them)"
"$py" - "$run/twilio.json.log" "$run/mastodon.json.log" <<'PY'
import json, sys
text = next(json.loads(l) for l in open(sys.argv[1]) if '"status": 201' in l)
print(f"  SMS to {text['form']['To']} from {text['form']['From']}:")
print("  | " + text["form"]["Body"])
post = next(json.loads(l) for l in open(sys.argv[2]) if '"status": 200' in l)
print(f"\n  Mastodon post (visibility {post['body'].get('visibility')}, Idempotency-Key {post['headers'].get('idempotency-key')}):")
for line in post["body"]["status"].splitlines():
    print("  | " + line)
PY
step "detour deliveries --business glow-salon"
"$bin" deliveries --business glow-salon --config "$cfg"

step "WhatsApp is back: the all-clear is a text to those told and a reply to the Mastodon post"
platforms 200 200
wait_for 60 "the all-clear texts went out" texts_at_least $((phones * 2))
wait_for 30 "the Mastodon reply was posted" posts_at_least 2
"$py" - "$run/mastodon.json.log" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if '"status": 200' in l]
print(f"  reply to status {posts[1]['body'].get('in_reply_to_id')} (the notice was {posts[0].get('id')}):")
print("  | " + posts[1]["body"]["status"].splitlines()[0])
PY

step "detour incidents"
"$bin" incidents --config "$cfg"

step "stopping the daemon (SIGTERM)"
kill -TERM "$daemon"
for _ in $(seq 300); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
wait "$daemon" && say "exit status 0"
echo
echo "Done. Emails: $run/smtp/messages.jsonl · webhooks: $run/receiver.json.log · banner files: $run/site/rosies-bakery/ · texts: $run/twilio.json.log · posts: $run/mastodon.json.log · log: $run/daemon.log"
echo "Next: bash scripts/test.sh runs the whole test suite."
