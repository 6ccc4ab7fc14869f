#!/usr/bin/env python3
"""Durable fan-out through the real daemon: `detour failover start` to every email recorded `sent`.

Usage: durable_bench.py DETOUR_BINARY --sink PORT --messages N [--connections 4] [--concurrency 16]
                        [--capture-port PORT --capture-dump FILE --sample FILE] [--timeout SECONDS]
                        [--workdir DIR]

Writes a scratch configuration (one policy, `bench`, whose audience is N personalised recipients,
emailed through an SMTP server entry pointing at 127.0.0.1:PORT with STARTTLS off, no rate limit,
`max_connections` = --connections, `delivery.concurrency.email` = --concurrency), starts
`detour run`, waits for READY=1 on $NOTIFY_SOCKET, runs `detour failover start --business bench`
and times from that command until all N email deliveries are `sent` in the state file.

Progress is read from the SQLite state file, opened read-only by this process (the daemon is not
asked anything: no CLI round trip, no /metrics scrape), every 20 ms, through the daemon's own
(channel, state, next_attempt_at) index: whether any email row is not yet sent (--poll to change).

With --capture-port, the configuration also has a `warm` policy with one recipient (named like the
first `bench` one) emailed through a second server entry, an `smtp-sink -D FILE` capture sink; it
is failed over first (a warm-up), and the message the daemon sent is written to --sample, in the
format `smtp-source -F` reads (header and body, LF line ends), so the references send the same bytes.

Prints one JSON object: messages, seconds, messagesPerSecond, startSeconds (spawn to READY),
commandSeconds (the `failover start` round trip), rssPeakKB (VmRSS sampled every 100 ms from
`failover start` to the last `sent`), hwmKB (VmHWM at the end: the process's peak since it
started), sampleBytes (when captured).
"""
import argparse, json, os, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time

parser = argparse.ArgumentParser()
parser.add_argument("detour")
parser.add_argument("--sink", type=int, required=True)
parser.add_argument("--messages", type=int, required=True)
parser.add_argument("--connections", type=int, default=4)
parser.add_argument("--concurrency", type=int, default=16)
parser.add_argument("--capture-port", type=int)
parser.add_argument("--capture-dump")
parser.add_argument("--sample")
parser.add_argument("--poll", type=float, default=0.02, help="seconds between reads of the state file")
parser.add_argument("--timeout", type=float, default=600, help="seconds for each step")
parser.add_argument("--workdir", help="where to put the scratch configuration (a temp dir, removed)")
args = parser.parse_args()
BIN = os.path.abspath(args.detour)


def fail(message):
    raise SystemExit(f"durable_bench: {message}")


