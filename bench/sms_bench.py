#!/usr/bin/env python3
"""SMS fan-out: N texts to a local Twilio stand-in, through the real daemon or through Apprise.

Usage: sms_bench.py detour DETOUR_BINARY [--texts N] [--concurrency K] [--timeout S] [--workdir DIR]
       sms_bench.py apprise --body TEXT [--texts N] [--threads T] [--timeout S] [--workdir DIR]
       sms_bench.py wrk --sample DIR [--connections 16] [--seconds 3] [--workdir DIR]

Each run starts its own stand-in (Tests/Servers/twilio_server.py --fast, on 127.0.0.1, with a fresh
request log), sends N texts to N distinct numbers (+447700900000 … +447700909999 for 10,000), stops
the stand-in and reads its log: it must hold exactly N requests, all answered 201, to N distinct To
numbers, each with exactly Twilio's form fields To, From and Body, From the sender, and one Body.

detour: a scratch detour.yaml (webhooks.allow_private_targets, as the base_url is loopback;
  delivery.concurrency.sms = K) and one policy whose channels.sms is provider twilio with base_url
  the stand-in, an account SID, the auth token from the environment (env:TWILIO_TOKEN), a From
  number and an audience CSV of N named customers with a phone column. `detour run` is started and
  given READY=1 ($NOTIFY_SOCKET); the clock starts when `detour failover start --business bench`
  runs and stops when the state file (opened read-only here, every 20 ms, as durable_bench.py does)
  holds N sms deliveries for the business and none is queued, sending or failed. A dead one fails.

apprise: Apprise has no audience and its Twilio plugin cannot be pointed anywhere but
  api.twilio.com, so each text is a form:// URL posting Twilio's request to the stand-in:
    form://AC…:TOKEN@127.0.0.1:PORT/2010-04-01/Accounts/AC…/Messages.json
        ?:message=Body&:title=&:type=&:version=&:To=%2B44…&:From=%2B447700900100
  (`:message=Body` renames the body field, an empty `:title=`, `:type=`, `:version=` drop Apprise's
  own fields, `:To=`/`:From=` add Twilio's; user:password is HTTP Basic). With --threads 0 (the
  default) every URL goes into one Apprise object and one notify() sends them all: Apprise's own
  parallel mode (its shared thread pool). With --threads T, T threads each notify through their own
  one-URL Apprise objects, one number at a time. The clock runs around notify() (building the Apprise
  object with its N URLs comes before it and is reported apart).

wrk: the request a detour run saved with --sample DIR (its form and headers, from the stand-in's
  log) POSTed by wrk -t1 -c C for S seconds (bench/wrk_post.lua) to a fresh stand-in: its ceiling.

Prints one JSON object: mode, texts, seconds, textsPerSecond, the stand-in's count (received,
distinct, body) and standInCPUMicrosecondsPerText (its CPU time over the timed part, per text), plus,
for detour, commandSeconds (the failover start round trip), concurrency and
daemonCPUMicrosecondsPerText; for apprise, addSeconds, threads and appriseCPUMicrosecondsPerText;
for wrk, requestsPerSecond, requests and answered201.
"""
import argparse, json, os, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, time
from urllib.parse import quote, urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAND_IN = os.path.join(ROOT, "Tests", "Servers", "twilio_server.py")
SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "bench-token-5f0c2a"
FROM = "+447700900100"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"

parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=["detour", "apprise", "wrk"])
parser.add_argument("detour", nargs="?", help="the detour binary (detour mode)")
parser.add_argument("--texts", type=int, default=10000)
parser.add_argument("--concurrency", type=int, default=16, help="detour: delivery.concurrency.sms")
parser.add_argument("--threads", type=int, default=0, help="apprise: 0 = one Apprise object, one notify(); T = T threads")
parser.add_argument("--body", help="apprise: the text to send (the one Detour sent)")
parser.add_argument("--sample", help="detour: write the first request Detour sent here (body.json, headers.txt); wrk: send it")
parser.add_argument("--connections", type=int, default=16, help="wrk: connections (-c)")
parser.add_argument("--seconds", type=float, default=3, help="wrk: how long it runs (-d)")
parser.add_argument("--poll", type=float, default=0.02, help="detour: seconds between reads of the state file")
parser.add_argument("--timeout", type=float, default=300, help="seconds for each step")
parser.add_argument("--workdir", help="where to put the scratch files (a temp dir, removed)")
args = parser.parse_args()
if args.mode == "detour" and not args.detour:
    parser.error("detour mode needs the detour binary")
