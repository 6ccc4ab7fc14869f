"""What the drill scripts (examples/drills/drill.py and examples/cluster/drills.py) give the real
daemon and read back: the Corner Shop's policy and audience, the fast health settings, the five
built-in platforms switched off, the stand-ins' routes files, and the webhooks a receiver got."""
import json, os

OUTAGE_TEXT = "Acme is down. Call us on 0161 496 0000."
RECOVERY_TEXT = "Acme is back."
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# detour.yaml: rounds every second, two to go down or come back; the built-in platforms unwatched.
FAST_PROBES = """probes:
  interval: 1s
  timeout: 1s
  jitter: 0
  failure_threshold: 2
  success_threshold: 2
"""
BUILTINS_OFF = """  facebook: {watch: false}
  instagram: {watch: false}
  threads: {watch: false}
  messenger: {watch: false}
  whatsapp: {watch: false}
"""


def policy_yaml(receiver_port, grace="1s", recovery_grace="2s", cooldown="1h"):
    """policies/shop.yaml: Acme's outage by email (../audience.csv), banner and a signed webhook."""
    return f"""business: shop
name: Corner Shop
depends_on: [acme]
grace: {grace}
recovery_grace: {recovery_grace}
cooldown: {cooldown}
message:
  outage: {OUTAGE_TEXT}
  recovery: {RECOVERY_TEXT}
contacts:
  - label: Call us
    url: tel:+441614960000
channels:
  email:
    smtp: local
    from: Corner Shop <hello@shop.example>
    audience: ../audience.csv
  banner:
    publish_dir: ../site/banner
  webhooks:
    - name: crm
      format: standard
      url: http://127.0.0.1:{receiver_port}/hook
      secret: {WEBHOOK_SECRET}
"""


def audience_csv(n):
    """customer1@example.test … customerN@example.test."""
    return "email,name,locale\n" + "".join(f"customer{i}@example.test,Customer {i},en\n" for i in range(1, n + 1))


def write_routes(path, routes):
    """Replaces an http_server.py stand-in's routes at once (it reads them on every request)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(routes, f)
    os.replace(tmp, path)


def webhook_types(log_path):
    """The `type` of every webhook a receiver stand-in logged at /hook, in order."""
    try:
        with open(log_path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    types = []
    for line in lines:
        try:
            r = json.loads(line)
            if r.get("path") == "/hook":
                types.append(json.loads(r.get("body") or "{}").get("type", "?"))
        except ValueError:
            pass
    return types
