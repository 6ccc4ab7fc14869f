#!/usr/bin/env python3
"""A stand-in for Twilio's Messages API on 127.0.0.1, checking requests as Twilio does.

Usage: twilio_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log] [--fast]
CONFIG.json (read on every request, so a test can change it):
  {"account_sid": "AC…", "auth_token": "…",          # HTTP Basic credentials it accepts
   "invalid": ["+15005550001"],                       # numbers answered with error 21211
   "stopped": ["+447700900666"],                      # recipients who replied STOP: error 21610
   "rate_limited": 2,                                 # the next N requests get 429 / 20429
   "retry_after": "3"}                                # sent with those 429s when present

POST /2010-04-01/Accounts/{AccountSid}/Messages.json with a form (To, From or MessagingServiceSid,
Body): 201 and a Message resource (sid "SM" + 32 hex, status "queued", num_segments as a string).
Errors are Twilio's JSON: {"code", "message", "more_info", "status"} (401 adds "detail").
Checks, in Twilio's order: Basic auth (20003), the account in the path (20404), To present (21604),
To in E.164 (21211), From or MessagingServiceSid (21603), Body present (21602), Body at most 1,600
characters (21617), then the lists above. Every request is appended as one JSON line to
CONFIG.json + ".log" (method, path, headers, form fields, the answer's status and sid).
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.
--fast (for bench/sms_bench.py; the same checks and answers): CONFIG.json is read once, at start;
the log stays open (a line written as each request is answered); and TCP_NODELAY is set, so an
answer's body does not wait on the client's delayed ACK of its headers (about 40 ms per request
on a kept-alive connection).
"""
import argparse, base64, json, re, secrets, threading, time
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs
from standin import serve  # shared by the stand-ins

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
ap.add_argument("--fast", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
PATH = re.compile(r"^/2010-04-01/Accounts/([A-Za-z0-9]+)/Messages\.json$")
state = {"rate_limited_served": 0}


def load():
    with open(args.config) as f:
        return json.load(f)


if args.fast:
    _config = load()
    load = lambda: _config  # noqa: E731


def error(status, code, message, **extra):
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    body.update(extra)
    return status, body, {}


def answer(method, path, headers, form, config):
    auth = headers.get("authorization", "")
    expected = "Basic " + base64.b64encode(f"{config['account_sid']}:{config['auth_token']}".encode()).decode()
    if auth != expected:
        return error(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect.")
    m = PATH.match(path)
    if method != "POST" or not m or m.group(1) != config["account_sid"]:
        return error(404, 20404, f"The requested resource {path} was not found")
    to, body = form.get("To"), form.get("Body")
    if not to:
        return error(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to) or to in config.get("invalid", []):
        return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return error(400, 21602, "Message body is required.")
    if len(body) > 1600:
        return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    if to in config.get("stopped", []):
        return error(400, 21610, "Attempt to send to unsubscribed recipient")
    with lock:
        limited = state["rate_limited_served"] < config.get("rate_limited", 0)
        if limited:
            state["rate_limited_served"] += 1
    if limited:
        status, payload, _ = error(429, 20429, "Too Many Requests")
        return status, payload, ({"Retry-After": str(config["retry_after"])} if "retry_after" in config else {})
    gsm = all(ord(c) < 128 for c in body)
    segments = 1 if len(body) <= (160 if gsm else 70) else -(-len(body) // (153 if gsm else 67))
    return 201, {
        "sid": "SM" + secrets.token_hex(16), "status": "queued" if form.get("From") else "accepted",
        "to": to, "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": body, "num_segments": str(segments), "num_media": "0", "direction": "outbound-api",
        "account_sid": config["account_sid"], "api_version": "2010-04-01", "error_code": None, "error_message": None,
        "uri": f"/2010-04-01/Accounts/{config['account_sid']}/Messages/SM.json",
    }, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go in two writes: without this the body waits for the delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        # Twilio reads only a form; any other body leaves every field missing.
        is_form = headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()} if is_form else {}
        status, payload, extra = answer(self.command, self.path.split("?")[0], headers, form, load())
        if not args.no_log:
            with lock, (nullcontext(fast_log) if fast_log else open(args.config + ".log", "a")) as log:
                log.write(json.dumps({"method": self.command, "path": self.path, "headers": headers, "form": form,
                                      "status": status, "sid": payload.get("sid"), "at": time.time()}) + "\n")
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


fast_log = open(args.config + ".log", "a", buffering=1) if args.fast and not args.no_log else None
serve(Handler, args.port, args.lifetime)
