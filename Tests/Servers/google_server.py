#!/usr/bin/env python3
"""A stand-in for Google's OAuth token endpoint and the Business Profile (My Business v4) localPosts API on
127.0.0.1, checking requests as Google does.

Usage: google_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log]
CONFIG.json (read on every request, so a test can change it):
  {"client_id": "1234-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
   "refresh_token": "1//0gAbC",                       # or "refresh_tokens": [...]: the ones it honours
   "revoked": ["1//0gOld"],                           # 400 invalid_grant "Token has been expired or revoked."
   "expires_in": 3599,                                # lifetime of access tokens it issues (default 3599)
   "expire_tokens_after": 2,                          # access tokens stop working after N localPosts calls
   "accounts": {"1234567890": ["9876543210"]},        # account id -> the location ids the user manages
   "initial_state": "LIVE",                           # state of a new post (default LIVE; PROCESSING happens too)
   "rate_limited": 2,                                 # the next N localPosts calls get 429 RESOURCE_EXHAUSTED
   "server_errors": 0}                                # the next N localPosts calls get 503 UNAVAILABLE

POST /token (form, or JSON; client credentials in the body or HTTP Basic), grant_type=refresh_token:
  200 {"access_token":"ya29.…","expires_in":3599,"scope":"https://www.googleapis.com/auth/business.manage",
  "token_type":"Bearer"}. Errors (OAuth 2.0 JSON): 400 unsupported_grant_type "Invalid grant_type: X";
  400 invalid_request "Could not determine client ID from request."; 401 invalid_client "The OAuth client was
  not found."; 400 invalid_request "client_secret is missing."; 401 invalid_client "Unauthorized" (wrong
  secret); 400 invalid_request "Missing required parameter: refresh_token"; 400 invalid_grant "Token has been
  expired or revoked." (revoked); 400 invalid_grant "Bad Request" (a refresh token it never issued).
POST /v4/accounts/{account}/locations/{location}/localPosts (Bearer, JSON LocalPost). Errors are Google's
  {"error": {"code", "message", "status", "details"?}}: 401 UNAUTHENTICATED ("Request is missing required
  authentication credential. ..." / "Request had invalid authentication credentials. ..." with a
  WWW-Authenticate header, for a missing, unknown, expired or used-up token); 403 PERMISSION_DENIED "The caller
  does not have permission" (an account the user does not manage); 404 NOT_FOUND "Requested entity was not
  found." (a location not in that account); 400 INVALID_ARGUMENT for JSON the proto cannot take ("Invalid JSON
  payload received. Unknown name \"x\": Cannot find field.", "Invalid value at 'local_post.topic_type'
  (type.googleapis.com/google.mybusiness.v4.LocalPostTopicType), \"X\"", with google.rpc.BadRequest
  fieldViolations) and "Request contains an invalid argument." with a google.mybusiness.v4.ValidationError
  detail for: topicType missing; summary missing or over 1,500 characters; callToAction without a valid
  actionType, without an http(s) url (unless CALL), or with a url for CALL; EVENT/OFFER without event; ALERT
  without alertType; a malformed languageCode; 429 RESOURCE_EXHAUSTED (rate_limited); 503 UNAVAILABLE.
  Success: 200 LocalPost {name "accounts/A/locations/L/localPosts/ID", languageCode, summary, callToAction,
  createTime, updateTime, state, topicType, searchUrl}.
Every request is appended as one JSON line to CONFIG.json + ".log" (method, path, headers lowercased, the
parsed body with client_secret and refresh_token masked as "***", status, and as "id" the access token issued
or the post's name).
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.

Where the shapes come from: developers.google.com/my-business (reference/rest/v4/accounts.locations.localPosts,
LocalPost, CallToAction.ActionType, LocalPostTopicType, Shared.Types/ValidationError, content/posts-data) and
developers.google.com/identity/protocols/oauth2 (token endpoint); error strings as reported in public issues
("The OAuth client was not found.", "Unauthorized", "Token has been expired or revoked.", "Bad Request",
"Invalid grant_type: "); the google.rpc.Status / ErrorInfo / BadRequest error model shared by Google APIs.
Not confirmed against the live API: the exact ValidationError codes and messages (the code numbers used here
are placeholders), and whether an unknown location under a managed account is 404 or 403.
"""
import argparse, base64, datetime, json, re, secrets, threading, time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from standin import read_body, serve  # shared by the stand-ins

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
state = {"rate_limited_served": 0, "server_errors_served": 0, "tokens": {}}
POSTS = re.compile(r"^/v4/accounts/([^/]+)/locations/([^/]+)/localPosts$")
SCOPE = "https://www.googleapis.com/auth/business.manage"
ACTION_TYPES = ("ACTION_TYPE_UNSPECIFIED", "BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "GET_OFFER", "CALL")
TOPIC_TYPES = ("LOCAL_POST_TOPIC_TYPE_UNSPECIFIED", "STANDARD", "EVENT", "OFFER", "ALERT")
ALERT_TYPES = ("ALERT_TYPE_UNSPECIFIED", "COVID_19")
# LocalPost fields (lowerCamel JSON name -> proto name); the proto parser accepts either spelling.
FIELDS = {"name": "name", "languageCode": "language_code", "summary": "summary", "callToAction": "call_to_action",
          "createTime": "create_time", "updateTime": "update_time", "event": "event", "state": "state",
          "media": "media", "searchUrl": "search_url", "topicType": "topic_type", "alertType": "alert_type",
          "offer": "offer"}
CTA_FIELDS = {"actionType": "action_type", "url": "url"}
AUTH_HELP = ("Expected OAuth 2 access token, login cookie or other valid authentication credential. "
             "See https://developers.google.com/identity/sign-in/web/devconsole-project.")


def load():
    with open(args.config) as f:
        return json.load(f)


def oauth_error(status, error, description):
    return status, {"error": error, "error_description": description}, {}, {}


def gerror(code, status, message, details=None, headers=None):
    body = {"error": {"code": code, "message": message, "status": status}}
    if details:
        body["error"]["details"] = details
    return code, body, headers or {}, {}


def now_rfc3339():
    d = datetime.datetime.now(datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}000Z"


def token(params, headers, config):
    grant = params.get("grant_type", "")
    if grant != "refresh_token":
        if grant in ("authorization_code", "client_credentials", "password",
                     "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code"):
            return oauth_error(400, "invalid_grant", "Bad Request")
        return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
    client_id, secret = params.get("client_id"), params.get("client_secret")
    auth = headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except ValueError:
            return oauth_error(400, "invalid_request", "Could not determine client ID from request.")
    if not client_id:
        return oauth_error(400, "invalid_request", "Could not determine client ID from request.")
    if client_id != config["client_id"]:
        return oauth_error(401, "invalid_client", "The OAuth client was not found.")
    if not secret:
        return oauth_error(400, "invalid_request", "client_secret is missing.")
    if secret != config["client_secret"]:
        return oauth_error(401, "invalid_client", "Unauthorized")
    refresh = params.get("refresh_token")
    if not refresh:
        return oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
    if refresh in config.get("revoked", []):
        return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
    known = list(config.get("refresh_tokens", [])) + ([config["refresh_token"]] if config.get("refresh_token") else [])
    if refresh not in known:
        return oauth_error(400, "invalid_grant", "Bad Request")
    access = "ya29.a0" + secrets.token_urlsafe(96)
    expires_in = int(config.get("expires_in", 3599))
    with lock:
        state["tokens"][access] = {"issued": time.time(), "expires": time.time() + expires_in, "uses": 0}
    return 200, {"access_token": access, "expires_in": expires_in, "scope": SCOPE, "token_type": "Bearer"}, {}, {"id": access}


def unauthenticated(missing):
    reason = "CREDENTIALS_MISSING" if missing else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
    message = ("Request is missing required authentication credential. " if missing
               else "Request had invalid authentication credentials. ") + AUTH_HELP
    return gerror(401, "UNAUTHENTICATED", message,
                  [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
                    "metadata": {"service": "mybusiness.googleapis.com", "method": "google.mybusiness.v4.LocalPosts.CreateLocalPost"}}],
                  {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"' + ("" if missing else ', error="invalid_token"')})


def bad_json(message, field=None):
    violation = {"description": message}
    if field:
        violation = {"field": field, "description": message}
    return gerror(400, "INVALID_ARGUMENT", message,
                  [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}])


def invalid(field, message):
    return gerror(400, "INVALID_ARGUMENT", "Request contains an invalid argument.",
                  [{"@type": "type.googleapis.com/google.mybusiness.v4.ValidationError",
                    "errorDetails": [{"code": 3, "field": field, "message": message}]}])


def normalise(obj, fields, where):
    """Map lowerCamel or proto names to lowerCamel, refusing unknown names as the JSON parser does."""
    out = {}
    protos = {v: k for k, v in fields.items()}
    for key, value in obj.items():
        name = key if key in fields else protos.get(key)
        if name is None:
            at = f" at '{where}'" if where != "local_post" else ""
            return None, bad_json(f"Invalid JSON payload received. Unknown name \"{key}\"{at}: Cannot find field.",
                                  where if at else None)
        out[name] = value
    return out, None


def check_type(field, value, kind, enum=None):
    if kind == "string" and not isinstance(value, str):
        return bad_json(f"Invalid value at '{field}' (TYPE_STRING), {json.dumps(value)}", field)
    if kind == "enum":
        if not isinstance(value, str) or value not in enum[1]:
            return bad_json(f"Invalid value at '{field}' (type.googleapis.com/google.mybusiness.v4.{enum[0]}), {json.dumps(value)}", field)
    return None


def local_post(account, location, headers, raw, config, info):
    auth = headers.get("authorization", "")
    if auth[:7].lower() != "bearer " or not auth[7:].strip():
        return unauthenticated(True)
    access = auth[7:].strip()
    with lock:
        rec = state["tokens"].get(access)
        if rec is not None:
            rec["uses"] += 1
            info["token_use"] = rec["uses"]
    if rec is None or time.time() > rec["expires"] or \
            ("expire_tokens_after" in config and rec["uses"] > int(config["expire_tokens_after"])):
        return unauthenticated(False)
    with lock:
        limited = state["rate_limited_served"] < config.get("rate_limited", 0)
        if limited:
            state["rate_limited_served"] += 1
        failing = not limited and state["server_errors_served"] < config.get("server_errors", 0)
        if failing:
            state["server_errors_served"] += 1
    if limited:
        return gerror(429, "RESOURCE_EXHAUSTED",
                      "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service "
                      "'mybusiness.googleapis.com' for consumer 'project_number:123456789012'.",
                      [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                        "domain": "googleapis.com",
                        "metadata": {"quota_metric": "mybusiness.googleapis.com/default_requests", "quota_limit": "DefaultRequestsPerMinutePerProject",
                                     "service": "mybusiness.googleapis.com", "consumer": "projects/123456789012", "quota_limit_value": "300"}}])
    if failing:
        return gerror(503, "UNAVAILABLE", "The service is currently unavailable.")
    accounts = {str(k): [str(x) for x in v] for k, v in config.get("accounts", {}).items()}
    if account not in accounts:
        return gerror(403, "PERMISSION_DENIED", "The caller does not have permission")
    if location not in accounts[account]:
        return gerror(404, "NOT_FOUND", "Requested entity was not found.")

    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        return bad_json("Invalid JSON payload received. Unexpected token.")
    if not isinstance(body, dict):
        return bad_json("Invalid JSON payload received. Expected an object key or }.")
    post, failure = normalise(body, FIELDS, "local_post")
    if failure:
        return failure
    for name, kind, enum in (("languageCode", "string", None), ("summary", "string", None),
                             ("topicType", "enum", ("LocalPostTopicType", TOPIC_TYPES)),
                             ("alertType", "enum", ("LocalPost.AlertType", ALERT_TYPES))):
        if name in post and post[name] is not None:
            failure = check_type("local_post." + FIELDS[name], post[name], kind, enum)
            if failure:
                return failure
    cta = post.get("callToAction")
    if cta is not None:
        if not isinstance(cta, dict):
            return bad_json(f"Invalid value at 'local_post.call_to_action' (type.googleapis.com/google.mybusiness.v4.CallToAction), {json.dumps(cta)}",
                            "local_post.call_to_action")
        cta, failure = normalise(cta, CTA_FIELDS, "local_post.call_to_action")
        if failure:
            return failure
        if "actionType" in cta:
            failure = check_type("local_post.call_to_action.action_type", cta["actionType"], "enum",
                                 ("CallToAction.ActionType", ACTION_TYPES))
            if failure:
                return failure
        if "url" in cta:
            failure = check_type("local_post.call_to_action.url", cta["url"], "string")
            if failure:
                return failure

    topic = post.get("topicType") or "LOCAL_POST_TOPIC_TYPE_UNSPECIFIED"
    if topic == "LOCAL_POST_TOPIC_TYPE_UNSPECIFIED":
        return invalid("topic_type", "topicType is required.")
    summary = post.get("summary") or ""
    if not summary.strip() and not post.get("media"):
        return invalid("summary", "summary is required.")
    if len(summary) > 1500:
        return invalid("summary", "summary must be at most 1500 characters.")
    language = post.get("languageCode")
    if language is not None and not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", language):
        return invalid("language_code", "languageCode is not a valid BCP 47 language code.")
    if topic in ("EVENT", "OFFER") and not isinstance(post.get("event"), dict):
        return invalid("event", "event is required for EVENT and OFFER posts.")
    if topic == "ALERT" and post.get("alertType") in (None, "ALERT_TYPE_UNSPECIFIED"):
        return invalid("alert_type", "alertType is required for ALERT posts.")
    if cta is not None:
        action = cta.get("actionType", "ACTION_TYPE_UNSPECIFIED")
        url = cta.get("url")
        if action in ("ACTION_TYPE_UNSPECIFIED", "GET_OFFER"):
            return invalid("call_to_action.action_type", f"actionType {action} is not allowed.")
        if action == "CALL":
            if url:
                return invalid("call_to_action.url", "url must be empty for a CALL action.")
        elif not url or not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", url):
            return invalid("call_to_action.url", "url must be a valid http or https URL.")

    post_id = str(secrets.randbelow(9 * 10 ** 18) + 10 ** 18)
    name = f"accounts/{account}/locations/{location}/localPosts/{post_id}"
    stamp = now_rfc3339()
    out = {"name": name}
    if language is not None:
        out["languageCode"] = language
    out["summary"] = summary
    if cta is not None:
        out["callToAction"] = {k: v for k, v in cta.items() if v is not None}
    for key in ("event", "offer", "media", "alertType"):
        if post.get(key) is not None:
            out[key] = post[key]
    out.update({"createTime": stamp, "updateTime": stamp, "state": config.get("initial_state", "LIVE"),
                "topicType": topic,
                "searchUrl": f"https://local.google.com/place?id={int(location) * 7 % 10 ** 19 if location.isdigit() else 0}"
                             f"&use=posts&lpsid=CIHM0ogKEICAgI{base64.urlsafe_b64encode(post_id[-9:].encode()).decode().rstrip('=')}"})
    info["id"] = name
    return 200, out, {}, {}


