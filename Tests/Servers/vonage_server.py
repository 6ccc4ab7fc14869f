#!/usr/bin/env python3
"""A stand-in for Vonage's (Nexmo's) SMS API, POST /sms/json, on 127.0.0.1, checking requests as Vonage does.

Usage: vonage_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log]
CONFIG.json (read on every request, so a test can change it):
  {"api_key": "abcd1234", "api_secret": "abcdef0123456789",   # the credentials it accepts
   "barred": ["447700900666"],                        # recipients answered with status 7
   "throttled": 2,                                    # the next N requests get status 1 (Throttled)
   "throttle_wait": 30,                               # the number in "please wait [ N ]" (Vonage's is milliseconds)
   "server_errors": 0,                                # the next N requests get status 5 (Internal Error)
   "balance": "10.00000000", "price": "0.03330000",   # account balance and price per SMS part; at 0: status 9
   "network": "23410",                                # the network code it reports
   "max_text_chars": 3200,                            # longer texts get status 12 (see below)
   "client_ref_max": 100}                             # longest client-ref accepted (status 3 beyond it)

POST (or GET) /sms/json with a urlencoded form, a query string or JSON; credentials as api_key / api_secret
parameters or HTTP Basic. The answer is ALWAYS HTTP 200 with {"message-count": "N", "messages": [...]}: on
success one entry per SMS part (a concatenated text is several parts, each with its own message-id), each
{"to", "message-id", "status": "0", "remaining-balance", "message-price", "network", "client-ref"?}; on
failure one entry {"status": CODE, "error-text": TEXT}. Checks, in this order:
  api_key present ("2" "Missing api_key"), api_secret present ("2" "Missing api_secret"), both right
  ("4" "Bad Credentials"), from ("2" "Missing from param"), to ("2" "Missing to param"), to all digits
  ("3" "to address is not numeric": Vonage wants E.164 WITHOUT the '+'), to 7-15 digits ("3" "Invalid to
  address"), type text or unicode ("3" "Invalid type param"), text present ("2" "Missing text param"),
  text length ("12" "Message too long"), client-ref length ("3" "Invalid client-ref param"), then server_errors
  ("5" "Internal Error"), throttled ("1" "Throughput Rate Exceeded - please wait [ 30 ] and retry"), barred
  ("7" "Number barred"), balance ("9" "Quota Exceeded - rejected").
Encoding as Vonage bills it: type=text is GSM-7 (160 per single SMS, 153 per part, extension-table characters
count 2); type=unicode is UCS-2 (70, 67 per part, counted in UTF-16 units). A type=text message holding
characters outside GSM-7 is accepted, as Vonage does, but arrives garbled; the log marks it "garbled": true.
Every request is appended as one JSON line to CONFIG.json + ".log" (method, path, headers lowercased, the
parsed parameters with api_secret masked as "***", HTTP status, the first message-id as "id", all of them as
"ids", the Vonage "vonage_status", "parts", "encoding" and "garbled").
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.

Where the shapes come from: developer.vonage.com (messaging/sms/guides/troubleshooting-sms: the response shape
and the status table 0-10...; api-errors/sms; concatenation-and-encoding; api/sms: parameters from, to, text,
type, client-ref, ttl, ...); Nexmo/api-specification definitions/sms.yml (to: 7-15 digits, pattern \\d{7,15};
client-ref "up to 40 characters" in that older spec, 100 in the current docs); Vonage's SDK tests for exact
error texts ("Missing from param", "to address is not numeric", "Bad Credentials", "Unroutable message -
rejected", "Invalid Signature"); Vonage SDK issues for "Throughput Rate Exceeded - please wait [ 978 ] and
retry" (the number there is milliseconds, under 1,000) and the alternative "Exceeded maximum MT throughput[ MAX
[ 30 ] ...]". Vonage's support pages for 160/153 and 70/67 characters per part.
Not confirmed: the exact error-text of statuses 7, 9, 12 and of the missing api_key/api_secret/text and bad
type/client-ref cases (Vonage documents only the status meanings, so key off "status", never "error-text");
Vonage publishes no maximum text length (a third-party page reports a hard cap of 3,600 characters), so
max_text_chars and status 12 for it are this stand-in's choice; the real API may tolerate a leading '+'.
"""
import argparse, base64, json, re, secrets, threading, time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from standin import read_body, serve  # shared by the stand-ins

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
state = {"throttled_served": 0, "server_errors_served": 0, "spent": Decimal(0)}
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
                "¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = set("^{}\\[~]|€\f")


