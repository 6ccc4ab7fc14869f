#!/usr/bin/env python3
"""A stand-in for Mastodon's POST /api/v1/statuses on 127.0.0.1, checking requests as Mastodon does.

Usage: mastodon_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log]
CONFIG.json (read on every request, so a test can change it):
  {"access_token": "tok",                             # a token it accepts (for the account "account" below)
   "scopes": "write:statuses",                        # that token's scopes (default "write:statuses")
   "tokens": {"tok2": {"account": "other", "scopes": "read"}},   # more tokens, each for an account
   "revoked_tokens": ["old"], "expired_tokens": ["stale"],       # 401 "...was revoked" / "...expired"
   "account": {"username": "rosies", "id": "109000000000000001", "display_name": "Rosie's"},
   "domain": "mastodon.example",                      # host used in url/uri (default mastodon.example)
   "statuses": ["110000000000000001"],                # ids of existing statuses one may reply to
   "deleted": ["110000000000000002"],                 # statuses deleted since (404 when replied to)
   "max_characters": 500,                             # the instance's limit (default 500)
   "idempotency_ttl": 3600,                           # seconds an Idempotency-Key is remembered (default 3600)
   "rate_limited": 2,                                 # the next N requests get 429
   "reset_after": 3,                                  # seconds until the X-RateLimit-Reset of those 429s (default 3)
   "server_errors": 0}                                # the next N requests get 503 (as a restarting instance would)

POST /api/v1/statuses with JSON, a urlencoded or multipart form, or a query string (Rails merges them).
Checks, in Mastodon's order: rate_limited (rack-attack runs before the app: 429 {"error":"Too many requests"}
with X-RateLimit-Limit / -Remaining "0" / -Reset as ISO 8601 with microseconds); the Bearer token (Doorkeeper:
401 {"error":"The access token is invalid"} plus WWW-Authenticate, or "...was revoked" / "...expired"); scope
write or write:statuses (403 {"error":"This action is outside the authorized scopes"}); in_reply_to_id exists
(404 {"error":"The post you are trying to reply to does not appear to exist."}); Idempotency-Key seen from the
same ACCOUNT within idempotency_ttl: the SAME status is returned (200, same id) and nothing is created, logged
as "replay": true; then validation, all 422 {"error":"Validation failed: ..."}: "Text can't be blank",
"Text character limit of 500 exceeded" (counted as Mastodon counts: grapheme clusters of spoiler_text + text,
every http(s) URL as 23, "@user@domain" as "@user"), "Visibility is not included in the list"
(public/unlisted/private/direct). A language that is not an ISO 639-1 code is ignored, as Mastodon does.
Success: 200 and a Status (id a snowflake string, created_at, content as HTML, url, uri, visibility,
in_reply_to_id, language, account, application, ...). Every response carries X-RateLimit-* headers.
Every request is appended as one JSON line to CONFIG.json + ".log" (method, path, headers lowercased, the
parsed body, status, the status id as "id", and "replay": true for an idempotent replay).
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.

Where the shapes come from: mastodon/mastodon source (Api::V1::StatusesController#set_thread for the 404 text;
PostStatusService: idempotency key "idempotency:status:ACCOUNT_ID:KEY" kept 3,600 s and checked before any
validation; StatusLengthValidator: each_grapheme_cluster, URL_PLACEHOLDER 'x' * 23, mentions counted by local
part, spoiler_text included; Status::Visibility enum with validate: true; config/initializers/rack_attack.rb:
throttled_responder with X-RateLimit-Reset iso8601(6) and body {error: I18n.t('errors.429')} = "Too many
requests", 300 requests per 5 minutes per token; Api::BaseController: doorkeeper_unauthorized_render_options,
"This action is outside the authorized scopes"); docs.joinmastodon.org (methods/statuses, entities/Status,
api/rate-limits). Graphemes are approximated with the standard library (see graphemes()).
"""
import argparse, datetime, html, itertools, json, re, threading, time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
state = {"rate_limited_served": 0, "server_errors_served": 0, "statuses": {}, "idempotency": {},
         "window": (0, 0), "seq": itertools.count()}
VISIBILITIES = ("public", "unlisted", "private", "direct")
URL = re.compile(r"https?://[^\s<>\"]+", re.I)
MENTION = re.compile(r"(?<![=/\w])@(\w+(?:[.-]+\w+)*)(?:@([\w.-]+\w))?", re.U)
ISO_639_1 = set("aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv "
                "dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii "
                "ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk "
                "ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc "
                "sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve "
                "vi vo wa wo xh yi yo za zh zu".split())


