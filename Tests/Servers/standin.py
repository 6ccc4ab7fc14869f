"""What every API stand-in in this folder shares: reading a request body (Content-Length or chunked),
reading a multipart form, and serving on 127.0.0.1 until SIGTERM or the end of its lifetime."""
import signal
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import ThreadingHTTPServer


def read_body(handler):
    """The request body of `handler` (a BaseHTTPRequestHandler), sized or chunked."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        data = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return data
            data += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def multipart_fields(raw, content_type):
    """The named fields of a multipart/form-data body, as text."""
    fields = {}
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return fields


def serve(handler, port, lifetime, queue=256):
    """Serves `handler` on 127.0.0.1:`port` (0: any free port), prints "READY <port>", and stops on
    SIGTERM or after `lifetime` seconds."""
    ThreadingHTTPServer.request_queue_size = queue
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=server.shutdown).start())
    timer = threading.Timer(lifetime, server.shutdown)
    timer.daemon = True  # so SIGTERM ends the process at once
    timer.start()
    print("READY", server.server_address[1], flush=True)
    server.serve_forever()
