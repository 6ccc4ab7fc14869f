#!/usr/bin/env python3
"""A scriptable HTTP server on 127.0.0.1 for Detour's tests.

Usage: http_server.py ROUTES.json [--port N]
ROUTES.json maps a path to a reply, or to a list of replies used in turn (the last repeats):
  {"/ok": {"status": 200, "body": "hello"},
   "/slow": {"status": 200, "delay": 3},
   "/flaky": [{"status": 503}, {"status": 200}],
   "/hdr": {"status": 429, "headers": {"Retry-After": "7"}}}
Every request is appended as one JSON line to ROUTES.json + ".log" (method, path, headers, body).
Prints "READY <port>" on stdout once listening. Stops on SIGTERM, or by itself after --lifetime seconds.
"""
import json, sys, time, threading, argparse, signal, base64
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

ap = argparse.ArgumentParser()
ap.add_argument("routes")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true", help="do not record requests (benchmarks)")
args = ap.parse_args()

lock = threading.Lock()
counters = {}

def load_routes():
    with open(args.routes) as f:
        return json.load(f)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        with lock:
            if not args.no_log:
              with open(args.routes + ".log", "a") as log:
                log.write(json.dumps({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body.decode("utf-8", "replace"),
                                      "at": time.time()}) + "\n")
            routes = ROUTES if args.no_log else load_routes()
            spec = routes.get(path) or routes.get("*") or {"status": 404, "body": "no route"}
            if isinstance(spec, list):
                n = counters.get(path, 0)
                counters[path] = n + 1
                spec = spec[min(n, len(spec) - 1)]
        if spec.get("hang"):
            time.sleep(spec["hang"])
            return
        if spec.get("delay"):
            time.sleep(spec["delay"])
        payload = spec.get("body", "")
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        data = base64.b64decode(spec["body_b64"]) if "body_b64" in spec else payload.encode()
        self.send_response(spec.get("status", 200))
        for k, v in spec.get("headers", {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = do_DELETE = handle_any

ThreadingHTTPServer.request_queue_size = 256
ROUTES = load_routes()
server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
threading.Timer(args.lifetime, server.shutdown).start()
print("READY", server.server_address[1], flush=True)
server.serve_forever()
