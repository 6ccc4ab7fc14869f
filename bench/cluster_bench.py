#!/usr/bin/env python3
"""A durable fan-out through a cluster of real daemons on PostgreSQL, or one daemon on SQLite.

Usage: cluster_bench.py DETOUR_BINARY --sink PORT --messages N --nodes K [--postgres SERVER_URL]
                        [--connections 4] [--concurrency 16] [--timeout SECONDS]

With --postgres (a server URL whose user may CREATE DATABASE), a fresh database is made and K
`detour run` nodes start on it (node-1 … node-K, each its own HTTP port and control socket, the
same policy); without it, one node on an SQLite file. The policy (`bench`) emails N personalised
recipients through smtp-sink at 127.0.0.1:PORT (max_connections = --connections on each node,
`delivery.concurrency.email` = --concurrency) and publishes a banner.

Once a node leads, `detour failover start --business bench` runs on the leader; the fan-out is
timed from that command until every email is recorded `sent` (the state polled every 50 ms), and
the decision → banner time is from the command's return until every node serves an active
`/banner/bench.json` (each node polled every 5 ms).

Prints one JSON object: nodes, store, messages, seconds, messagesPerSecond, commandSeconds,
bannerSeconds (the slowest node) and bannerSecondsByNode.
"""
import argparse, json, os, shutil, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time, urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("detour")
parser.add_argument("--sink", type=int, required=True)
parser.add_argument("--messages", type=int, required=True)
parser.add_argument("--nodes", type=int, default=1)
parser.add_argument("--postgres", help="a PostgreSQL server URL (database 'postgres'); omit for SQLite")
parser.add_argument("--connections", type=int, default=4)
parser.add_argument("--concurrency", type=int, default=16)
parser.add_argument("--timeout", type=float, default=600)
args = parser.parse_args()
BIN = os.path.abspath(args.detour)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def fail(message):
    raise SystemExit(f"cluster_bench: {message}")