if args.mode == "apprise" and not args.body:
    parser.error("apprise mode needs --body")
if args.mode == "wrk" and not args.sample:
    parser.error("wrk mode needs --sample (written by a detour run)")


def fail(message):
    raise SystemExit(f"sms_bench: {message}")


# SIGTERM (run.sh or the section stopping us) runs the `finally` blocks, which stop what we started.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def numbers(n):
    return [f"+4477009{i:05d}" for i in range(n)]  # +447700900000 …; E.164, 13 digits


def stop(process, grace=5):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill(); process.wait()


class StandIn:
    """twilio_server.py --fast in WORK, logging every request to WORK/twilio.json.log."""

    def __init__(self, work):
        self.config = os.path.join(work, "twilio.json")
        json.dump({"account_sid": SID, "auth_token": TOKEN}, open(self.config, "w"))
        self.process = subprocess.Popen([sys.executable, "-u", STAND_IN, self.config, "--fast",
                                         "--lifetime", str(args.timeout * 3)],
                                        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "twilio.err"), "w"), text=True)
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            stop(self.process)
            fail(f"the Twilio stand-in did not start: {line!r} {open(os.path.join(work, 'twilio.err')).read()[-1000:]}")
        self.port = int(line.split()[1])

    def cpu(self):
        return cpu_seconds(self.process.pid)

    def stop(self):
        # Each log line is written (line-buffered) before its answer goes out, so nothing is lost.
        stop(self.process, 1)

    def count(self, n, body=None):
        """Checks the stand-in's log after the run; returns {received, distinct, body}."""
        received, tos, bodies, problems = 0, set(), set(), []
        self.first = None
        expected = set(numbers(n))
        with open(self.config + ".log") as f:
            for line in f:
                r = json.loads(line)
                received += 1
                self.first = self.first or r
                form = r["form"]
                if r["status"] != 201 and len(problems) < 3:
                    problems.append(f"answered {r['status']}: {form}")
                if sorted(form) != ["Body", "From", "To"] and len(problems) < 3:
                    problems.append(f"form fields {sorted(form)}, not Body, From, To")
                if form.get("From") != FROM and len(problems) < 3:
                    problems.append(f"From {form.get('From')!r}")
                if r["path"] != PATH and len(problems) < 3:
                    problems.append(f"path {r['path']}")
                tos.add(form.get("To"))
                bodies.add(form.get("Body"))
        if problems:
            fail("the stand-in saw: " + "; ".join(problems))
        if received != n or tos != expected:
            fail(f"the stand-in received {received} requests to {len(tos)} distinct numbers "
                 f"({len(tos & expected)} of the {n} expected)")
        if len(bodies) != 1 or (body is not None and bodies != {body}):
            fail(f"the stand-in received {len(bodies)} different bodies: {list(bodies)[:3]}")
        return {"received": received, "distinct": len(tos), "body": bodies.pop()}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu():
    """This process's user plus system CPU time so far (every thread), in seconds."""
    t = os.times()
    return t.user + t.system


def write_config(work, n, port):
    hport = free_port()
    with open(os.path.join(work, "phones.csv"), "w") as f:
        f.write("name,phone\n")
        for i, number in enumerate(numbers(n)):
            f.write(f"Customer {i},{number}\n")
    os.makedirs(os.path.join(work, "policies"))
    os.makedirs(os.path.join(work, "state"))
    # The platform is probed, rarely, by a TCP connect to the daemon's own listener: healthy, and
    # nothing else to start. `controls: []`: there is no internet here.
    open(os.path.join(work, "detour.yaml"), "w").write(f"""
state: state/detour.sqlite
policies: policies
http: {{listen: 127.0.0.1:{hport}}}
control: {{socket: state/control.sock}}
webhooks: {{allow_private_targets: true}}
delivery: {{concurrency: {{email: 16, webhook: 16, sms: {args.concurrency}}}}}
controls: []
platforms:
  facebook: {{watch: false}}
  instagram: {{watch: false}}
  threads: {{watch: false}}
  messenger: {{watch: false}}
  whatsapp: {{watch: false}}
  acme:
    name: Acme Social
    interval: 10m
    timeout: 1s
    probes:
      - tcp: 127.0.0.1:{hport}
""")
    open(os.path.join(work, "policies", "bench.yaml"), "w").write(f"""
business: bench
name: Glow Studio
depends_on: [acme]
message: {{outage: "Book on 0161 496 0000."}}
channels:
  sms:
    provider: twilio
    account_sid: {SID}
    auth_token: env:TWILIO_TOKEN
    from: "{FROM}"
    base_url: http://127.0.0.1:{port}
    audience: ../phones.csv
""")
    return os.path.join(work, "detour.yaml")