def answer(method, path, headers, query, raw, config):
    info = {}
    if path.rstrip("/") in ("/token", "/oauth2/v4/token"):
        if method != "POST":
            return 405, {"error": "invalid_request", "error_description": "Bad Request"}, {}, info
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                body = json.loads(raw.decode("utf-8") or "{}")
            except ValueError:
                return 400, {"error": "invalid_request", "error_description": "Bad Request"}, {}, info
            params.update({k: v for k, v in body.items() if isinstance(v, str)} if isinstance(body, dict) else {})
        else:
            params.update({k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()})
        info["body"] = {k: ("***" if k in ("client_secret", "refresh_token") else v) for k, v in params.items()}
        status, payload, extra, more = token(params, headers, config)
        info.update(more)
        return status, payload, {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache", **extra}, info
    m = POSTS.match(path)
    try:
        info["body"] = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except ValueError:
        info["body"] = raw.decode("utf-8", "replace")
    if m and method == "POST":
        status, payload, extra, _ = local_post(m.group(1), m.group(2), headers, raw, config, info)
        return status, payload, extra, info
    return gerror(404, "NOT_FOUND", "Requested entity was not found.")[:3] + (info,)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the body must not wait on the client's delayed ACK of the headers

    def log_message(self, *a):
        pass

    def handle_any(self):
        raw = read_body(self)
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urlsplit(self.path)
        status, payload, extra, info = answer(self.command, url.path, headers, url.query, raw, load())
        if not args.no_log:
            entry = {"method": self.command, "path": self.path, "headers": headers, "body": info.get("body"),
                     "status": status, "id": info.get("id"), "at": time.time()}
            if "token_use" in info:
                entry["token_use"] = info["token_use"]
            with lock, open(args.config + ".log", "a") as log:
                log.write(json.dumps(entry) + "\n")
        data = json.dumps(payload, ensure_ascii=False, indent=2).encode()
        self.send_response(status)
        oauth = "error_description" in payload or "access_token" in payload
        self.send_header("Content-Type", "application/json; charset=utf-8" if oauth else "application/json; charset=UTF-8")
        self.send_header("Vary", "Origin, X-Origin, Referer")
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


serve(Handler, args.port, args.lifetime)