# SIGTERM (run.sh or the section stopping us) runs the `finally` below, which stops the daemon.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def rss_kb(pid, field="VmRSS"):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def write_config(work, n):
    hport = free_port()
    width = max(5, len(str(n - 1)))
    with open(os.path.join(work, "audience.csv"), "w") as f:
        f.write("email,name\n")
        for i in range(n):
            f.write(f"customer{i:0{width}d}@example.test,Customer {i}\n")
    with open(os.path.join(work, "warm.csv"), "w") as f:
        f.write(f"email,name\ncustomer{0:0{width}d}@example.test,Customer 0\n")
    capture = ""
    if args.capture_port:
        capture = f"""
  capture: {{url: "smtp://127.0.0.1:{args.capture_port}", starttls: "off", max_connections: 1}}"""
    os.makedirs(os.path.join(work, "policies"))
    os.makedirs(os.path.join(work, "state"))
    # The platform is probed, rarely, by a TCP connect to the daemon's own listener: healthy, and
    # nothing else to start. `controls: []`: there is no internet here.
    open(os.path.join(work, "detour.yaml"), "w").write(f"""
state: state/detour.sqlite
policies: policies
http: {{listen: 127.0.0.1:{hport}}}
control: {{socket: state/control.sock}}
smtp:
  sink: {{url: "smtp://127.0.0.1:{args.sink}", starttls: "off", max_connections: {args.connections}}}{capture}
delivery: {{concurrency: {{email: {args.concurrency}, webhook: 16}}}}
controls: []
platforms:
  facebook: {{watch: false}}
  instagram: {{watch: false}}
  threads: {{watch: false}}
  messenger: {{watch: false}}
  whatsapp: {{watch: false}}
  acme:
    interval: 10m
    timeout: 1s
    probes:
      - tcp: 127.0.0.1:{hport}
""")
    policy = """
business: {id}
name: {name}
depends_on: [acme]
message: {{outage: "Acme is down, so our DMs may not reach us. Please call 0161 496 0000 or email orders@shop.example.test."}}
channels:
  email: {{smtp: {smtp}, from: "Rosie's Bakery <hello@shop.example.test>", audience: ../{audience}}}
"""
    open(os.path.join(work, "policies", "bench.yaml"), "w").write(
        policy.format(id="bench", name="Rosie's Bakery", smtp="sink", audience="audience.csv"))
    if args.capture_port:
        open(os.path.join(work, "policies", "warm.yaml"), "w").write(
            policy.format(id="warm", name="Rosie's Bakery", smtp="capture", audience="warm.csv"))
    return os.path.join(work, "detour.yaml")


def email_counts(db, business):
    """(rows, not yet sent, dead) for the business's emails."""
    rows = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND business = ?", (business,)).fetchone()[0]
    pending = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND business = ? "
                         "AND state IN ('queued', 'sending', 'failed')", (business,)).fetchone()[0]
    dead = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND business = ? AND state = 'dead'",
                      (business,)).fetchone()[0]
    return rows, pending, dead


def wait_all_sent(state_path, business, n, daemon, deadline):
    """Polls until the business has n email rows and none is queued, sending or failed.

    The first query counts every row of the business (to see that all n were queued); after that,
    it only asks whether a row not yet sent is left, through the (channel, state, …) index."""
    db = None
    rows = 0
    while True:
        if daemon.poll() is not None:
            fail(f"the daemon exited ({daemon.returncode}) during the fan-out")
        if time.monotonic() > deadline:
            detail = email_counts(db, business) if db else "no state file"
            fail(f"timed out waiting for {n} emails of {business} to be sent (rows, not sent, dead: {detail})")
        if db is None and os.path.exists(state_path):
            db = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True, timeout=5, isolation_level=None)
        if db is not None:
            try:
                if rows < n:
                    rows = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND business = ?",
                                      (business,)).fetchone()[0]
                if rows >= n:
                    # Whether any is left, not how many: it stops at the first row found, so polling
                    # costs next to nothing beside the daemon (a COUNT took a quarter of a core).
                    pending = db.execute("SELECT EXISTS (SELECT 1 FROM deliveries "
                                         "WHERE channel = 'email' AND state IN ('queued', 'sending', 'failed') "
                                         "AND business = ?)", (business,)).fetchone()[0]
                    if pending == 0:
                        done = time.monotonic()
                        total, _, dead = email_counts(db, business)
                        db.close()
                        if dead:
                            fail(f"{dead} of {total} emails of {business} are dead (see `detour deliveries --state dead`)")
                        if total != n:
                            fail(f"{business} has {total} email deliveries, expected {n}")
                        return done
            except sqlite3.OperationalError as error:  # the schema is not there yet, or a busy moment
                if "no such" not in str(error) and "locked" not in str(error) and "busy" not in str(error):
                    raise
        time.sleep(args.poll)


