#!/usr/bin/env python3
"""One cluster drill: three real `detour run` nodes on one PostgreSQL database, narrated, judged.

Usage: drills.py NAME --bin PATH/TO/detour [--keep]
       drills.py --list
Run it through run.sh, which finds the binary and the Python that has aiosmtpd, and starts one
throwaway PostgreSQL server for all the drills.

PostgreSQL: with $DETOUR_TEST_POSTGRES_URL (postgres://USER@HOST:PORT/postgres?sslmode=disable, a
role that may CREATE DATABASE) each drill makes a database of its own there and drops it at the
end; without it, the drill starts a throwaway server (scripts/postgres-test-server.sh) and stops it.
The database-restart drill always starts a server of its own, since it restarts it.

Every node has its own temp dir, config, log, HTTP port, control socket, SMTP stand-in and
platform stand-in (so one node's view can differ from the others'); the policy and the audience
are shared. Everything listens on 127.0.0.1 on ports picked at run time. Prints "PASS NAME" or
"FAIL NAME: why" as its last line and exits 0 or 1. Every process it started is stopped on the
way out, also on Ctrl-C and when the drill's time limit passes.
"""
import argparse, base64, glob, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SERVERS = os.path.join(REPO, "Tests", "Servers")
PG_SCRIPT = os.path.join(REPO, "scripts", "postgres-test-server.sh")
NODE_NAMES = ["node-a", "node-b", "node-c"]
LEADER_LEASE = 3.0                  # seconds: node.leader_lease of every node
sys.path.insert(0, os.path.join(REPO, "examples", "drills"))
from shop import BUILTINS_OFF, FAST_PROBES, OUTAGE_TEXT, RECOVERY_TEXT, audience_csv, policy_yaml, webhook_types, write_routes  # noqa: E402

T0 = time.monotonic()
_print_lock = threading.Lock()


def now():
    return time.monotonic() - T0


def say(text):
    with _print_lock:
        print(f"[+{now():5.1f}s] {text}", flush=True)


def step(text):
    say(f"== {text}")


class DrillFailed(Exception):
    pass


def expect(ok, what):
    """Fails the drill with `what` unless `ok`; says it with a tick otherwise."""
    if not ok:
        raise DrillFailed(what)
    say(f"✓ {what}")


def wait(seconds, cond, every=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return cond()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql_binary():
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[::-1]), None)
    if not found:
        raise DrillFailed("no psql (apt-get install postgresql-client)")
    return found


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a database of the drill's own, on the given server or on a throwaway one
# ---------------------------------------------------------------------------------------------