def load():
    with open(args.config) as f:
        return json.load(f)


def failure(status, text):
    return {"message-count": "1", "messages": [{"status": status, "error-text": text}]}, {"vonage_status": status}


def parts_for(text, unicode):
    """(number of SMS parts, garbled) as Vonage splits and encodes the text."""
    if unicode:
        units = len(text.encode("utf-16-le")) // 2
        return (1 if units <= 70 else -(-units // 67)), False
    garbled = any(c not in GSM_BASIC and c not in GSM_EXTENDED for c in text)
    septets = sum(2 if c in GSM_EXTENDED else 1 for c in text)
    return (1 if septets <= 160 else -(-septets // 153)), garbled


def answer(params, headers, config):
    key, secret = params.get("api_key"), params.get("api_secret")
    auth = headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            key, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except ValueError:
            key = secret = ""
    if not key:
        return failure("2", "Missing api_key")
    if not secret and not params.get("sig"):
        return failure("2", "Missing api_secret")
    if key != config["api_key"] or secret != config["api_secret"]:
        return failure("4", "Bad Credentials")
    sender, to, text = params.get("from"), params.get("to"), params.get("text")
    if not sender:
        return failure("2", "Missing from param")
    if not to:
        return failure("2", "Missing to param")
    if not re.fullmatch(r"\d+", to):
        return failure("3", "to address is not numeric")
    if not 7 <= len(to) <= 15:
        return failure("3", "Invalid to address")
    kind = params.get("type") or "text"
    if kind not in ("text", "unicode"):
        return failure("3", "Invalid type param")
    if not text:
        return failure("2", "Missing text param")
    if len(text) > int(config.get("max_text_chars", 3200)):
        return failure("12", "Message too long")
    ref = params.get("client-ref")
    if ref is not None and len(ref) > int(config.get("client_ref_max", 100)):
        return failure("3", "Invalid client-ref param")
    with lock:
        failing = state["server_errors_served"] < config.get("server_errors", 0)
        if failing:
            state["server_errors_served"] += 1
        throttled = not failing and state["throttled_served"] < config.get("throttled", 0)
        if throttled:
            state["throttled_served"] += 1
    if failing:
        return failure("5", "Internal Error")
    if throttled:
        return failure("1", f"Throughput Rate Exceeded - please wait [ {config.get('throttle_wait', 30)} ] and retry")
    if to in [str(n).lstrip("+") for n in config.get("barred", [])]:
        return failure("7", "Number barred")
    parts, garbled = parts_for(text, kind == "unicode")
    price = Decimal(str(config.get("price", "0.03330000")))
    balance = Decimal(str(config.get("balance", "10.00000000")))
    with lock:
        if balance - state["spent"] < price * parts:
            return failure("9", "Quota Exceeded - rejected")
        messages = []
        for _ in range(parts):
            state["spent"] += price
            message = {"to": to, "message-id": secrets.token_hex(8).upper(), "status": "0",
                       "remaining-balance": f"{balance - state['spent']:.8f}", "message-price": f"{price:.8f}",
                       "network": str(config.get("network", "23410"))}
            if ref is not None:
                message["client-ref"] = ref
            messages.append(message)
    ids = [m["message-id"] for m in messages]
    return ({"message-count": str(parts), "messages": messages},
            {"vonage_status": "0", "id": ids[0], "ids": ids, "parts": parts, "encoding": kind, "garbled": garbled})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the body must not wait on the client's delayed ACK of the headers

    def log_message(self, *a):
        pass

    def handle_any(self):
        raw = read_body(self)
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json" and raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = {}
            if isinstance(body, dict):
                params.update({k: (v if isinstance(v, str) else json.dumps(v)) for k, v in body.items()})
        elif raw:
            params.update({k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()})
        if url.path.rstrip("/") == "/sms/json" and self.command in ("GET", "POST"):
            status, (payload, info) = 200, answer(params, headers, load())
        else:
            status, payload, info = 404, {"type": "https://developer.nexmo.com/api-errors#not-found",
                                          "title": "Not Found", "detail": "Resource not found"}, {}
        if not args.no_log:
            logged = {k: ("***" if k == "api_secret" else v) for k, v in params.items()}
            entry = {"method": self.command, "path": self.path, "headers": headers, "body": logged,
                     "status": status, "id": info.get("id"), "at": time.time()}
            for k in ("ids", "vonage_status", "parts", "encoding", "garbled"):
                if k in info:
                    entry[k] = info[k]
            with lock, open(args.config + ".log", "a") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


serve(Handler, args.port, args.lifetime)
