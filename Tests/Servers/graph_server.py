#!/usr/bin/env python3
"""A stand-in for Meta's Graph API (GET /vNN.N/{object-id}?fields=…) on 127.0.0.1, answering as Graph does.

Usage: graph_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log]
CONFIG.json (read on every request, so a test can change it):
  {"tokens": {"EAAB-good": "valid", "EAAB-old": "expired", "EAAB-gone": "revoked"},
   "objects": {"106540352242922": {"id": "106540352242922", "verified_name": "Rosie's Salon",
                                   "display_phone_number": "+44 7700 900100"}},
   "mode": "ok"}          # ok | down (HTTP 500, code 2) | unavailable (HTTP 503, code 133004)
                          # | rate (HTTP 400, code 4) | hang (no answer for 30 s)

Checks as Graph does (error shape from developers.facebook.com/docs/graph-api/guides/error-handling:
{"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id"}}): the path is /vMAJOR.MINOR/{id};
an access token in `Authorization: Bearer` or `access_token=`, else HTTP 400 code 2500 "An active access
token must be used to query information about the current user."; an unknown token HTTP 400 code 190
"Invalid OAuth access token - Cannot parse access token"; an expired one HTTP 400 code 190 subcode 463
"Error validating access token: Session has expired on …"; a revoked one HTTP 400 code 190 subcode 460
(the password changed). An unknown object: HTTP 400 code 100 subcode 33 "Unsupported get request.";
fields not on the object: HTTP 400 code 100 "(#100) Tried accessing nonexisting field (x)". Transient
errors carry "is_transient": true, as Graph's do. Every request is one JSON line in CONFIG.json + ".log".
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.
"""
import argparse, json, re, secrets, threading, time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from standin import serve  # shared by the stand-ins

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
args = ap.parse_args()
lock = threading.Lock()
PATH = re.compile(r"^/v[0-9]+\.[0-9]+/([A-Za-z0-9_]+)$")


def error(status, code, message, kind="OAuthException", subcode=None, transient=None):
    e = {"message": message, "type": kind, "code": code, "fbtrace_id": "A" + secrets.token_hex(10)}
    if subcode is not None:
        e["error_subcode"] = subcode
    if transient is not None:
        e["is_transient"] = transient
    return status, {"error": e}


def answer(path, query, headers, config):
    auth = headers.get("authorization", "")
    token = auth[7:] if auth.startswith("Bearer ") else query.get("access_token")
    if not token:
        return error(400, 2500, "An active access token must be used to query information about the current user.")
    state = config.get("tokens", {}).get(token)
    if state is None:
        return error(400, 190, "Invalid OAuth access token - Cannot parse access token")
    if state == "expired":
        return error(400, 190, "Error validating access token: Session has expired on Sunday, 29-Nov-26 02:00:00 PST. "
                               "The current time is Sunday, 29-Nov-26 04:00:00 PST.", subcode=463)
    if state == "revoked":
        return error(400, 190, "Error validating access token: The session has been invalidated because the user changed "
                               "their password or Facebook has changed the session for security reasons.", subcode=460)
    mode = config.get("mode", "ok")
    if mode == "down":
        return error(500, 2, "An unexpected error has occurred. Please retry your request later.", transient=True)
    if mode == "unavailable":
        return error(503, 133004, "(#133004) Server temporarily unavailable", transient=True)
    if mode == "rate":
        return error(400, 4, "(#4) Application request limit reached", transient=True)
    m = PATH.match(path)
    obj = config.get("objects", {}).get(m.group(1)) if m else None
    if obj is None:
        return error(400, 100, f"Unsupported get request. Object with ID '{path.rsplit('/', 1)[-1]}' does not exist, "
                               "cannot be loaded due to missing permissions, or does not support this operation.",
                     kind="GraphMethodException", subcode=33)
    fields = [f for f in query.get("fields", "id").split(",") if f]
    missing = [f for f in fields if f not in obj]
    if missing:
        return error(400, 100, f"(#100) Tried accessing nonexisting field ({missing[0]})")
    return 200, {f: obj[f] for f in fields}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        with open(args.config) as f:
            config = json.load(f)
        if config.get("mode") == "hang":
            time.sleep(30)
            return
        status, payload = answer(parts.path, query, headers, config)
        if not args.no_log:
            shown = dict(headers)
            if "authorization" in shown:
                shown["authorization"] = "Bearer ***"
            with lock, open(args.config + ".log", "a") as log:
                log.write(json.dumps({"method": "GET", "path": parts.path, "query": {k: v for k, v in query.items() if k != "access_token"},
                                      "headers": shown, "status": status, "at": time.time()}) + "\n")
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        if status >= 400 and payload["error"]["code"] == 190:
            self.send_header("WWW-Authenticate", 'OAuth "Facebook Platform" "invalid_token" "' + payload["error"]["message"][:60] + '"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


serve(Handler, args.port, args.lifetime, queue=64)
