"""Apprise as a reference for bench/run.sh: N personalised emails (mailto://) or N JSON webhooks (json://).

Prints one JSON object: asked, sent, failures, seconds, per_second. Apprise opens a new connection per
notification and is slow, so it stops starting new sends after --budget seconds; `sent` then says how many
went and `per_second` is the measured rate, which run.sh scales to the full count.
"""
import argparse
import json
import sys
import threading
import time
from urllib.parse import quote

import apprise

# Apprise 2.3 cannot parse a from= display name with an apostrophe ("Rosie's"), so the name loses it.
SENDER_NAME = "Rosies Bakery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["mailto", "json"])
    p.add_argument("--target", required=True, help="mailto: HOST:PORT of the SMTP server; json: http://HOST:PORT/PATH")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=1, help="threads sending at once")
    p.add_argument("--budget", type=float, default=60.0, help="seconds after which no new send starts")
    p.add_argument("--subject", default="", help="mailto: the email's subject")
    p.add_argument("--text", required=True, help="the message text Detour renders (the sample customer's name is replaced per message)")
    a = p.parse_args()
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    if a.mode == "json":
        title, _, body = text.partition("\n")  # the webhook text: a headline, then the body
    else:
        title, body = a.subject, text

    lock = threading.Lock()
    state = {"next": 0, "sent": 0, "failures": 0, "first": None}
    start = time.monotonic()

    def take():
        with lock:
            if state["next"] >= a.count or time.monotonic() - start > a.budget:
                return None
            state["next"] += 1
            return state["next"] - 1

    def done(ok, i):
        with lock:
            state["sent"] += 1
            if not ok:
                state["failures"] += 1
                state["first"] = state["first"] or f"message {i} was not accepted"

    def worker():
        reused = None
        if a.mode == "json":
            # One Apprise object per thread, reused: the natural way to post to one endpoint many times.
            reused = apprise.Apprise()
            reused.add(a.target.replace("http://", "json://", 1))
        while (i := take()) is not None:
            name = f"Customer {i:05d}"
            if a.mode == "mailto":
                # A personalised email needs its own URL (its own To:), so its own Apprise object.
                obj = apprise.Apprise()
                obj.add(f"mailto://{a.target}?from={quote('hello@rosies.example.test')}"
                        f"&name={quote(SENDER_NAME)}"
                        f"&to={quote(f'customer{i:05d}@example.test')}&format=text")
                ok = obj.notify(title=title, body=body.replace("Customer 00000", name))
            else:
                ok = reused.notify(title=title.strip(), body=body.strip())
            done(bool(ok), i)

    threads = [threading.Thread(target=worker) for _ in range(max(1, a.concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    ok = state["sent"] - state["failures"]
    json.dump({"asked": a.count, "sent": state["sent"], "failures": state["failures"], "seconds": elapsed,
               "per_second": ok / elapsed if elapsed > 0 else 0, "first_failure": state["first"]}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
