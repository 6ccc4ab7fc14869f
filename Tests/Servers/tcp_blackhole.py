#!/usr/bin/env python3
"""Accepts TCP connections on 127.0.0.1 and never answers. Prints "READY <port>"."""
import socket, sys, time, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(128)
print("READY", s.getsockname()[1], flush=True)
held = []
def accept():
    while True:
        c, _ = s.accept(); held.append(c)
threading.Thread(target=accept, daemon=True).start()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 600)
