#!/usr/bin/env python3
"""One outage drill: the real `detour run` against local stand-ins, narrated, judged PASS or FAIL.

Usage: drill.py NAME --bin PATH/TO/detour [--keep]
Run it through run.sh, which finds the binary and the Python that has aiosmtpd.

Everything listens on 127.0.0.1 on ports picked at run time. Prints "PASS NAME" or "FAIL NAME: why"
as its last line and exits 0 or 1. All processes it started are stopped on the way out.
"""
import argparse, base64, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SERVERS = os.path.join(REPO, "Tests", "Servers")
RECIPIENTS = 3
sys.path.insert(0, HERE)
from shop import BUILTINS_OFF, FAST_PROBES, OUTAGE_TEXT, RECOVERY_TEXT, audience_csv, policy_yaml, webhook_types, write_routes  # noqa: E402

T0 = time.monotonic()
_print_lock = threading.Lock()


def say(text):
    with _print_lock:
        print(f"[+{time.monotonic() - T0:5.1f}s] {text}", flush=True)


def step(text):
    with _print_lock:
        print(f"[+{time.monotonic() - T0:5.1f}s] == {text}", flush=True)


CURRENT = None


class DrillFailed(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Drill:
    """The stand-ins, the config and the daemon for one drill, plus a narrator that watches them."""

    def __init__(self, name, detour_bin, keep=False):
        self.name = name
        self.bin = detour_bin
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix=f"detour-drill-{name}-")
        self.procs = []
        self.daemon = None
        self.platform_proc = None
        self.http_port = free_port()
        self.config_path = os.path.join(self.dir, "detour.yaml")
        self.routes_path = os.path.join(self.dir, "platform.json")
        self.receiver_routes = os.path.join(self.dir, "receiver.json")
        self.smtp_dir = os.path.join(self.dir, "smtp")
        self.log_path = os.path.join(self.dir, "daemon.log")
        # What the narrator saw, for the checks.
        self.seen_states = []        # (t, state, reason)
        self.seen_banner = []        # (t, active)
        self.watching = False
        self.watcher = None
        self.ticks = 0
        os.makedirs(os.path.join(self.dir, "state"))
        os.makedirs(os.path.join(self.dir, "policies"))

    # ----- stand-ins -----
    def _start_server(self, args, out_name, port=None):
        out = os.path.join(self.dir, out_name)
        cmd = [sys.executable, "-u"] + args + ["--lifetime", "300"]
        if port:
            cmd += ["--port", str(port)]
        p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            text = open(out).read()
            if "READY" in text:
                return p, int(text.split("READY", 1)[1].split()[0])
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise DrillFailed(f"stand-in {args[0]} did not start: {open(out).read()[-2000:]}")

    def set_routes(self, routes):
        write_routes(self.routes_path, routes)

    def start_platform(self, routes=None, port=None):
        if routes is not None:
            self.set_routes(routes)
        self.platform_proc, self.platform_port = self._start_server(
            [os.path.join(SERVERS, "http_server.py"), self.routes_path], "platform.out", port=port)
        self.base = f"http://127.0.0.1:{self.platform_port}"

    def stop_platform(self):
        p = self.platform_proc
        if p and p.poll() is None:
            p.kill()  # like pulling the cable: connections are refused from now on
            p.wait()

    def start_stand_ins(self, routes):
        self.start_platform(routes)
        with open(self.receiver_routes, "w") as f:
            json.dump({"/hook": {"status": 204}}, f)
        _, self.receiver_port = self._start_server(
            [os.path.join(SERVERS, "http_server.py"), self.receiver_routes], "receiver.out")
        _, self.smtp_port = self._start_server(
            [os.path.join(SERVERS, "smtp_server.py"), "--dir", self.smtp_dir], "smtp.out")
        say(f"stand-ins up: Acme (platform and control target) on :{self.platform_port}, "
            f"webhook receiver on :{self.receiver_port}, SMTP on :{self.smtp_port}")

    # ----- config -----
    def write_config(self, probes, platform_extra="", controls=None, grace="1s", recovery_grace="2s", cooldown="1h"):
        controls = controls if controls is not None else [f"- http: {self.base}/control", "  expect_status: [204]"]
        ind = lambda lines, n: "\n".join(" " * n + l for l in lines)
        text = f"""# written by examples/drills/drill.py for the '{self.name}' drill
state: state/detour.sqlite
policies: policies
http:
  listen: 127.0.0.1:{self.http_port}
control:
  socket: state/control.sock
smtp:
  local:
    url: smtp://127.0.0.1:{self.smtp_port}
    starttls: off
    timeout: 10s
webhooks:
  allow_private_targets: true
  timeout: 5s
delivery:
  initial_backoff: 200ms
  max_backoff: 2s
  max_attempts: 10
{FAST_PROBES}controls:
{ind(controls, 2)}
platforms:
{BUILTINS_OFF}  acme:
    name: Acme Social
{platform_extra}    probes:
{ind(probes, 6)}
"""
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)
        with open(os.path.join(self.dir, "policies", "shop.yaml"), "w") as f:
            f.write(policy_yaml(self.receiver_port, grace, recovery_grace, cooldown))
        with open(os.path.join(self.dir, "audience.csv"), "w") as f:
            f.write(audience_csv(RECIPIENTS))

    # ----- the daemon -----
    def start_daemon(self):
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "DETOUR_CONFIG")}
        self.daemon = subprocess.Popen([self.bin, "run", "--config", self.config_path, "--log-level", "debug"],
                                       stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env)
        self.procs.append(self.daemon)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "detour is ready" in self.log():
                say(f"detour run is ready (pid {self.daemon.pid}; config {self.config_path})")
                return
            if self.daemon.poll() is not None:
                break
            time.sleep(0.05)
        raise DrillFailed("detour run did not become ready (its log is above)")

    def reload(self):
        """SIGHUP: the daemon re-reads its config; probes restart with the new platforms."""
        marker = self.log().count("probes restarted")
        self.daemon.send_signal(signal.SIGHUP)
        if not wait(10, lambda: self.log().count("probes restarted") > marker):
            raise DrillFailed("the daemon did not restart its probes after SIGHUP")

    def log(self):
        try:
            return open(self.log_path, encoding="utf-8", errors="replace").read()
        except FileNotFoundError:
            return ""

    def cli(self, *args, timeout=30):
        r = subprocess.run([self.bin] + list(args) + ["--config", self.config_path], capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        return r

    def status(self):
        try:
            r = self.cli("status", "--json", timeout=10)
            return json.loads(r.stdout) if r.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError):
            return None

    def platform_status(self):
        s = self.status() or {}
        for p in s.get("platforms", []):
            if p.get("platform") == "acme":
                return p.get("state"), p.get("reason", "")
        return None, ""

    # ----- what customers got -----
    def emails(self):
        try:
            lines = open(os.path.join(self.smtp_dir, "messages.jsonl")).read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                o = json.loads(line)
                out.append((base64.b64decode(o["data_b64"]).decode("utf-8", "replace"), o.get("rcpt_tos", [])))
            except (ValueError, KeyError):
                pass
        return out

    def outage_emails(self):
        return [e for e in self.emails() if "Acme is down" in e[0]]

    def all_clear_emails(self):
        return [e for e in self.emails() if "Acme is back" in e[0]]

    def webhook_types(self):
        return webhook_types(self.receiver_routes + ".log")

    def banner_active(self):
        import urllib.request
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/banner/shop.json", timeout=2) as r:
                return json.loads(r.read()).get("active") is True
        except Exception:
            return None

    # ----- the narrator -----
    def watch(self):
        """Narrates, from a background thread, every change a user could see."""
        self.watching = True

        def loop():
            last_state, last_reason, last_out, last_clear, last_hooks, last_banner = None, None, 0, 0, 0, None
            while self.watching:
                state, reason = self.platform_status()
                if state and state != last_state:
                    say(f"acme {state}: {reason}")
                if state and (state != last_state or reason != last_reason):
                    self.seen_states.append((time.monotonic() - T0, state, reason))
                if state:
                    last_state, last_reason = state, reason
                out, clear = len(self.outage_emails()), len(self.all_clear_emails())
                if out != last_out:
                    say(f"outage emails accepted by the SMTP server: {out} (of {RECIPIENTS} customers)")
                    last_out = out
                if clear != last_clear:
                    say(f"all-clear emails accepted by the SMTP server: {clear}")
                    last_clear = clear
                hooks = self.webhook_types()
                for t in hooks[last_hooks:]:
                    say(f"webhook received by the CRM: {t}")
                last_hooks = len(hooks)
                banner = self.banner_active()
                if banner is not None and banner != last_banner:
                    say(f"website banner (GET /banner/shop.json): {'ACTIVE' if banner else 'not active'}")
                    self.seen_banner.append((time.monotonic() - T0, banner))
                    last_banner = banner
                self.ticks += 1
                time.sleep(0.25)

        self.watcher = threading.Thread(target=loop, daemon=True)
        self.watcher.start()

    def sync(self):
        """Lets the narrator catch up (two more rounds), so the story reads in order."""
        if self.watcher and self.watcher.is_alive():
            target = self.ticks + 2
            wait(3, lambda: self.ticks >= target, every=0.05)

    def reasons(self):
        return " | ".join(r for _, _, r in self.seen_states)

    def cleanup(self):
        self.watching = False
        if self.watcher:
            self.watcher.join(3)
        for p in reversed(self.procs):
            if p.poll() is None:
                # The daemon gets SIGTERM (a graceful stop); the stand-ins are simply killed.
                p.terminate() if p is self.daemon else p.kill()
        for p in reversed(self.procs):
            started = time.monotonic()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if os.environ.get("DRILL_DEBUG"):
                print(f"(stopped {p.args[:3]} in {time.monotonic() - started:.1f}s)", flush=True)
        if self.keep:
            print(f"(kept {self.dir})", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def wait(seconds, cond, every=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return cond()


def expect(ok, why):
    if not ok:
        raise DrillFailed(why)
    say(f"✓ {why}")


def check(d, cond, seconds, good, bad):
    """Waits for cond; says `good` or fails with `bad`."""
    if not wait(seconds, cond):
        raise DrillFailed(bad)
    d.sync()
    say(f"✓ {good}")


def healthy_routes(extra=None):
    routes = {"/health": {"status": 200, "body": "<html>Acme</html>"}, "/control": {"status": 204}}
    routes.update(extra or {})
    return routes


def wait_operational(d, seconds=15):
    check(d, lambda: d.platform_status()[0] == "operational", seconds,
          "acme is operational; customers hear nothing", "acme never became operational")


def expect_failover(d, seconds=30):
    check(d, lambda: len(d.outage_emails()) >= RECIPIENTS, seconds,
          f"all {RECIPIENTS} customers got the outage email", f"the outage email did not reach all {RECIPIENTS} customers within {seconds}s")
    check(d, lambda: "detour.incident.opened" in d.webhook_types(), 10,
          "the CRM webhook got detour.incident.opened", "no detour.incident.opened webhook")
    check(d, lambda: d.banner_active() is True, 10, "the website banner is up", "the banner is not active")


def expect_all_clear(d, seconds=30):
    check(d, lambda: len(d.all_clear_emails()) >= RECIPIENTS and d.banner_active() is False
          and "detour.incident.resolved" in d.webhook_types(), seconds,
          f"all-clear: {RECIPIENTS} emails, detour.incident.resolved webhook, banner down",
          f"no complete all-clear within {seconds}s (all-clear emails {len(d.all_clear_emails())}, "
          f"banner active {d.banner_active()}, webhooks {d.webhook_types()})")


def expect_exactly_once(d):
    out = d.outage_emails()
    rcpts = sorted(r for _, to in out for r in to)
    expect(len(out) == RECIPIENTS and rcpts == sorted(f"customer{i}@example.test" for i in range(1, RECIPIENTS + 1)),
           f"exactly one outage email per customer ({len(out)} sent)")
    clear = d.all_clear_emails()
    expect(len(clear) <= RECIPIENTS, f"at most one all-clear per customer ({len(clear)} sent)")
    types = d.webhook_types()
    expect(types.count("detour.incident.opened") == 1, f"exactly one incident opened ({types.count('detour.incident.opened')})")


# ---------------------------------------------------------------------------------------------
# The drills
# ---------------------------------------------------------------------------------------------

def drill_dns_outage(d):
    """Oct 2021: Meta's DNS names stopped resolving."""
    d.start_stand_ins(healthy_routes())
    port = d.platform_port
    names = lambda host: [f"- dns: {host}", f"- tcp: {host}:{port}", f"- http: http://{host}:{port}/health",
                          "  expect_status: [200]"]
    # 'localhost' resolves from /etc/hosts; the daemon's dns probe has no per-probe resolver option.
    d.write_config(names("localhost"))
    d.start_daemon()
    d.watch()
    wait_operational(d)
    step("Acme's DNS records vanish. Detour's dns probe uses the system resolver and cannot be pointed at a "
         "local DNS server, so the drill reloads the config (SIGHUP) with the same three probes aimed at "
         "acme-platform.invalid, a name no resolver answers: every probe now fails with a real resolver error")
    d.write_config(names("acme-platform.invalid"))
    d.reload()
    check(d, lambda: d.platform_status()[0] == "down", 20, "acme is down", "acme was not marked down within 20s")
    state, reason = d.platform_status()
    expect("acme-platform.invalid" in reason, f"the reason names the failing lookups: {reason}")
    expect_failover(d)
    step("the names resolve again (config reloaded with localhost)")
    d.write_config(names("localhost"))
    d.reload()
    expect_all_clear(d)
    expect_exactly_once(d)


def drill_login_path(d):
    """Mar 2024: pages loaded (200) but logins and the API failed."""
    d.start_stand_ins(healthy_routes({"/api/login": {"status": 200, "body": '{"ok": true}'}}))
    d.write_config([f"- http: {d.base}/health", "  expect_status: [200]",
                    f"- http: {d.base}/api/login", "  expect_status: [200]",
                    "  must_not_contain: Sorry, something went wrong"],
                   platform_extra="    quorum: any   # a failing login probe alone is enough\n")
    d.start_daemon()
    d.watch()
    wait_operational(d)
    step("the landing page keeps answering 200, but the login endpoint answers 200 'Sorry, something went wrong' "
         "and 500 in turn (the Mar 2024 outage: pages loaded, logins were rejected)")
    sorry = {"status": 200, "body": "<html><h1>Sorry, something went wrong.</h1></html>"}
    e500 = {"status": 500, "body": "Internal Server Error"}
    d.set_routes(healthy_routes({"/api/login": [sorry, e500] * 100}))
    check(d, lambda: d.platform_status()[0] == "down", 20, "acme is down", "acme was not marked down within 20s")
    _, reason = d.platform_status()
    expect("/api/login" in reason and "/health" not in reason,
           f"the deeper probe caught it, the landing page probe stayed ok: {reason}")
    expect_failover(d)
    step("logins work again")
    d.set_routes(healthy_routes({"/api/login": {"status": 200, "body": '{"ok": true}'}}))
    expect_all_clear(d)
    expect_exactly_once(d)
    expect("Sorry" in d.reasons() or "must_not_contain" in d.reasons() or "500" in d.reasons(),
           "the narrated reasons show the keyword or the 500")


def drill_5xx_and_timeouts(d):
    """Dec 2024: a mix of 503s and requests that hung past the timeout."""
    d.start_stand_ins(healthy_routes({"/api": {"status": 200, "body": "{}"}}))
    d.write_config([f"- http: {d.base}/health", "  expect_status: [200]",
                    f"- http: {d.base}/api", "  expect_status: [200]"])
    d.start_daemon()
    d.watch()
    wait_operational(d)
    step("Acme answers 503 and hangs for 3 s (probe timeout 1 s) in turn, on both endpoints")
    e503 = {"status": 503, "body": "Service Unavailable"}
    slow = {"status": 200, "body": "late", "delay": 3}
    d.set_routes(healthy_routes({"/health": [e503, slow] * 60, "/api": [slow, e503] * 60}))
    check(d, lambda: d.platform_status()[0] == "down", 20, "acme is down", "acme was not marked down within 20s")
    expect_failover(d)
    step("Acme answers normally again")
    d.set_routes(healthy_routes({"/api": {"status": 200, "body": "{}"}}))
    expect_all_clear(d)
    expect_exactly_once(d)
    reasons = d.reasons().lower()
    expect("503" in reasons and ("timed out" in reasons or "timeout" in reasons),
           "the narrated reasons show both the 503s and the timeouts")


def drill_our_network_down(d):
    """Our own network fails: the platform and the control target both become unreachable."""
    d.start_stand_ins(healthy_routes())
    d.write_config([f"- http: {d.base}/health", "  expect_status: [200]"])
    d.start_daemon()
    d.watch()
    wait_operational(d)
    step("our network goes: the Acme stand-in and the control target (one process) stop answering at all")
    port = d.platform_port
    d.stop_platform()
    check(d, lambda: d.platform_status()[0] == "unknown", 20, "acme is unknown (our own network is down)",
          f"acme did not become unknown within 20s: {d.platform_status()}")
    say("waiting 8 s, well past failure_threshold (2 rounds) + grace (1 s)")
    time.sleep(8)
    expect(not d.emails(), f"no email was sent ({len(d.emails())})")
    expect(not d.webhook_types(), f"no webhook was sent ({d.webhook_types()})")
    expect(d.banner_active() is not True, "the banner never went up")
    expect(not any(s == "down" for _, s, _ in d.seen_states), "acme was never shown as down")
    step("the network comes back")
    d.start_platform(port=port)
    wait_operational(d, 20)
    time.sleep(3)
    expect(not d.emails() and not d.webhook_types(), "still no message to anyone, and no all-clear for an outage nobody heard of")
    inc = d.cli("incidents", "--json")
    expect('"id"' not in inc.stdout, "no incident was recorded")


def drill_flapping(d):
    """The platform flaps down/up; customers must get one outage email, not one per flap."""
    d.start_stand_ins(healthy_routes())
    d.write_config([f"- http: {d.base}/health", "  expect_status: [200]"],
                   platform_extra="    flap: {max_transitions: 4, window: 2m, stable_for: 5s}\n",
                   recovery_grace="10s")
    d.start_daemon()
    d.watch()
    wait_operational(d)
    step("Acme flaps: down 4 s, up 4 s, for 28 s (time scaled from ~20 s flaps over minutes; "
         "recovery_grace 10 s is longer than each up-period; flap damping: >4 changes in 2m holds it down until 5 s stable)")
    down = {"/health": {"status": 503, "body": "Service Unavailable"}, "/control": {"status": 204}}
    for i in range(7):
        d.set_routes(down if i % 2 == 0 else healthy_routes())
        say(f"stand-in: Acme {'DOWN' if i % 2 == 0 else 'up'}")
        time.sleep(4)
    expect(len(d.all_clear_emails()) == 0, f"no all-clear while it flapped ({len(d.all_clear_emails())} sent)")
    expect(len(d.outage_emails()) == RECIPIENTS,
           f"exactly one outage email per customer while it flapped ({len(d.outage_emails())} sent)")
    step("Acme stays up")
    d.set_routes(healthy_routes())
    expect_all_clear(d, 35)
    expect_exactly_once(d)
    expect(len(d.all_clear_emails()) == RECIPIENTS, f"exactly one all-clear per customer ({len(d.all_clear_emails())})")


def drill_manual_during_false_negative(d):
    """Probes say healthy, but the operator knows customers' messages are not arriving."""
    d.start_stand_ins(healthy_routes())
    d.write_config([f"- http: {d.base}/health", "  expect_status: [200]"])
    d.start_daemon()
    d.watch()
    wait_operational(d)
    step("the operator: detour failover start --business shop --reason 'DMs not arriving'")
    r = d.cli("failover", "start", "--business", "shop", "--reason", "DMs not arriving")
    say(f"detour: {(r.stdout + r.stderr).strip()}")
    expect(r.returncode == 0, f"failover start exited {r.returncode}")
    expect_failover(d, 20)
    say("probes still say healthy; waiting 4 s to see that they do not end a manual failover")
    time.sleep(4)
    expect(d.platform_status()[0] == "operational", "acme is still operational by the probes")
    expect(d.banner_active() is True and not d.all_clear_emails(), "the manual failover holds (banner up, no all-clear)")
    step("the operator: detour failover stop --business shop")
    r = d.cli("failover", "stop", "--business", "shop")
    say(f"detour: {(r.stdout + r.stderr).strip()}")
    expect(r.returncode == 0, f"failover stop exited {r.returncode}")
    expect_all_clear(d, 20)
    expect_exactly_once(d)


DRILLS = {
    "dns-outage": drill_dns_outage,
    "login-path": drill_login_path,
    "5xx-and-timeouts": drill_5xx_and_timeouts,
    "our-network-down": drill_our_network_down,
    "flapping": drill_flapping,
    "manual-during-false-negative": drill_manual_during_false_negative,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name", choices=list(DRILLS))
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the drill's temp dir (config, logs)")
    args = ap.parse_args()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    global CURRENT
    d = CURRENT = Drill(args.name, args.bin, keep=args.keep)
    print(f"--- drill {args.name}: {DRILLS[args.name].__doc__}", flush=True)
    verdict, code = None, 1
    try:
        DRILLS[args.name](d)
        verdict, code = f"PASS {args.name}", 0
    except DrillFailed as e:
        verdict = f"FAIL {args.name}: {e}"
        print("--- the daemon's log, last lines:\n" + d.log()[-2500:], flush=True)
    except SystemExit as e:
        verdict = f"FAIL {args.name}: interrupted"
        code = e.code if isinstance(e.code, int) else 1
    except Exception as e:  # a bug in the drill itself
        verdict = f"FAIL {args.name}: {type(e).__name__}: {e}"
    finally:
        d.cleanup()
    print(f"{verdict}  ({time.monotonic() - T0:.1f}s)", flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
