#!/usr/bin/env python3
"""Listens on 127.0.0.1 with a full accept queue, so a new TCP connect gets no answer and times out.

It listens with a backlog of 0, never accepts, and fills the queue with its own connections first;
Linux then drops further SYNs. Prints "READY <port>". Exits after argv[1] seconds (default 120).
"""
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(c)
time.sleep(0.2)
print("READY", port, flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 120)