class Database:
    def __init__(self, label, dedicated=False, keep=False):
        self.label, self.dedicated, self.keep = label, dedicated, keep
        self.server_dir = None      # set when this drill started the server itself
        self.created = False

    def open(self):
        label, dedicated = self.label, self.dedicated
        self.psql = psql_binary()
        base = os.environ.get("DETOUR_TEST_POSTGRES_URL", "").strip()
        if dedicated or not base:
            # The script makes DIR itself (owned by the server's user when run as root), so DIR must
            # not exist yet and its parent must be one every user can enter: /tmp.
            probe = tempfile.mkdtemp(prefix=f"detour-cluster-pg-{label}-", dir="/tmp")
            os.rmdir(probe)
            self.server_dir = probe
            r = subprocess.run(["bash", PG_SCRIPT, "start", probe], capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                raise DrillFailed(f"cannot start a throwaway PostgreSQL server: {r.stderr.strip() or r.stdout.strip()}")
            base = r.stdout.strip().splitlines()[-1]
            say(f"started a throwaway PostgreSQL server of the drill's own: {base} (in {probe})")
        self.admin_url = base
        self.name = f"drill_{label.replace('-', '_')}_{os.getpid()}"
        self.run_sql(f"CREATE DATABASE {self.name}", url=base)
        parts = urllib.parse.urlsplit(base)
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + self.name, parts.query, ""))
        self.created = True
        say(f"database for the cluster: {self.url}")

    def run_sql(self, sql, url=None, timeout=15):
        r = subprocess.run([self.psql, url or self.url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {sql[:60]}: {r.stderr.strip()}")
        return r.stdout.strip()

    def query(self, sql, default=None):
        """One query; `default` when the server does not answer (it may be restarting)."""
        try:
            return self.run_sql(sql, timeout=10)
        except (RuntimeError, subprocess.TimeoutExpired):
            return default

    def leader(self):
        """(node, term) of the leader lease, or (None, 0)."""
        row = self.query("SELECT node || ' ' || term FROM leader", "") or ""
        parts = row.split()
        return (parts[0], int(parts[1])) if len(parts) == 2 else (None, 0)

    def views(self):
        """node → (state, controls_pass) for platform acme, as the store holds them."""
        rows = self.query("SELECT node || '|' || state || '|' || controls_pass FROM platform_views "
                          "WHERE platform = 'acme' ORDER BY node", "") or ""
        out = {}
        for line in rows.splitlines():
            node, state, passes = line.split("|")
            out[node] = (state, passes in ("t", "true"))
        return out

    def server(self, action):
        """pause / resume / restart the drill's own server."""
        r = subprocess.run(["bash", PG_SCRIPT, action, self.server_dir], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise DrillFailed(f"postgres-test-server.sh {action}: {r.stderr.strip()}")

    def cleanup(self):
        if self.server_dir:
            if self.keep:
                print(f"(kept the PostgreSQL server in {self.server_dir}: stop it with "
                      f"bash scripts/postgres-test-server.sh stop {self.server_dir})", flush=True)
            else:
                subprocess.run(["bash", PG_SCRIPT, "stop", self.server_dir], capture_output=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        elif self.created and not self.keep:
            try:
                self.run_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", url=self.admin_url, timeout=30)
            except Exception as e:  # the drill's verdict stands; say what was left behind
                print(f"(could not drop the database {self.name}: {e})", flush=True)
        elif self.keep:
            print(f"(kept the database {self.url})", flush=True)


# ---------------------------------------------------------------------------------------------
# What an SMTP stand-in received, read as it grows
# ---------------------------------------------------------------------------------------------

class Mailbox:
    """The messages.jsonl of one smtp_server.py, parsed once per line as the file grows."""
    MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)

    def __init__(self, directory):
        self.path = os.path.join(directory, "messages.jsonl")
        self.offset = 0
        self.rest = b""
        self.messages = []          # (recipient, message id, kind: "outage" | "all-clear" | "other", when)
        self.counts = {}            # kind → messages
        self.recipients = {}        # kind → set of recipients
        self.lock = threading.Lock()

    def read(self):
        with self.lock:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except FileNotFoundError:
                return self.messages
            self.offset += len(data)
            data = self.rest + data
            lines = data.split(b"\n")
            self.rest = lines.pop()             # a line not yet complete
            at = now()
            for line in lines:
                try:
                    o = json.loads(line)
                    raw = base64.b64decode(o["data_b64"])
                except (ValueError, KeyError):
                    continue
                head = raw.split(b"\r\n\r\n", 1)[0]
                m = self.MESSAGE_ID.search(head)
                kind = "outage" if b"Acme is down" in raw else "all-clear" if b"Acme is back" in raw else "other"
                for rcpt in o.get("rcpt_tos", []):
                    self.messages.append((rcpt, m.group(1).decode() if m else None, kind, at))
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    self.recipients.setdefault(kind, set()).add(rcpt)
            return self.messages


# ---------------------------------------------------------------------------------------------
# One node: its stand-ins, its config and its daemon
# ---------------------------------------------------------------------------------------------

class Node:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.dir = os.path.join(cluster.dir, name)
        os.makedirs(os.path.join(self.dir, "state"))
        self.http_port = free_port()
        self.config_path = os.path.join(self.dir, "detour.yaml")
        self.routes_path = os.path.join(self.dir, "platform.json")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.smtp_dir = os.path.join(self.dir, "smtp")
        self.mailbox = Mailbox(self.smtp_dir)
        self.proc = None
        self.frozen = False
        self.killed = False         # the drill ended it on purpose

    # ----- the platform stand-in: what this node's probes see -----
    def set_routes(self, routes):
        write_routes(self.routes_path, routes)

    def platform_up(self):
        self.set_routes({"/health": {"status": 200, "body": "<html>Acme</html>"}, "/control": {"status": 204}})

    def platform_down(self):
        """Acme answers 503 to this node; its control target still answers."""
        self.set_routes({"/health": {"status": 503, "body": "Service Unavailable"}, "/control": {"status": 204}})

    def network_down(self):
        """Everything this node probes fails, its control target too: its own network is down."""
        self.set_routes({"/health": {"status": 503}, "/control": {"status": 503}})

    def start_stand_ins(self):
        self.platform_up()
        _, self.platform_port = self.cluster.start_server(
            [os.path.join(SERVERS, "http_server.py"), self.routes_path], os.path.join(self.dir, "platform.out"))
        self.base = f"http://127.0.0.1:{self.platform_port}"
        _, self.smtp_port = self.cluster.start_server(
            [os.path.join(SERVERS, "smtp_server.py"), "--dir", self.smtp_dir], os.path.join(self.dir, "smtp.out"))

    def write_config(self, email_concurrency, smtp_timeout="4s", lease="10s"):
        c = self.cluster
        text = f"""# written by examples/cluster/drills.py for the '{c.name}' drill: node {self.name}
state: {c.db.url}
policies: ../policies
node:
  name: {self.name}
  leader_lease: {int(LEADER_LEASE)}s
cluster:
  quorum: majority
http:
  listen: 127.0.0.1:{self.http_port}
control:
  socket: state/control.sock
smtp:
  local:
    url: smtp://127.0.0.1:{self.smtp_port}
    starttls: off
    max_connections: 4
    timeout: {smtp_timeout}
webhooks:
  allow_private_targets: true
  timeout: 3s
delivery:
  initial_backoff: 200ms
  max_backoff: 2s
  max_attempts: 10
  lease: {lease}                       # longer than the SMTP and webhook timeouts
  concurrency:
    email: {email_concurrency}
    webhook: 4
{FAST_PROBES}controls:
  - http: {self.base}/control
    expect_status: [204]
platforms:
{BUILTINS_OFF}  acme:
    name: Acme Social
    probes:
      - http: {self.base}/health
        expect_status: [200]
"""
        with open(self.config_path, "w") as f:
            f.write(text)

    # ----- the daemon -----
    def start(self):
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "DETOUR_CONFIG")}
        self.proc = subprocess.Popen([self.cluster.bin, "run", "--config", self.config_path, "--log-level", "debug"],
                                     stdout=open(self.log_path, "a"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def wait_ready(self, seconds=45):
        if not wait(seconds, lambda: "detour is ready" in self.log() or self.proc.poll() is not None, every=0.05) \
                or "detour is ready" not in self.log():
            if self.proc.poll() is not None:
                wait(15, lambda: "Backtrace took" in self.log() or "Fatal error" not in self.log())
                raise DrillFailed(f"{self.name} did not start: {self.died()}\n{self.log()[-2500:]}")
            raise DrillFailed(f"{self.name} did not become ready within {seconds}s; its log ends:\n{self.log()[-2500:]}")

    def died(self):
        """How the process ended: its exit, and for a crash the fatal error and the first frames in Detour's sources."""
        code = self.proc.returncode if self.proc else None
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        lines = self.log().splitlines()
        fatal = next((l.strip() for l in lines if "Fatal error" in l), None)
        frames = []
        for l in lines:
            m = re.search(r"\d+ \[\w+\][\w\[\] ]*0x[0-9a-f]+ (.+?)(?: \+ \d+)? in detour at " + re.escape(REPO) + r"/(Sources/\S+)", l)
            if m and len(frames) < 2:
                frames.append(f"{m.group(1)} at {m.group(2)}")
        if not fatal:
            return how
        return f"crashed ({how}): {fatal}" + (f", in {'; called from '.join(frames)}" if frames else "")

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running:
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.killed = True
            self.proc.send_signal(sig)
            if sig == signal.SIGSTOP:
                self.frozen = True
            elif sig == signal.SIGCONT:
                self.frozen = False

    def stop(self):
        """SIGTERM (a thawed process first), then SIGKILL if it does not exit within 15 s."""
        if not self.running:
            return
        self.killed = True
        if self.frozen:
            self.signal(signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, *needles, exclude_debug=True):
        return [l for l in self.log().splitlines()
                if any(n in l for n in needles) and not (exclude_debug and " debug " in l)]

    def cli(self, *args, timeout=60):
        return subprocess.run([self.cluster.bin] + list(args) + ["--config", self.config_path], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def status_text(self):
        try:
            r = self.cli("status", timeout=15)
            return r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            return ""

    def http_get(self, path):
        """(status, body) of GET path on this node's listener, or (None, error)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=2) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except Exception as e:
            return None, str(e)

    def banner_active(self):
        status, body = self.http_get("/banner/shop.json")
        if status != 200:
            return None
        try:
            return json.loads(body).get("active") is True
        except ValueError:
            return None

    def emails(self):
        return self.mailbox.read()


# ---------------------------------------------------------------------------------------------
# The cluster: a database, three nodes, a webhook receiver, a narrator
# ---------------------------------------------------------------------------------------------

class Cluster:
    def __init__(self, name, detour_bin, keep=False):
        self.name = name
        self.bin = detour_bin
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix=f"detour-cluster-{name}-")
        self.procs = []             # stand-ins
        self.nodes = []
        self.db = None
        self.recipients = 0
        self.watching = False
        self.watcher = None
        self.ticks = 0
        self.leaders = []           # (t, node, term) as the narrator saw them
        self.progress_every = None  # seconds between progress lines during a fan-out

    # ----- stand-ins -----
    def start_server(self, args, out, lifetime=600):
        cmd = [sys.executable, "-u"] + args + ["--lifetime", str(lifetime)]
        p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ready = re.search(r"READY (\d+)\n", open(out).read())
            if ready:
                return p, int(ready.group(1))
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise DrillFailed(f"stand-in {os.path.basename(args[0])} did not start: {open(out).read()[-2000:]}")

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def setup(self, recipients=3, email_concurrency=4, dedicated_database=False, start=True):
        """The database, the stand-ins, the shared policy and audience, three nodes' configs; starts them."""
        self.recipients = recipients
        self.db = Database(self.name, dedicated=dedicated_database, keep=self.keep)
        self.db.open()
        receiver_routes = os.path.join(self.dir, "receiver.json")
        with open(receiver_routes, "w") as f:
            json.dump({"/hook": {"status": 204}}, f)
        self.receiver_log = receiver_routes + ".log"
        _, self.receiver_port = self.start_server([os.path.join(SERVERS, "http_server.py"), receiver_routes],
                                                  os.path.join(self.dir, "receiver.out"))
        self.write_policy()
        for name in NODE_NAMES:
            n = Node(self, name)
            n.start_stand_ins()
            n.write_config(email_concurrency)
            self.nodes.append(n)
        say("stand-ins up: " + ", ".join(f"{n.name}: Acme + control on :{n.platform_port}, SMTP on :{n.smtp_port}"
                                         for n in self.nodes) + f"; the CRM webhook receiver on :{self.receiver_port}")
        if start:
            self.start_nodes()

    def write_policy(self):
        os.makedirs(os.path.join(self.dir, "policies"))
        with open(os.path.join(self.dir, "policies", "shop.yaml"), "w") as f:
            f.write(policy_yaml(self.receiver_port))
        with open(os.path.join(self.dir, "audience.csv"), "w") as f:
            f.write(audience_csv(self.recipients))

    def start_nodes(self):
        # Started together, as a fleet coming up; each makes or finds the schema in turn.
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            n.wait_ready()
        say("three `detour run` nodes are ready: " + ", ".join(f"{n.name} (pid {n.proc.pid}, :{n.http_port})"
                                                               for n in self.nodes))
        if not wait(30, lambda: self.db.leader()[0] is not None):
            raise DrillFailed("no node took the leader lease within 30 s")
        leader, term = self.db.leader()
        say(f"{leader} leads (term {term})")

    # ----- what the cluster did -----
    def leader(self):
        name, term = self.db.leader()
        return (self.node(name) if name else None), term

    def emails(self):
        """Every (recipient, Message-ID, kind, seen at) any SMTP stand-in accepted, with the node that sent it."""
        return [(n.name,) + m for n in self.nodes for m in n.emails()]

    def count(self, kind):
        for n in self.nodes:
            n.mailbox.read()
        return sum(n.mailbox.counts.get(kind, 0) for n in self.nodes)

    def recipients_of(self, kind):
        for n in self.nodes:
            n.mailbox.read()
        return set().union(*(n.mailbox.recipients.get(kind, set()) for n in self.nodes))

    def webhook_types(self):
        return webhook_types(self.receiver_log)

    def banners(self):
        return {n.name: n.banner_active() for n in self.nodes if n.running and not n.frozen}

    def unexpected_exits(self):
        return [n for n in self.nodes if n.proc is not None and n.proc.poll() is not None and not n.killed]

    def incidents(self):
        return self.db.query("SELECT count(*) FROM incidents", "?")

    # ----- the narrator -----
    def watch(self):
        """Narrates, from a background thread, every change a user could see."""
        self.watching = True

        def loop():
            last_leader, last_views, last_counts, last_hooks, last_banners = None, {}, {}, 0, {}
            last_progress = now()
            reported = set()
            while self.watching:
                for n in self.unexpected_exits():
                    if n.name not in reported:
                        reported.add(n.name)
                        say(f"!! {n.name} exited on its own: {n.died()}")
                leader = self.db.leader()
                if leader[0] and leader != last_leader:
                    if last_leader is not None:
                        say(f"{leader[0]} now leads (term {leader[1]})")
                    self.leaders.append((now(), leader[0], leader[1]))
                    last_leader = leader
                views = self.db.views() or last_views
                for node, (state, passes) in sorted(views.items()):
                    if last_views.get(node) != (state, passes):
                        say(f"{node}'s own view of acme: {state}" + ("" if passes else " (its controls FAIL: it abstains)"))
                last_views = views
                for kind in ("outage", "all-clear"):
                    c = self.count(kind)
                    big = self.recipients > 50
                    if c != last_counts.get(kind, 0) and (not big or c >= self.recipients or not self.progress_every):
                        say(f"{kind} emails accepted by the SMTP stand-ins: {c} (of {self.recipients} customers)")
                        last_counts[kind] = c
                if self.progress_every and now() - last_progress >= self.progress_every:
                    last_progress = now()
                    per_node = ", ".join(f"{n.name} {len(n.emails())}" for n in self.nodes)
                    say(f"fan-out: {self.count('outage')} of {self.recipients} outage emails accepted ({per_node})")
                hooks = self.webhook_types()
                for t in hooks[last_hooks:]:
                    say(f"webhook received by the CRM: {t}")
                last_hooks = len(hooks)
                banners = self.banners()
                changed = {k: v for k, v in banners.items() if v is not None and last_banners.get(k) != v}
                if changed:
                    say("banner served (GET /banner/shop.json): " + ", ".join(
                        f"{k} {'ACTIVE' if v else 'not active'}" for k, v in sorted(changed.items())))
                    last_banners.update(changed)
                self.ticks += 1
                time.sleep(0.3)

        self.watcher = threading.Thread(target=loop, daemon=True)
        self.watcher.start()

    def sync(self):
        """Lets the narrator catch up (two more rounds), so the story reads in order."""
        if self.watcher and self.watcher.is_alive():
            target = self.ticks + 2
            wait(5, lambda: self.ticks >= target, every=0.05)

    def check(self, seconds, cond, good, bad):
        """Waits for cond; says `good` or fails with `bad` (a string, or a function giving one)."""
        if not wait(seconds, cond):
            raise DrillFailed(bad() if callable(bad) else bad)
        self.sync()
        say(f"✓ {good}")

    def trouble(self, since=0):
        """Says, per node, each distinct error or warning its log holds (from line `since` on), with a count."""
        for n in self.nodes:
            seen = {}
            for line in n.log().splitlines()[since:]:
                m = re.match(r"\S+ (error|warning) detour: (?:(.*?) )?\[\w+\] (.*)$", line)
                if m:
                    key = (m.group(1), m.group(3))
                    seen.setdefault(key, [0, m.group(2) or ""])[0] += 1
            for (level, message), (count, metadata) in seen.items():
                detail = re.search(r"error=(.*)", metadata)
                say(f"  {n.name}'s log: {count} × {level} \"{message}\"" +
                    (f" (e.g. {detail.group(1)[:160]})" if detail else ""))

    def logs(self, chars=1500):
        return "\n".join(f"--- {n.name}'s log, last lines (not debug):\n" +
                         "\n".join(l for l in n.log().splitlines() if " debug " not in l)[-chars:] for n in self.nodes)

    def cleanup(self):
        self.watching = False
        if self.watcher:
            self.watcher.join(5)
        for n in self.nodes:
            if n.running and n.frozen:
                n.signal(signal.SIGCONT)
            if n.running:
                n.killed = True
                n.proc.terminate()
        for n in self.nodes:
            n.stop()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
        if self.db:
            self.db.cleanup()
        if self.keep:
            print(f"(kept {self.dir})", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Checks the drills share
# ---------------------------------------------------------------------------------------------

def wait_operational(c, seconds=20):
    c.check(seconds, lambda: sorted(c.db.views().items()) == [(n, ("operational", True)) for n in NODE_NAMES],
            "every node sees acme operational; customers hear nothing",
            lambda: f"acme was not operational for every node within {seconds}s: {c.db.views()}")


def expect_failover(c, seconds=30):
    n = c.recipients
    c.check(seconds, lambda: len(c.recipients_of("outage")) >= n, f"all {n} customers got the outage email",
            lambda: f"the outage email reached {len(c.recipients_of('outage'))} of {n} customers within {seconds}s\n{c.logs()}")
    c.check(10, lambda: "detour.incident.opened" in c.webhook_types(), "the CRM webhook got detour.incident.opened",
            "no detour.incident.opened webhook")
    c.check(10, lambda: all(v is True for v in c.banners().values()), "every running node serves the banner",
            lambda: f"not every node serves the banner: {c.banners()}")


def expect_all_clear(c, seconds=30):
    n = c.recipients
    c.check(seconds, lambda: len(c.recipients_of("all-clear")) >= n and all(v is False for v in c.banners().values())
            and "detour.incident.resolved" in c.webhook_types(),
            f"all-clear: {n} emails, detour.incident.resolved, every node's banner down",
            lambda: f"no complete all-clear within {seconds}s (all-clear emails {c.count('all-clear')}, "
                    f"banners {c.banners()}, webhooks {c.webhook_types()})\n{c.logs()}")


def expect_once_each(c, kinds=("outage",)):
    everyone = sorted(f"customer{i}@example.test" for i in range(1, c.recipients + 1))
    for kind in kinds:
        got = sorted(m[1] for m in c.emails() if m[3] == kind)
        expect(got == everyone, f"exactly one {kind} email per customer ({len(got)} sent)")


# ---------------------------------------------------------------------------------------------
# The drills
# ---------------------------------------------------------------------------------------------

def drill_leader_kill(c):
    """The leader is SIGKILLed mid fan-out (20,000 emails): another node takes over and nobody is missed."""
    recipients, concurrency = 20000, 4
    c.setup(recipients=recipients, email_concurrency=concurrency)
    say(f"every node: delivery.concurrency.email {concurrency} (at most {concurrency} emails being sent on a node, and "
        f"{max(64, 4 * (concurrency + 4 + 1))} sent and not yet recorded), "
        f"leader_lease {int(LEADER_LEASE)}s")
    c.watch()
    wait_operational(c)
    leader, term = c.leader()
    step(f"the operator, on the leader: detour failover start --business shop --reason 'leader-kill drill' "
         f"--config {leader.name}/detour.yaml")
    started = now()
    r = leader.cli("failover", "start", "--business", "shop", "--reason", "leader-kill drill")
    say(f"detour: {(r.stdout + r.stderr).strip()}")
    expect(r.returncode == 0, f"failover start exited {r.returncode}")
    c.progress_every = 3
    if not wait(60, lambda: c.count("outage") >= 2000, every=0.02):
        raise DrillFailed(f"only {c.count('outage')} emails within 60 s of the failover\n{c.logs()}")
    at_kill = {n.name: len(n.emails()) for n in c.nodes}
    leader.signal(signal.SIGKILL)
    killed_at = now()
    leader.proc.wait()
    # What the store held for the killed node: claimed by it and not recorded (its leases run out later).
    leased = c.db.query(f"SELECT count(*) FROM deliveries WHERE channel = 'email' AND state = 'sending' "
                        f"AND lease_owner LIKE '%/{leader.proc.pid}/%'", "?")
    step(f"SIGKILL to the leader {leader.name} (pid {leader.proc.pid}) after {sum(at_kill.values())} emails were "
         f"accepted ({', '.join(f'{k} {v}' for k, v in at_kill.items())}), {killed_at - started:.1f}s after the failover")
    say(f"the store holds {leased} emails claimed by {leader.name} and not recorded as sent (being sent, waiting in "
        "its queue, or sent with the outcome not yet written): the others take them over when their delivery "
        "leases (10 s) run out")
    if not wait(4 * LEADER_LEASE, lambda: c.db.leader()[1] > term, every=0.1):
        raise DrillFailed(f"no new leader within {4 * LEADER_LEASE:.0f}s of the kill (leader: {c.db.leader()})\n{c.logs()}")
    new_leader, new_term = c.db.leader()
    took = now() - killed_at
    say(f"{new_leader} took the leader lease (term {new_term}) {took:.1f}s after the kill")
    expect(new_term == term + 1 and new_leader != leader.name, f"the new leader is {new_leader}, term {term} + 1")
    expect(took <= 2 * LEADER_LEASE, f"it took over within two lease periods ({took:.1f}s ≤ {2 * LEADER_LEASE:.0f}s)")
    everyone = {f"customer{i}@example.test" for i in range(1, recipients + 1)}
    if not wait(150, lambda: c.recipients_of("outage") >= everyone, every=0.5):
        missing = len(everyone - c.recipients_of("outage"))
        raise DrillFailed(f"{missing} of {recipients} customers never got the outage email\n{c.logs()}")
    done = now()
    c.progress_every = None
    c.sync()
    emails = [m for m in c.emails() if m[3] == "outage"]
    first_seen = max(m[4] for m in emails)
    say(f"the last outage email was accepted {first_seen - started:.1f}s after the failover started: "
        f"{len(emails) / (first_seen - started):.0f} emails/s overall")
    expect(c.recipients_of("outage") == everyone, f"every one of the {recipients} customers got the outage email")
    # Duplicates: more than one copy to a recipient; every copy must carry the same Message-ID.
    copies = {}
    for node, rcpt, mid, kind, at in emails:
        copies.setdefault(rcpt, []).append((node, mid))
    duplicated = {r: cs for r, cs in copies.items() if len(cs) > 1}
    duplicates = sum(len(cs) - 1 for cs in duplicated.values())
    mixed_ids = [r for r, cs in duplicated.items() if len({mid for _, mid in cs}) > 1]
    from_killed = sum(1 for cs in duplicated.values() if any(node == leader.name for node, _ in cs))
    say(f"totals: {len(emails)} outage emails for {len(copies)} customers; by node: " +
        ", ".join(f"{n.name} {sum(1 for m in emails if m[0] == n.name)}" for n in c.nodes) +
        f"; {duplicates} duplicate(s), {from_killed} of them a copy the killed {leader.name} had sent and not yet "
        "recorded as sent")
    for rcpt, cs in sorted(duplicated.items())[:5]:
        say(f"  duplicate: {rcpt}: " + ", ".join(f"from {node} {mid}" for node, mid in cs))
    if len(duplicated) > 5:
        say(f"  … and {len(duplicated) - 5} more")
    say(f"the fan-out was done {done - started:.1f}s after the failover, {done - killed_at:.1f}s after the kill")
    c.trouble()
    c.check(30, lambda: c.db.query("SELECT count(*) FROM deliveries WHERE channel = 'email' AND state <> 'sent'") == "0",
            "the store holds every email as sent", lambda: "not every email is recorded as sent: " + str(c.db.query(
                "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM deliveries "
                "WHERE channel = 'email' GROUP BY state) s")))
    expect(not mixed_ids, "every duplicate carries the Message-ID of its first copy"
           + (f" (not: {mixed_ids[:3]})" if mixed_ids else ""))
    if leased.isdigit():
        expect(duplicates <= int(leased), f"duplicates ({duplicates}) ≤ the emails the store held as claimed by "
               f"{leader.name} and not recorded at the kill ({leased}): nothing recorded as sent went out again")
    # In flight on a node: the emails being sent (delivery.concurrency.email) and the sent ones whose
    # outcome waits to be written, which Detour caps at four times the node's senders (email, webhook 4,
    # banner 1), and at least 64.
    bound = concurrency + max(64, 4 * (concurrency + 4 + 1))
    expect(duplicates <= bound,
           f"duplicates ({duplicates}) ≤ what the killed leader could have in flight ({concurrency} sending + "
           f"{bound - concurrency} sent and not yet recorded)")


def drill_leader_freeze(c):
    """The leader is frozen (SIGSTOP) past its lease while the platform recovers, then thawed."""
    c.setup()
    c.watch()
    wait_operational(c)
    step("Acme goes down for every node")
    for n in c.nodes:
        n.platform_down()
    expect_failover(c)
    leader, term = c.leader()
    step(f"the leader {leader.name} freezes (SIGSTOP, as a paused VM): it cannot renew its {int(LEADER_LEASE)}s lease")
    leader.signal(signal.SIGSTOP)
    frozen_at = now()
    c.check(4 * LEADER_LEASE, lambda: c.db.leader()[1] > term,
            f"another node took over while {leader.name} was frozen",
            lambda: f"no takeover within {4 * LEADER_LEASE:.0f}s: {c.db.leader()}\n{c.logs()}")
    new_leader, new_term = c.db.leader()
    say(f"{new_leader} leads (term {new_term}), {now() - frozen_at:.1f}s after the freeze")
    step("Acme recovers while the old leader is still frozen")
    for n in c.nodes:
        n.platform_up()
    c.check(30, lambda: c.db.query("SELECT state FROM incidents") == "resolved",
            f"{new_leader} resolved the incident", lambda: f"the incident was not resolved\n{c.logs()}")
    step(f"{leader.name} thaws (SIGCONT) {now() - frozen_at:.1f}s after it froze, still believing it leads term {term}")
    leader.signal(signal.SIGCONT)
    c.check(15, lambda: leader.log_lines("lost the leader lease", "no longer leads"),
            f"{leader.name} stepped down", lambda: f"{leader.name} did not step down\n{c.logs()}")
    for line in leader.log_lines("lost the leader lease", "no longer leads", "expired without renewal")[:3]:
        say(f"  {leader.name}'s log: {line.strip()[:200]}")
    say("waiting 3 s to see whether the thawed node writes anything")
    time.sleep(3)
    expect_all_clear(c)
    seq = c.db.query("SELECT event_sequence FROM incidents")
    expect(seq == "2", f"the incident has two events, opened and resolved, none written twice (event_sequence {seq})")
    expect(c.incidents() == "1", "one incident")
    expect(c.db.leader() == (new_leader, new_term), f"{new_leader} still leads (term {new_term})")
    types = c.webhook_types()
    expect(types.count("detour.incident.opened") == 1 and types.count("detour.incident.resolved") == 1,
           f"one incident.opened and one incident.resolved webhook ({types})")
    expect_once_each(c, ("outage", "all-clear"))


def drill_database_restart(c):
    """PostgreSQL restarts (an immediate stop, as a crash) in the middle of a 1,500-email fan-out."""
    recipients = 1500
    c.setup(recipients=recipients, dedicated_database=True)
    c.watch()
    wait_operational(c)
    leader, _ = c.leader()
    step(f"the operator, on the leader {leader.name}: detour failover start --business shop --reason 'database drill'")
    r = leader.cli("failover", "start", "--business", "shop", "--reason", "database drill")
    say(f"detour: {(r.stdout + r.stderr).strip()}")
    expect(r.returncode == 0, f"failover start exited {r.returncode}")
    c.progress_every = 3
    if not wait(30, lambda: c.count("outage") >= 150, every=0.02):
        raise DrillFailed(f"the fan-out did not start ({c.count('outage')} emails)\n{c.logs()}")
    before = c.count("outage")
    step(f"PostgreSQL restarts at once (pg_ctl restart -m immediate) after {before} of {recipients} emails")
    restarted = now()
    c.db.server("restart")
    say(f"PostgreSQL is back after {now() - restarted:.1f}s")
    everyone = {f"customer{i}@example.test" for i in range(1, recipients + 1)}
    c.check(120, lambda: c.recipients_of("outage") >= everyone,
            f"the fan-out finished by itself: all {recipients} customers got the email",
            lambda: f"{len(everyone - c.recipients_of('outage'))} of {recipients} never got it\n{c.logs()}")
    finished = now()
    say(f"the last email was accepted {finished - restarted:.1f}s after the restart")
    c.progress_every = None
    # An outcome write the restart caught is answered at its 30 s deadline and retried.
    c.check(90, lambda: c.db.query("SELECT count(*) FROM deliveries WHERE channel = 'email' AND state <> 'sent'") == "0",
            "the store holds every email as sent: 0 lost",
            lambda: "not every email is recorded as sent: " +
                    str(c.db.query("SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n "
                                   "FROM deliveries WHERE channel = 'email' GROUP BY state) s")) + f"\n{c.logs()}")
    emails = [m for m in c.emails() if m[3] == "outage"]
    first, other_ids = {}, []
    for node, rcpt, mid, kind, at in emails:
        if rcpt in first and first[rcpt] != mid:
            other_ids.append(rcpt)
        first.setdefault(rcpt, mid)
    dups = len(emails) - len(first)
    say(f"totals: {len(emails)} outage emails for {len(first)} customers ({dups} duplicate(s): sends in flight when "
        "the database went away, whose outcome could not be recorded); by node: " +
        ", ".join(f"{n.name} {sum(1 for m in emails if m[0] == n.name)}" for n in c.nodes))
    expect(not other_ids, "every duplicate carries the Message-ID of its first copy")
    expect(all(n.running for n in c.nodes), "every node kept running through the restart")
    c.check(20, lambda: all(n.http_get("/readyz")[0] == 200 for n in c.nodes), "every node's /readyz answers 200 again",
            lambda: f"/readyz: {[n.http_get('/readyz') for n in c.nodes]}")
    c.check(20, lambda: c.db.leader()[0] is not None and "leads (term" in c.nodes[0].status_text(),
            f"a node leads: {c.db.leader()[0]}", lambda: f"no node leads after the restart\n{c.logs()}")
    say("what the nodes logged about it:")
    c.trouble()


def drill_network_down_abstains(c):
    """node-c's own network goes down while Acme is down for node-a and node-b."""
    c.setup()
    c.watch()
    wait_operational(c)
    step("node-c's network goes down: its Acme probe and its control probe both fail; "
         "node-a and node-b see Acme answer 503 while their controls pass")
    c.node("node-c").network_down()
    c.node("node-a").platform_down()
    c.node("node-b").platform_down()
    expect_failover(c)
    c.check(10, lambda: c.db.views().get("node-c") == ("unknown", False),
            "node-c's view is unknown with its controls failing: it abstained",
            lambda: f"node-c's view: {c.db.views().get('node-c')}")
    time.sleep(2)
    status = c.node("node-c").status_text()
    expect("node-c abstains: own controls failing" in status, "node-c's `detour status` says it abstains")
    say("  " + next((l.strip() for l in status.splitlines() if "abstains: own controls failing" in l), "")[:220])
    expect("VIEWS" in status and "FAIL" in status, "its VIEWS section shows its controls FAIL")
    expect(c.incidents() == "1", "one incident")
    expect_once_each(c)
    step("the network and Acme come back")
    for n in c.nodes:
        n.platform_up()
    expect_all_clear(c)
    expect_once_each(c, ("outage", "all-clear"))


def drill_one_node_sees_down(c):
    """Only node-a sees Acme down (its path to it is broken): no failover; then node-b too: failover."""
    c.setup()
    c.watch()
    wait_operational(c)
    step("Acme answers 503 to node-a only")
    c.node("node-a").platform_down()
    c.check(20, lambda: c.db.views().get("node-a") == ("down", True), "node-a sees acme down",
            lambda: f"node-a never saw it down: {c.db.views()}")
    seen = now()
    say("waiting 8 s: well past failure_threshold (2 rounds) + grace (1 s)")
    quiet = wait(8, lambda: c.incidents() != "0" or c.emails() or any(c.banners().values()), every=0.3)
    expect(not quiet, f"for {now() - seen:.0f}s with one node of three seeing it down: no incident, no email, no banner")
    leader, _ = c.leader()
    status = leader.status_text()
    line = next((l.strip() for l in status.splitlines() if "down for node-a only" in l), None)
    expect(line is not None, f"the leader's `detour status` says why: acme is down for node-a only")
    say(f"  {line[:220]}")
    expect(not c.webhook_types(), "no webhook was sent")
    step("node-b sees Acme down too: two of three")
    c.node("node-b").platform_down()
    expect_failover(c)
    expect(c.incidents() == "1", "one incident")
    expect_once_each(c)


DRILLS = {
    "leader-kill": (drill_leader_kill, 240),
    "leader-freeze": (drill_leader_freeze, 150),
    "database-restart": (drill_database_restart, 300),
    "network-down-abstains": (drill_network_down_abstains, 150),
    "one-node-sees-down": (drill_one_node_sees_down, 150),
}


def main():
    if "--list" in sys.argv[1:]:
        print("\n".join(DRILLS))
        return
    ap = argparse.ArgumentParser(description="One cluster drill (run them through run.sh).")
    ap.add_argument("name", choices=list(DRILLS))
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the drill's temp dir (configs, logs) and its database")
    args = ap.parse_args()
    fn, limit = DRILLS[args.name]

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def on_alarm(_signum, _frame):
        raise DrillFailed(f"the drill's time limit ({limit}s) passed")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)

    c = Cluster(args.name, args.bin, keep=args.keep)
    print(f"--- cluster drill {args.name}: {fn.__doc__}", flush=True)
    verdict, code = None, 1
    try:
        fn(c)
        dead = c.unexpected_exits()
        if dead:
            raise DrillFailed(f"{dead[0].name} exited on its own: {dead[0].died()}")
        verdict, code = f"PASS {args.name}", 0
    except DrillFailed as e:
        verdict = f"FAIL {args.name}: {str(e).splitlines()[0] if str(e) else 'failed'}"
        if "\n" in str(e):
            print(str(e).split("\n", 1)[1], flush=True)
    except SystemExit as e:
        verdict = f"FAIL {args.name}: interrupted"
        code = e.code if isinstance(e.code, int) else 1
    except Exception as e:  # a bug in the drill itself
        import traceback
        traceback.print_exc()
        verdict = f"FAIL {args.name}: {type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        c.cleanup()
    print(f"{verdict}  ({now():.1f}s)", flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