def load():
    with open(args.config) as f:
        return json.load(f)


from graphemes import graphemes  # shared with the other stand-in that counts graphemes
from standin import read_body, multipart_fields, serve  # shared by the stand-ins


def countable(text):
    """Mastodon's countable text: every http(s) URL becomes 23 characters, @user@domain becomes @user."""
    def url(m):
        u = m.group(0)
        trimmed = re.sub(r"[.,;:!?'\"]+$", "", u)
        if trimmed.endswith(")") and trimmed.count("(") < trimmed.count(")"):
            trimmed = trimmed[:-1]
        return "x" * 23 + u[len(trimmed):]
    text = URL.sub(url, text)
    return MENTION.sub(lambda m: "@" + m.group(1), text)


def content_html(text):
    def link(u):
        m = re.match(r"(https?://(?:www\.)?)(.*)", u, re.I)
        prefix, rest = m.group(1), m.group(2)
        shown, hidden = (rest[:30], rest[30:]) if len(rest) > 30 else (rest, "")
        return (f'<a href="{html.escape(u, quote=True)}" target="_blank" rel="nofollow noopener" translate="no">'
                f'<span class="invisible">{html.escape(prefix)}</span>'
                f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
                f'<span class="invisible">{html.escape(hidden)}</span></a>')

    def render(part):
        out, pos = [], 0
        for m in URL.finditer(part):
            u = re.sub(r"[.,;:!?'\"]+$", "", m.group(0))
            out.append(html.escape(part[pos:m.start()]))
            out.append(link(u))
            pos = m.start() + len(u)
        out.append(html.escape(part[pos:]))
        return "".join(out).replace("\n", "<br />")

    paragraphs = [p for p in re.split(r"\n{2,}", text.replace("\r\n", "\n").strip("\n")) if p]
    return "".join(f"<p>{render(p)}</p>" for p in paragraphs).replace("&#x27;", "&#39;")  # as Rails escapes


def iso(t, digits=3):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}"[:digits] + "Z"


def window(now):
    start = int(now) - int(now) % 300
    with lock:
        begun, used = state["window"]
        used = used + 1 if begun == start else 1
        state["window"] = (start, used)
    return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(max(0, 300 - used)),
            "X-RateLimit-Reset": iso(start + 300, 6)}


def error(status, message, headers=None):
    return status, {"error": message}, headers or {}, {}


def token_info(config, token):
    tokens = dict(config.get("tokens", {}))
    if config.get("access_token"):
        tokens[config["access_token"]] = {"account": config.get("account", {}).get("username", "rosies"),
                                          "scopes": config.get("scopes", "write:statuses")}
    return tokens.get(token)


def account_json(config, username):
    base = dict(config.get("account", {})) if username == config.get("account", {}).get("username", "rosies") else {}
    base.setdefault("username", username)
    base.setdefault("id", str(109000000000000000 + sum(map(ord, username))))
    domain = config.get("domain", "mastodon.example")
    return {"id": str(base["id"]), "username": base["username"], "acct": base["username"],
            "display_name": base.get("display_name", base["username"]), "locked": False, "bot": False,
            "url": f"https://{domain}/@{base['username']}", "avatar": f"https://{domain}/avatars/original/missing.png",
            "followers_count": 0, "following_count": 0, "statuses_count": 0, "created_at": "2024-01-01T00:00:00.000Z",
            "note": "", "fields": [], "emojis": []}