def sms_counts(db):
    rows = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'sms' AND business = 'bench'").fetchone()[0]
    dead = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'sms' AND business = 'bench' AND state = 'dead'").fetchone()[0]
    return rows, dead


def wait_all_sent(state_path, n, daemon, deadline):
    """Polls until the business has n sms rows and none is queued, sending or failed."""
    db, rows = None, 0
    while True:
        if daemon.poll() is not None:
            fail(f"the daemon exited ({daemon.returncode}) during the fan-out")
        if time.monotonic() > deadline:
            fail(f"timed out waiting for {n} texts to be sent (rows, dead: {sms_counts(db) if db else 'no state file'})")
        if db is None and os.path.exists(state_path):
            db = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True, timeout=5, isolation_level=None)
        if db is not None:
            try:
                if rows < n:
                    rows = db.execute("SELECT COUNT(*) FROM deliveries WHERE channel = 'sms' AND business = 'bench'").fetchone()[0]
                if rows >= n:
                    pending = db.execute("SELECT EXISTS (SELECT 1 FROM deliveries WHERE channel = 'sms' "
                                         "AND state IN ('queued', 'sending', 'failed') AND business = 'bench')").fetchone()[0]
                    if pending == 0:
                        done = time.monotonic()
                        total, dead = sms_counts(db)
                        db.close()
                        if dead:
                            fail(f"{dead} of {total} texts are dead (see `detour deliveries --channel sms --state dead`)")
                        if total != n:
                            fail(f"the business has {total} sms deliveries, expected {n}")
                        return done
            except sqlite3.OperationalError as error:  # the schema is not there yet, or a busy moment
                if "no such" not in str(error) and "locked" not in str(error) and "busy" not in str(error):
                    raise
        time.sleep(args.poll)


