#!/usr/bin/env python3
"""Verifies a Detour `standard` webhook the way a receiver should (Standard Webhooks, v1 / HMAC-SHA256).

Use `verify()` in your receiver, on the raw body bytes exactly as received (not re-serialised JSON).
As a script (used by Detour's tests):
    WEBHOOK_SECRET=whsec_... verify.py WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE < body
exits 0 when the signature is valid and the timestamp is within 5 minutes, 1 otherwise.
"""
import base64, hashlib, hmac, os, sys, time

TOLERANCE_SECONDS = 5 * 60

def verify(secret: str, webhook_id: str, timestamp: str, signature_header: str, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False  # too old or from the future: a replay
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # The header may hold several space-separated signatures (during secret rotation).
    for candidate in signature_header.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False

if __name__ == "__main__":
    ok = verify(os.environ["WEBHOOK_SECRET"], sys.argv[1], sys.argv[2], sys.argv[3], sys.stdin.buffer.read())
    print("valid" if ok else "invalid")
    sys.exit(0 if ok else 1)