def extract_sample(dump, out, deadline):
    """The first message in an `smtp-sink -D` dump, without the headers smtp-sink adds before it
    (X-Client-Addr … X-Rcpt-Args, then a three-line Received:) and the empty line after it."""
    while True:
        try:
            text = open(dump, encoding="utf-8", errors="surrogateescape").read()
        except FileNotFoundError:
            text = ""
        if text.count("\n\n") >= 2 or time.monotonic() > deadline:  # header/body gap, then the end mark
            break
        time.sleep(0.05)
    lines = text.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(("X-Client-", "X-Helo-Args:", "X-Mail-Args:", "X-Rcpt-Args:")):
        i += 1
    if i >= len(lines) or not lines[i].startswith("Received:") or "(smtp-sink)" not in "\n".join(lines[i:i + 3]):
        fail(f"no message in the capture {dump}: {text[:300]!r}")
    i += 1
    while i < len(lines) and lines[i][:1] in (" ", "\t"):
        i += 1
    # A message ends with the empty line smtp-sink writes after it; the next one starts with X-Client-Addr.
    end = next((j for j in range(i, len(lines)) if lines[j].startswith("X-Client-Addr:")), len(lines))
    body = lines[i:end]
    while body and body[-1] == "":
        body.pop()
    message = "\n".join(body) + "\n"
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(message)
    # On the wire every line ends with CRLF.
    return len(message.encode("utf-8", "surrogateescape")) + len(body)


def cpu_seconds(pid):
    """User plus system CPU time the process has used so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    n = args.messages
    work = tempfile.mkdtemp(prefix="detour-durable-", dir=args.workdir)
    daemon = None
    try:
        config = write_config(work, n)
        state = os.path.join(work, "state", "detour.sqlite")
        sock_path = os.path.join(work, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(1)
        log = open(os.path.join(work, "daemon.log"), "w")
        t0 = time.monotonic()
        daemon = subprocess.Popen([BIN, "run", "--config", config, "--log-level", "warning"],
                                  stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "NOTIFY_SOCKET": sock_path})
        deadline = t0 + args.timeout
        while True:
            try:
                if "READY=1" in sock.recv(4096).decode(errors="replace"):
                    break
            except socket.timeout:
                pass
            if daemon.poll() is not None or time.monotonic() > deadline:
                log.flush()
                fail(f"the daemon did not get READY: {open(log.name).read()[-2000:]}")
        ready = time.monotonic() - t0

        def failover(business):
            r = subprocess.run([BIN, "failover", "start", "--business", business, "--reason", "bench", "--config", config],
                               capture_output=True, text=True, timeout=args.timeout)
            if r.returncode != 0:
                fail(f"`detour failover start --business {business}` failed: {r.stderr.strip()}")

        sample_bytes = None
        if args.capture_port:
            failover("warm")
            wait_all_sent(state, "warm", 1, daemon, time.monotonic() + args.timeout)
            if args.sample:
                sample_bytes = extract_sample(args.capture_dump, args.sample, time.monotonic() + 10)

        peak = [0]
        stop = threading.Event()

        def sample_rss():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(daemon.pid))
                stop.wait(0.1)

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        cpu_before = cpu_seconds(daemon.pid)
        start = time.monotonic()
        failover("bench")
        command = time.monotonic() - start
        done = wait_all_sent(state, "bench", n, daemon, start + args.timeout)
        cpu = cpu_seconds(daemon.pid) - cpu_before
        stop.set(); sampler.join()
        peak[0] = max(peak[0], rss_kb(daemon.pid))
        seconds = done - start
        result = {"messages": n, "connections": args.connections, "concurrency": args.concurrency,
                  "seconds": seconds, "messagesPerSecond": n / seconds, "startSeconds": ready,
                  "commandSeconds": command, "rssPeakKB": peak[0], "hwmKB": rss_kb(daemon.pid, "VmHWM"), "pollSeconds": args.poll,
                  "daemonCPUMicrosecondsPerMessage": cpu / n * 1e6}
        if sample_bytes is not None:
            result["sampleBytes"] = sample_bytes
        print(json.dumps(result), flush=True)
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill(); daemon.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