def answer(method, path, headers, params, config):
    now = time.time()
    rate = window(now)
    with lock:
        limited = state["rate_limited_served"] < config.get("rate_limited", 0)
        if limited:
            state["rate_limited_served"] += 1
    if limited:
        reset = now + float(config.get("reset_after", 3))
        return error(429, "Too many requests", {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                                "X-RateLimit-Reset": iso(reset, 6)})
    if path.rstrip("/") != "/api/v1/statuses" or method != "POST":
        return error(404, "Record not found", rate)

    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else params.get("access_token")
    challenge = lambda d: {**rate, "WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{d}"'}
    if token in config.get("revoked_tokens", []):
        return error(401, "The access token was revoked", challenge("The access token was revoked"))
    if token in config.get("expired_tokens", []):
        return error(401, "The access token expired", challenge("The access token expired"))
    info = token_info(config, token) if token else None
    if info is None:
        return error(401, "The access token is invalid", challenge("The access token is invalid"))
    scopes = info.get("scopes", "")
    scopes = scopes.split() if isinstance(scopes, str) else list(scopes)
    if not {"write", "write:statuses"} & set(scopes):
        return error(403, "This action is outside the authorized scopes",
                     {**rate, "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="insufficient_scope", '
                                                  'error_description="The request requires higher privileges than provided by the access token."'})
    username = info.get("account", config.get("account", {}).get("username", "rosies"))

    with lock:
        failing = state["server_errors_served"] < config.get("server_errors", 0)
        if failing:
            state["server_errors_served"] += 1
    if failing:
        return 503, {"error": "There was a temporary problem serving your request, please try again"}, rate, {}

    def scalar(name):
        v = params.get(name)
        if isinstance(v, (dict, list)):
            return None  # Rails' permit drops anything that is not a scalar
        if isinstance(v, bool):
            return "true" if v else "false"
        return None if v is None else str(v)

    reply_to = scalar("in_reply_to_id")
    parent = None
    if reply_to not in (None, ""):
        with lock:
            parent = state["statuses"].get(reply_to)
        if parent is None and reply_to in [str(x) for x in config.get("statuses", [])]:
            parent = {"id": reply_to, "account": {"id": "1"}}
        if parent is None or reply_to in [str(x) for x in config.get("deleted", [])]:
            return error(404, "The post you are trying to reply to does not appear to exist.", rate)

    key = headers.get("idempotency-key")
    ttl = float(config.get("idempotency_ttl", 3600))
    if key:
        with lock:
            seen = state["idempotency"].get((username, key))
        if seen and now - seen[1] < ttl:
            return 200, seen[0], rate, {"id": seen[0]["id"], "replay": True}

    text = scalar("status") or ""
    spoiler = scalar("spoiler_text") or ""
    if not text.strip():
        if spoiler.strip():
            text, spoiler = spoiler, ""  # a lone content warning becomes the text (PostStatusService)
        elif not params.get("media_ids") and not params.get("poll"):
            return error(422, "Validation failed: Text can't be blank", rate)
    limit = int(config.get("max_characters", 500))
    length = graphemes(spoiler + countable(text))
    errors = []
    if length > limit:
        errors.append(f"Text character limit of {limit} exceeded")
    visibility = scalar("visibility") or "public"
    if visibility not in VISIBILITIES:
        errors.append("Visibility is not included in the list")
    if errors:
        return error(422, "Validation failed: " + ", ".join(errors), rate)
    language = (scalar("language") or "").strip().lower()
    language = language if language in ISO_639_1 else None

    domain = config.get("domain", "mastodon.example")
    with lock:
        status_id = str((int(now * 1000) << 16) + (next(state["seq"]) % 65536))
    account = account_json(config, username)
    status = {
        "id": status_id, "created_at": iso(now), "in_reply_to_id": parent and parent["id"],
        "in_reply_to_account_id": parent and parent["account"]["id"], "sensitive": bool(spoiler) or scalar("sensitive") == "true",
        "spoiler_text": spoiler, "visibility": visibility, "language": language,
        "uri": f"https://{domain}/users/{username}/statuses/{status_id}", "url": f"https://{domain}/@{username}/{status_id}",
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": None,
        "favourited": False, "reblogged": False, "muted": False, "bookmarked": False, "pinned": False,
        "content": content_html(text), "filtered": [], "reblog": None,
        "application": {"name": config.get("application", "Detour"), "website": None},
        "account": account, "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
    }
    with lock:
        state["statuses"][status_id] = status
        if key:
            state["idempotency"][(username, key)] = (status, now)
    return 200, status, rate, {"id": status_id}


def parse_params(query, raw, content_type):
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" and raw:
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return None
        if isinstance(body, dict):
            params.update(body)
    elif kind == "application/x-www-form-urlencoded":
        for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items():
            params[k[:-2] if k.endswith("[]") else k] = v if k.endswith("[]") else v[0]
    elif kind == "multipart/form-data":
        params.update(multipart_fields(raw, content_type))
    return params


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the body must not wait on the client's delayed ACK of the headers

    def log_message(self, *a):
        pass

    def handle_any(self):
        raw = read_body(self)
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urlsplit(self.path)
        params = parse_params(url.query, raw, headers.get("content-type", ""))
        if params is None:
            status, payload, extra, info = error(400, "Error occurred while parsing request parameters")
            params = {}
        else:
            status, payload, extra, info = answer(self.command, url.path, headers, params, load())
        if not args.no_log:
            entry = {"method": self.command, "path": self.path, "headers": headers, "body": params,
                     "status": status, "id": info.get("id"), "at": time.time()}
            if info.get("replay"):
                entry["replay"] = True
            with lock, open(args.config + ".log", "a") as log:
                log.write(json.dumps(entry) + "\n")
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


serve(Handler, args.port, args.lifetime)