def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def psql(url, sql, tolerate=False):
    r = subprocess.run(["psql", url, "-XtAq", "-c", sql], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        if tolerate:  # the nodes are still creating the schema
            return ""
        fail(f"psql: {r.stderr.strip()}")
    return r.stdout.strip()


def database_url(server, name):
    base, _, query = server.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


class Node:
    def __init__(self, work, name, state):
        self.name, self.dir, self.http = name, os.path.join(work, name), port()
        os.makedirs(os.path.join(self.dir, "state"))
        cluster = f"node: {{name: {name}, leader_lease: 3s}}\n" if args.postgres else ""
        self.config = os.path.join(self.dir, "detour.yaml")
        open(self.config, "w").write(f"""state: {state}
policies: ../policies
http: {{listen: 127.0.0.1:{self.http}}}
control: {{socket: state/control.sock}}
smtp:
  sink: {{url: "smtp://127.0.0.1:{args.sink}", starttls: "off", max_connections: {args.connections}}}
delivery: {{concurrency: {{email: {args.concurrency}, webhook: 16}}}}
controls: []
{cluster}platforms:
  facebook: {{watch: false}}
  instagram: {{watch: false}}
  threads: {{watch: false}}
  messenger: {{watch: false}}
  whatsapp: {{watch: false}}
  acme:
    interval: 10m
    timeout: 1s
    probes:
      - tcp: 127.0.0.1:{self.http}
""")
        self.log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.process = subprocess.Popen([BIN, "run", "--config", self.config, "--log-level", "warning"],
                                        stdout=subprocess.DEVNULL, stderr=self.log)

    def cli(self, *words):
        return subprocess.run([BIN, *words, "--config", self.config], capture_output=True, text=True, timeout=args.timeout)

    def banner_active(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/banner/bench.json", timeout=2) as r:
                return json.load(r).get("active") is True
        except Exception:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill(); self.process.wait()


def write_policy(work, n):
    width = max(5, len(str(n - 1)))
    with open(os.path.join(work, "audience.csv"), "w") as f:
        f.write("email,name\n")
        for i in range(n):
            f.write(f"customer{i:0{width}d}@example.test,Customer {i}\n")
    os.makedirs(os.path.join(work, "policies"))
    os.makedirs(os.path.join(work, "site"))
    open(os.path.join(work, "policies", "bench.yaml"), "w").write("""business: bench
name: Rosie's Bakery
depends_on: [acme]
message: {outage: "Acme is down, so our DMs may not reach us. Please call 0161 496 0000 or email orders@shop.example.test."}
channels:
  email: {smtp: sink, from: "Rosie's Bakery <hello@shop.example.test>", audience: ../audience.csv}
  banner: {publish_dir: ../site}
""")


def main():
    n = args.messages
    work = tempfile.mkdtemp(prefix="detour-cluster-bench-")
    nodes = []
    database = None
    try:
        write_policy(work, n)
        if args.postgres:
            database = f"bench_{os.getpid()}_{int(time.time())}"
            psql(args.postgres, f"CREATE DATABASE {database}")
            state = database_url(args.postgres, database)
            count = lambda sql: int(psql(state, sql) or 0)
        else:
            state = "state/detour.sqlite"
            count = None
        nodes = [Node(work, f"node-{i + 1}", state) for i in range(args.nodes if args.postgres else 1)]
        deadline = time.monotonic() + 60
        leader = None
        while leader is None:
            for node in nodes:
                if node.process.poll() is not None:
                    node.log.flush()
                    fail(f"{node.name} exited: {open(node.log.name).read()[-1500:]}")
            if time.monotonic() > deadline:
                fail("no node became ready and led within 60 s")
            if args.postgres:
                name = psql(state, "SELECT node FROM leader WHERE expires_at > extract(epoch from now())", tolerate=True)
                leader = next((x for x in nodes if x.name == name), None)
                if leader and "leading" not in leader.cli("status").stdout:
                    leader = None
            elif nodes[0].cli("status").returncode == 0:
                leader = nodes[0]
            if leader is None:
                time.sleep(0.2)
        for node in nodes:
            while not os.path.exists(os.path.join(node.dir, "state", "control.sock")) or node.cli("status").returncode != 0:
                if time.monotonic() > deadline:
                    fail(f"{node.name} did not answer within 60 s")
                time.sleep(0.2)

        if count is None:
            db_path = os.path.join(nodes[0].dir, "state", "detour.sqlite")
            db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5, isolation_level=None)
            count = lambda sql: db.execute(sql).fetchone()[0]

        banner = {}

        def watch(node, since):
            while node.name not in banner and time.monotonic() < since + 30:
                if node.banner_active():
                    banner[node.name] = time.monotonic() - since
                    return
                time.sleep(0.005)

        start = time.monotonic()
        r = leader.cli("failover", "start", "--business", "bench", "--reason", "bench")
        decided = time.monotonic()
        if r.returncode != 0:
            fail(f"failover start on {leader.name}: {r.stderr.strip()}")
        watchers = [threading.Thread(target=watch, args=(node, decided), daemon=True) for node in nodes]
        for w in watchers:
            w.start()
        end = start + args.timeout
        while True:
            time.sleep(0.05)
            if time.monotonic() > end:
                fail("timed out before every email was sent")
            for node in nodes:
                if node.process.poll() is not None:
                    fail(f"{node.name} exited during the fan-out")
            rows = count("SELECT count(*) FROM deliveries WHERE channel = 'email'")
            if rows >= n and count("SELECT count(*) FROM deliveries WHERE channel = 'email' AND state <> 'sent'") == 0:
                break
        done = time.monotonic()
        for w in watchers:
            w.join(35)
        if len(banner) != len(nodes):
            fail(f"not every node served the banner within 30 s: {sorted(banner)} of {[x.name for x in nodes]}")
        seconds = done - start
        print(json.dumps({
            "nodes": len(nodes), "store": "postgres" if args.postgres else "sqlite", "messages": n,
            "seconds": seconds, "messagesPerSecond": n / seconds, "commandSeconds": decided - start,
            "bannerSeconds": max(banner.values()), "bannerSecondsByNode": banner,
        }), flush=True)
    finally:
        for node in nodes:
            node.stop()
        if database:
            subprocess.run(["psql", args.postgres, "-XtAq", "-c", f"DROP DATABASE IF EXISTS {database}"],
                           capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