def run_detour(work, n):
    bin_path = os.path.abspath(args.detour)
    stand_in = StandIn(work)
    daemon = None
    try:
        config = write_config(work, n, stand_in.port)
        env = {**os.environ, "TWILIO_TOKEN": TOKEN}
        sock_path = os.path.join(work, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(1)
        log = open(os.path.join(work, "daemon.log"), "w")
        t0 = time.monotonic()
        daemon = subprocess.Popen([bin_path, "run", "--config", config, "--log-level", "warning"],
                                  stdout=subprocess.DEVNULL, stderr=log, env={**env, "NOTIFY_SOCKET": sock_path})
        while True:
            try:
                if "READY=1" in sock.recv(4096).decode(errors="replace"):
                    break
            except socket.timeout:
                pass
            if daemon.poll() is not None or time.monotonic() > t0 + args.timeout:
                log.flush()
                fail(f"the daemon did not get READY: {open(log.name).read()[-2000:]}")
        cpu_before, stand_in_before = cpu_seconds(daemon.pid), stand_in.cpu()
        start = time.monotonic()
        r = subprocess.run([bin_path, "failover", "start", "--business", "bench", "--reason", "bench", "--config", config],
                           capture_output=True, text=True, timeout=args.timeout, env=env)
        if r.returncode != 0:
            fail(f"`detour failover start --business bench` failed: {r.stderr.strip()}")
        command = time.monotonic() - start
        done = wait_all_sent(os.path.join(work, "state", "detour.sqlite"), n, daemon, start + args.timeout)
        cpu = cpu_seconds(daemon.pid) - cpu_before
        stand_in_cpu = stand_in.cpu() - stand_in_before
        seconds = done - start
    finally:
        stop(daemon, 30)
        stand_in.stop()
    seen = stand_in.count(n)
    if args.sample:
        # The request as the stand-in saw it, for `wrk` mode (bench/wrk_post.lua reads these two files):
        # the form in the order Detour sent it, and the headers wrk does not set itself.
        os.makedirs(args.sample, exist_ok=True)
        open(os.path.join(args.sample, "body.json"), "w").write(urlencode(stand_in.first["form"]))
        open(os.path.join(args.sample, "headers.txt"), "w").write("".join(
            f"{k}: {v}\n" for k, v in stand_in.first["headers"].items() if k not in ("host", "content-length")))
    return {"mode": "detour", "texts": n, "concurrency": args.concurrency, "seconds": seconds,
            "textsPerSecond": n / seconds, "commandSeconds": command,
            "daemonCPUMicrosecondsPerText": cpu / n * 1e6, "standInCPUMicrosecondsPerText": stand_in_cpu / n * 1e6, **seen}


def run_apprise(work, n):
    import threading
    import apprise
    stand_in = StandIn(work)
    try:
        def url(number):
            return (f"form://{SID}:{TOKEN}@127.0.0.1:{stand_in.port}{PATH}"
                    f"?:message=Body&:title=&:type=&:version=&:To={quote(number, safe='')}&:From={quote(FROM, safe='')}")
        t0 = time.monotonic()
        if args.threads <= 0:
            # What the Apprise docs show: one Apprise object, every target added, one notify().
            obj = apprise.Apprise()
            for number in numbers(n):
                if not obj.add(url(number)):
                    fail(f"Apprise refused the URL {url(number)}")
            added = time.monotonic() - t0
            cpu_before, stand_in_before = process_cpu(), stand_in.cpu()
            start = time.monotonic()
            ok = obj.notify(body=args.body, title="")
            seconds = time.monotonic() - start
            cpu, stand_in_cpu = process_cpu() - cpu_before, stand_in.cpu() - stand_in_before
            if not ok:
                fail("Apprise's notify() reported a failure")
        else:
            # T threads, each sending one number at a time through its own one-URL Apprise object.
            objs = []
            for number in numbers(n):
                obj = apprise.Apprise()
                if not obj.add(url(number)):
                    fail(f"Apprise refused the URL {url(number)}")
                objs.append(obj)
            added = time.monotonic() - t0
            lock, state = threading.Lock(), {"next": 0, "failures": 0}

            def worker():
                while True:
                    with lock:
                        i = state["next"]; state["next"] += 1
                    if i >= n:
                        return
                    if not objs[i].notify(body=args.body, title=""):
                        with lock:
                            state["failures"] += 1

            threads = [threading.Thread(target=worker) for _ in range(args.threads)]
            cpu_before, stand_in_before = process_cpu(), stand_in.cpu()
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.monotonic() - start
            cpu, stand_in_cpu = process_cpu() - cpu_before, stand_in.cpu() - stand_in_before
            if state["failures"]:
                fail(f"Apprise's notify() failed for {state['failures']} texts")
    finally:
        stand_in.stop()
    seen = stand_in.count(n, args.body)
    return {"mode": "apprise", "texts": n, "threads": args.threads, "seconds": seconds,
            "textsPerSecond": n / seconds, "addSeconds": added, "appriseCPUMicrosecondsPerText": cpu / n * 1e6,
            "standInCPUMicrosecondsPerText": stand_in_cpu / n * 1e6, **seen}


def run_wrk(work):
    """wrk -t1 -c C for S seconds, POSTing the sampled request to a fresh stand-in: its ceiling."""
    stand_in = StandIn(work)
    try:
        before = stand_in.cpu()
        r = subprocess.run(["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.seconds:g}s",
                            "-s", os.path.join(ROOT, "bench", "wrk_post.lua"), f"http://127.0.0.1:{stand_in.port}{PATH}"],
                           capture_output=True, text=True, timeout=args.seconds + 60, env={**os.environ, "WRK_SAMPLE": args.sample})
        stand_in_cpu = stand_in.cpu() - before
    finally:
        stand_in.stop()
    if r.returncode != 0 or "Non-2xx" in r.stdout:
        fail(f"wrk failed or saw non-2xx answers: {r.stdout}{r.stderr}")
    rate = next((float(l.split()[1]) for l in r.stdout.splitlines() if l.startswith("Requests/sec:")), None)
    requests = next((int(l.split()[0]) for l in r.stdout.splitlines() if " requests in " in l), None)
    if rate is None or requests is None:
        fail(f"no Requests/sec in wrk's output: {r.stdout}")
    answered = sum(1 for line in open(stand_in.config + ".log") if '"status": 201' in line)
    return {"mode": "wrk", "connections": args.connections, "requestsPerSecond": rate, "requests": requests,
            "answered201": answered, "standInCPUMicrosecondsPerText": stand_in_cpu / max(answered, 1) * 1e6}


def main():
    work = tempfile.mkdtemp(prefix="detour-sms-", dir=args.workdir)
    try:
        if args.mode == "wrk":
            result = run_wrk(work)
        else:
            result = run_detour(work, args.texts) if args.mode == "detour" else run_apprise(work, args.texts)
        print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
