#!/usr/bin/env python3
"""A stand-in for a Bluesky PDS (AT Protocol XRPC) on 127.0.0.1, checking requests as the reference PDS does.

Usage: bluesky_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log]
CONFIG.json (read on every request, so a test can change it):
  {"handle": "rosies.bsky.social", "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
   "app_password": "abcd-efgh-ijkl-mnop",             # or "app_passwords": [...]; what createSession accepts
   "password": "account-password",                    # optional: the account password (also accepted, as on a real PDS)
   "email": "rosie@example.com",                      # optional: also accepted as the identifier
   "accounts": [{"handle": ..., "did": ..., "app_password": ...}],   # more accounts, same keys
   "records": {"at://did:plc:.../app.bsky.feed.post/3k...": "bafyrei..."},   # existing records (uri -> cid)
   "expire_after": 3,                                 # access tokens expire after N uses (createRecord/getSession)
   "expire_after_seconds": 60,                        # ... or after S seconds (default 7,200, as the PDS)
   "refresh_grace": 7200,                             # seconds a rotated refresh token stays usable (PDS: 2 hours)
   "refresh_fails": 0,                                # the next N refreshSession calls get 400 ExpiredToken
   "rate_limited": 2,                                 # the next N createSession/createRecord calls get 429
   "reset_after": 3,                                  # seconds until the ratelimit-reset of those 429s (default 3)
   "server_errors": 0}                                # the next N createRecord calls get 500 InternalServerError

Methods: POST /xrpc/com.atproto.server.createSession {"identifier","password"} -> {accessJwt, refreshJwt, did,
handle, email?, emailConfirmed, active}; POST /xrpc/com.atproto.server.refreshSession (Bearer refreshJwt) ->
new accessJwt and refreshJwt; GET /xrpc/com.atproto.server.getSession (Bearer accessJwt);
POST /xrpc/com.atproto.repo.createRecord (Bearer accessJwt) {"repo","collection","record",...} ->
{"uri":"at://DID/app.bsky.feed.post/TID","cid":"bafyrei…","commit":{"cid","rev"},"validationStatus":"valid"}.
Errors are XRPC's {"error": NAME, "message": TEXT}:
  401 AuthMissing "Authentication Required" (no Bearer token); 400 InvalidToken "Token could not be verified"
  (unknown token) or "Invalid token type" (a refresh token where an access token belongs, or the reverse);
  400 ExpiredToken "Token has expired" (access token past expire_after / expire_after_seconds);
  401 AuthenticationRequired "Invalid identifier or password" (createSession);
  400 ExpiredToken "Token has been revoked" (refreshSession with a refresh token rotated more than
  refresh_grace seconds ago, or refresh_fails); 400 InvalidRequest "Could not find repo: X";
  401 AuthenticationRequired "Authentication Required" (repo is not the session's account);
  400 InvalidRequest "Wrong request encoding (Content-Type): ..."; 400 InvalidRequest "Input must have the
  property \"repo\"" and the like; 400 InvalidRequest "Invalid app.bsky.feed.post record: Record/text must not be
  longer than 300 graphemes" (and "... 3000 characters" for UTF-8 bytes), "Record must have the property
  \"createdAt\"", "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)",
  "Record/langs must not have more than 3 elements", "Record/facets/0/index/byteStart must be an integer", ...;
  429 RateLimitExceeded "Rate Limit Exceeded" with RateLimit-Limit / -Remaining / -Reset (unix seconds) /
  -Policy headers (sent on every createRecord too: "5000;w=3600", 3 points a record, as the PDS).
Stricter than the real PDS (it validates only the lexicon), each failure says "(stand-in check)":
  facet byte ranges must have 0 <= byteStart < byteEnd <= the text's UTF-8 length and fall on character
  boundaries, and a link facet's uri must equal the text at that range; reply root and parent must name
  records this server created (or "records") with the same cid.
A rotated refresh token, like the PDS, keeps working for refresh_grace seconds and yields the same next token id;
old access tokens stay valid until they expire (they are stateless JWTs on the PDS).
Every request is appended as one JSON line to CONFIG.json + ".log" (method, path, headers lowercased, the
parsed body with any "password" masked as "***", status, the record uri as "id" for createRecord, "token_use"
for each authenticated call, and "credential": "app_password" | "password" for createSession).
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.

Where the shapes come from: bluesky-social/atproto (packages/pds: createSession.ts rate limits 30/5 min and
300/day per identifier, refreshSession.ts "Token has been revoked"/ExpiredToken, account-manager
rotateRefreshToken with REFRESH_GRACE_MS = 2 hours and reuse giving the same next id, auth-verifier "Token has
expired"/ExpiredToken, "Token could not be verified"/InvalidToken, "Invalid token type", AuthMissing,
createRecord.ts "Could not find repo", AuthRequiredError for another repo, InvalidRecordError; packages/lexicon
validators: "must not be longer than N graphemes", "must be an valid atproto datetime (both RFC-3339 and
ISO-8601)"; lexicons/app/bsky/feed/post.json: text maxGraphemes 300, maxLength 3000, langs maxLength 3);
the "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes" message as
reported in public issues; docs.bsky.app rate limits. Graphemes are approximated with the standard library
(see graphemes()): combining marks, ZWJ sequences, variation selectors, skin-tone modifiers, flag pairs,
tag sequences, Hangul jamo and Indic conjuncts stay one grapheme.
"""
import argparse, base64, datetime, hashlib, json, re, secrets, threading, time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit
from standin import read_body, serve  # shared by the stand-ins

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
state = {"rate_limited_served": 0, "server_errors_served": 0, "refresh_fails_served": 0,
         "access": {}, "refresh_tokens": {}, "refresh": {}, "records": {}, "last_tid": 0, "writes": 0}
SERVICE_DID = "did:web:pds.example"
B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"
POST = "app.bsky.feed.post"
DATETIME = re.compile(r"^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,20})?(Z|([+-][0-2][0-9]:[0-5][0-9]))$")
HANDLE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
NSID = re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})?)+(\.[a-zA-Z]([a-zA-Z0-9]{0,62})?)$")
AT_URI = re.compile(r"^at://(did:[a-z]+:[a-zA-Z0-9._:%-]+|[a-zA-Z0-9.-]+)(/[a-zA-Z0-9.-]+(/[a-zA-Z0-9._~:@!$&')(*+,;=-]+)?)?$")
CID = re.compile(r"^[a-zA-Z0-9+=]{8,256}$")
LANG = re.compile(r"^(i|[a-z]{2,3})(-[a-zA-Z0-9]+)*$")
URI = re.compile(r"^\w+:(?:\/\/)?[^\s/][^\s]*$")


def load():
    with open(args.config) as f:
        return json.load(f)


from graphemes import graphemes  # shared with the other stand-in that counts graphemes


# --- identifiers ---------------------------------------------------------------------------------------------
def tid():
    with lock:
        micros = max(int(time.time() * 1_000_000), state["last_tid"] + 1)
        state["last_tid"] = micros
    n = (micros << 10) | 7
    return "".join(B32_SORT[(n >> (5 * i)) & 31] for i in reversed(range(13)))


def cid_for(obj):
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).digest()
    return "b" + base64.b32encode(b"\x01\x71\x12\x20" + digest).decode().lower().rstrip("=")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(typ, payload):
    header = {"typ": typ, "alg": "ES256K"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(secrets.token_bytes(64))])


def accounts(config):
    out = []
    for a in [config] + list(config.get("accounts", [])):
        if a.get("handle") or a.get("did"):
            pw = list(a.get("app_passwords", [])) + ([a["app_password"]] if a.get("app_password") else [])
            did = a.get("did") or "did:plc:" + hashlib.sha256(a["handle"].encode()).hexdigest()[:24]
            out.append({"handle": a.get("handle", "handle.invalid"), "did": did, "app_passwords": pw,
                        "password": a.get("password"), "email": a.get("email")})
    return out


def find_account(config, ident):
    ident = (ident or "").strip()
    for a in accounts(config):
        if ident == a["did"] or ident.lower() == a["handle"].lower() or (a["email"] and ident.lower() == a["email"].lower()):
            return a
    return None


def xerr(status, name, message, headers=None):
    return status, {"error": name, "message": message}, headers or {}, {}


def issue(account, scope, config):
    now = int(time.time())
    access = jwt("at+jwt", {"scope": scope, "sub": account["did"], "iat": now,
                            "exp": now + int(config.get("expire_after_seconds", 7200)), "aud": SERVICE_DID})
    with lock:
        state["access"][access] = {"did": account["did"], "created": time.time(), "uses": 0, "scope": scope}
    return access


def refresh_token(account, jti, scope):
    now = int(time.time())
    token = jwt("refresh+jwt", {"scope": "com.atproto.refresh", "sub": account["did"], "aud": SERVICE_DID,
                                "jti": jti, "iat": now, "exp": now + 90 * 86400})
    with lock:
        state["refresh_tokens"][token] = jti
        state["refresh"].setdefault(jti, {"did": account["did"], "next": None, "rotated_at": None, "scope": scope})
    return token


def bearer(headers):
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " and auth[7:].strip() else None


def verify_access(headers, config, info):
    token = bearer(headers)
    if token is None:
        return None, xerr(401, "AuthMissing", "Authentication Required")
    with lock:
        rec = state["access"].get(token)
        is_refresh = token in state["refresh_tokens"]
    if rec is None:
        return None, (xerr(400, "InvalidToken", "Invalid token type") if is_refresh
                      else xerr(400, "InvalidToken", "Token could not be verified"))
    with lock:
        rec["uses"] += 1
        uses = rec["uses"]
    info["token_use"] = uses
    limit = config.get("expire_after")
    if (limit is not None and uses > int(limit)) or time.time() - rec["created"] > float(config.get("expire_after_seconds", 7200)):
        return None, xerr(400, "ExpiredToken", "Token has expired")
    return rec, None


def rate_limit(config, now):
    with lock:
        limited = state["rate_limited_served"] < config.get("rate_limited", 0)
        if limited:
            state["rate_limited_served"] += 1
    if limited:
        return xerr(429, "RateLimitExceeded", "Rate Limit Exceeded",
                    {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0",
                     "RateLimit-Reset": str(int(now + float(config.get("reset_after", 3)))), "RateLimit-Policy": "5000;w=3600"})
    return None


def session_body(account, access, refresh):
    body = {"accessJwt": access, "refreshJwt": refresh, "handle": account["handle"], "did": account["did"],
            "didDoc": {"@context": ["https://www.w3.org/ns/did/v1"], "id": account["did"],
                       "alsoKnownAs": ["at://" + account["handle"]],
                       "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example"}]},
            "active": True}
    if account["email"]:
        body.update({"email": account["email"], "emailConfirmed": True})
    return body


# --- record validation ---------------------------------------------------------------------------------------
class Invalid(Exception):
    pass


def valid_datetime(s):
    if not isinstance(s, str) or not DATETIME.match(s) or s.endswith("-00:00"):
        return False
    try:
        datetime.datetime.fromisoformat(re.sub(r"\.(\d{1,6})\d*", r".\1", s).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def check_string(path, value, max_bytes=None, max_graphemes=None, fmt=None):
    if not isinstance(value, str):
        raise Invalid(f"{path} must be a string")
    if max_bytes is not None and len(value.encode()) > max_bytes:
        raise Invalid(f"{path} must not be longer than {max_bytes} characters")
    if max_graphemes is not None and graphemes(value) > max_graphemes:
        raise Invalid(f"{path} must not be longer than {max_graphemes} graphemes")
    if fmt == "uri" and not URI.match(value):
        raise Invalid(f"{path} must be a uri")
    if fmt == "at-uri" and not AT_URI.match(value):
        raise Invalid(f"{path} must be a valid at-uri")
    if fmt == "cid" and not CID.match(value):
        raise Invalid(f"{path} must be a cid string")
    if fmt == "did" and not DID.match(value):
        raise Invalid(f"{path} must be a valid did")
    if fmt == "language" and not LANG.match(value):
        raise Invalid(f"{path} must be a well-formed BCP 47 language tag")


def check_int(path, value, minimum=None):
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"{path} must be an integer")
    if minimum is not None and value < minimum:
        raise Invalid(f"{path} can not be less than {minimum}")


def need(path, obj, key):
    if not isinstance(obj, dict):
        raise Invalid(f"{path} must be an object")
    if key not in obj or obj[key] is None:
        raise Invalid(f"{path} must have the property \"{key}\"")
    return obj[key]


def validate_post(record, config):
    """The app.bsky.feed.post lexicon (what the PDS checks), then this stand-in's stricter checks."""
    text = need("Record", record, "text")
    check_string("Record/text", text, max_bytes=3000, max_graphemes=300)
    created = need("Record", record, "createdAt")
    check_string("Record/createdAt", created)
    if not valid_datetime(created):
        raise Invalid("Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)")
    if "langs" in record:
        langs = record["langs"]
        if not isinstance(langs, list):
            raise Invalid("Record/langs must be an array")
        if len(langs) > 3:
            raise Invalid("Record/langs must not have more than 3 elements")
        for i, lang in enumerate(langs):
            check_string(f"Record/langs/{i}", lang, fmt="language")
    facets = record.get("facets", [])
    if "facets" in record and not isinstance(facets, list):
        raise Invalid("Record/facets must be an array")
    for i, facet in enumerate(facets):
        p = f"Record/facets/{i}"
        if not isinstance(facet, dict):
            raise Invalid(f"{p} must be an object")
        index = need(p, facet, "index")
        if not isinstance(index, dict):
            raise Invalid(f"{p}/index must be an object")
        start, end = need(f"{p}/index", index, "byteStart"), need(f"{p}/index", index, "byteEnd")
        check_int(f"{p}/index/byteStart", start, 0)
        check_int(f"{p}/index/byteEnd", end, 0)
        features = need(p, facet, "features")
        if not isinstance(features, list):
            raise Invalid(f"{p}/features must be an array")
        for j, feature in enumerate(features):
            fp = f"{p}/features/{j}"
            if not isinstance(feature, dict):
                raise Invalid(f"{fp} must be an object")
            kind = feature.get("$type")
            if kind == "app.bsky.richtext.facet#link":
                check_string(f"{fp}/uri", need(fp, feature, "uri"), fmt="uri")
            elif kind == "app.bsky.richtext.facet#mention":
                check_string(f"{fp}/did", need(fp, feature, "did"), fmt="did")
            elif kind == "app.bsky.richtext.facet#tag":
                check_string(f"{fp}/tag", need(fp, feature, "tag"), max_bytes=640, max_graphemes=64)
            elif not isinstance(kind, str):
                raise Invalid(f"{fp} must be an object which includes the \"$type\" property")
    reply = record.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise Invalid("Record/reply must be an object")
        for part in ("root", "parent"):
            ref = need("Record/reply", reply, part)
            check_string(f"Record/reply/{part}/uri", need(f"Record/reply/{part}", ref, "uri"), fmt="at-uri")
            check_string(f"Record/reply/{part}/cid", need(f"Record/reply/{part}", ref, "cid"), fmt="cid")

    # --- stricter than the PDS ---
    raw = text.encode("utf-8")
    for i, facet in enumerate(facets):
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        where = f"Record/facets/{i}/index"
        if not (start < end <= len(raw)):
            raise Invalid(f"{where} (stand-in check): byteStart {start} and byteEnd {end} do not lie within the text's "
                          f"{len(raw)} UTF-8 bytes")
        for edge in (start, end):
            if edge < len(raw) and (raw[edge] & 0xC0) == 0x80:
                raise Invalid(f"{where} (stand-in check): byte {edge} is inside a UTF-8 character")
        for j, feature in enumerate(facet["features"]):
            if feature.get("$type") == "app.bsky.richtext.facet#link":
                covered = raw[start:end].decode("utf-8")
                if covered != feature["uri"]:
                    raise Invalid(f"Record/facets/{i}/features/{j}/uri (stand-in check): {feature['uri']!r} is not the "
                                  f"text at bytes {start}..{end}, which reads {covered!r}")
    if reply is not None:
        known = dict(config.get("records", {}))
        with lock:
            known.update(state["records"])
        for part in ("root", "parent"):
            ref = reply[part]
            if known.get(ref["uri"]) is None:
                raise Invalid(f"Record/reply/{part} (stand-in check): no record {ref['uri']}")
            if known[ref["uri"]] != ref["cid"]:
                raise Invalid(f"Record/reply/{part} (stand-in check): cid {ref['cid']} is not the record's cid {known[ref['uri']]}")


# --- methods -------------------------------------------------------------------------------------------------
def create_session(body, config, info):
    for key in ("identifier", "password"):
        if key not in body:
            return xerr(400, "InvalidRequest", f"Input must have the property \"{key}\"")
        if not isinstance(body[key], str):
            return xerr(400, "InvalidRequest", f"Input/{key} must be a string")
    limited = rate_limit(config, time.time())
    if limited:
        return limited
    account = find_account(config, body["identifier"])
    if account is None:
        return xerr(401, "AuthenticationRequired", "Invalid identifier or password")
    if body["password"] in account["app_passwords"]:
        info["credential"], scope = "app_password", "com.atproto.appPass"
    elif account["password"] and body["password"] == account["password"]:
        info["credential"], scope = "password", "com.atproto.access"
    else:
        return xerr(401, "AuthenticationRequired", "Invalid identifier or password")
    access = issue(account, scope, config)
    refresh = refresh_token(account, secrets.token_urlsafe(32), scope)
    return 200, session_body(account, access, refresh), {}, {}


def refresh_session(headers, config, info):
    token = bearer(headers)
    if token is None:
        return xerr(401, "AuthMissing", "Authentication Required")
    with lock:
        jti = state["refresh_tokens"].get(token)
        is_access = token in state["access"]
    if jti is None:
        return xerr(400, "InvalidToken", "Invalid token type") if is_access else xerr(400, "InvalidToken", "Token could not be verified")
    with lock:
        failing = state["refresh_fails_served"] < config.get("refresh_fails", 0)
        if failing:
            state["refresh_fails_served"] += 1
        rec = state["refresh"][jti]
        now = time.time()
        if not failing and rec["rotated_at"] is not None and now - rec["rotated_at"] > float(config.get("refresh_grace", 7200)):
            failing = True
        if not failing:
            info["reused"] = rec["rotated_at"] is not None
            rec["rotated_at"] = rec["rotated_at"] or now
            rec["next"] = rec["next"] or secrets.token_urlsafe(32)
            next_jti = rec["next"]
    if failing:
        return xerr(400, "ExpiredToken", "Token has been revoked")
    account = find_account(config, rec["did"]) or {"did": rec["did"], "handle": "handle.invalid", "email": None}
    access = issue(account, rec["scope"], config)
    refresh = refresh_token(account, next_jti, rec["scope"])
    return 200, session_body(account, access, refresh), {}, {}


def create_record(headers, body, config, info):
    rec, failure = verify_access(headers, config, info)
    if failure:
        return failure
    now = time.time()
    limited = rate_limit(config, now)
    if limited:
        return limited
    for key in ("repo", "collection", "record"):
        if key not in body:
            return xerr(400, "InvalidRequest", f"Input must have the property \"{key}\"")
    repo, collection, record = body["repo"], body["collection"], body["record"]
    if not isinstance(repo, str) or not (DID.match(repo) or HANDLE.match(repo)):
        return xerr(400, "InvalidRequest", "Input/repo must be a valid did or a handle")
    if not isinstance(collection, str) or not NSID.match(collection):
        return xerr(400, "InvalidRequest", "Input/collection must be a valid nsid")
    if not isinstance(record, dict):
        return xerr(400, "InvalidRequest", "Input/record must be an object")
    if "validate" in body and not isinstance(body["validate"], bool):
        return xerr(400, "InvalidRequest", "Input/validate must be a boolean")
    if body.get("rkey") is not None and (not isinstance(body["rkey"], str) or not re.fullmatch(r"[A-Za-z0-9._:~-]{1,512}", body["rkey"]) or body["rkey"] in (".", "..")):
        return xerr(400, "InvalidRequest", "Input/rkey must be a valid Record Key")
    account = find_account(config, repo)
    if account is None:
        return xerr(400, "InvalidRequest", f"Could not find repo: {repo}")
    if account["did"] != rec["did"]:
        return xerr(401, "AuthenticationRequired", "Authentication Required")
    if collection != POST:
        return xerr(400, "InvalidRequest", f"This stand-in stores only {POST} records, not {collection}")
    record = dict(record)
    record.setdefault("$type", collection)
    if record["$type"] != collection:
        return xerr(400, "InvalidRequest", f"Invalid $type: expected {collection}, got {record['$type']}")
    if body.get("validate") is not False:
        try:
            validate_post(record, config)
        except Invalid as e:
            return xerr(400, "InvalidRequest", f"Invalid {POST} record: {e}")
    with lock:
        failing = state["server_errors_served"] < config.get("server_errors", 0)
        if failing:
            state["server_errors_served"] += 1
    if failing:
        return xerr(500, "InternalServerError", "Internal Server Error")
    rkey = body.get("rkey") or tid()
    uri = f"at://{account['did']}/{collection}/{rkey}"
    with lock:
        if uri in state["records"]:
            return xerr(400, "InvalidRequest", f"Record already exists: {uri}")
    cid = cid_for(record)
    rev = tid()
    with lock:
        state["records"][uri] = cid
        state["writes"] += 1
        remaining = max(0, 5000 - 3 * state["writes"])
    info["id"] = uri
    out = {"uri": uri, "cid": cid, "commit": {"cid": cid_for({"rev": rev, "data": cid}), "rev": rev}}
    if body.get("validate") is not False:
        out["validationStatus"] = "valid"
    return 200, out, {"RateLimit-Limit": "5000", "RateLimit-Remaining": str(remaining),
                      "RateLimit-Reset": str(int(now) + 3600), "RateLimit-Policy": "5000;w=3600"}, {}


def answer(method, path, headers, raw, config):
    info = {}
    if not path.startswith("/xrpc/"):
        return (404, {"error": "NotFound", "message": "Not Found"}, {}, info)
    nsid = path[len("/xrpc/"):].rstrip("/")
    procedures = {"com.atproto.server.createSession", "com.atproto.server.refreshSession", "com.atproto.repo.createRecord"}
    queries = {"com.atproto.server.getSession"}
    if nsid not in procedures | queries:
        return (501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, {}, info)
    expected = "POST" if nsid in procedures else "GET"
    if method != expected:
        return (400, {"error": "InvalidRequest", "message": f"Incorrect HTTP method ({method}) expected {expected}"}, {}, info)
    body = {}
    if nsid in ("com.atproto.server.createSession", "com.atproto.repo.createRecord"):
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if not raw:
            return (400, {"error": "InvalidRequest", "message": "Request encoding (Content-Type) required but not provided"}, {}, info)
        if kind != "application/json":
            return (400, {"error": "InvalidRequest", "message": f"Wrong request encoding (Content-Type): {kind or '(none)'}"}, {}, info)
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            return (400, {"error": "InvalidRequest", "message": "Unable to parse request body as JSON"}, {}, info)
        if not isinstance(body, dict):
            return (400, {"error": "InvalidRequest", "message": "Input must be an object"}, {}, info)
    info["body"] = body
    if nsid == "com.atproto.server.createSession":
        result = create_session(body, config, info)
    elif nsid == "com.atproto.server.refreshSession":
        result = refresh_session(headers, config, info)
    elif nsid == "com.atproto.server.getSession":
        rec, failure = verify_access(headers, config, info)
        if failure:
            result = failure
        else:
            account = find_account(config, rec["did"]) or {"did": rec["did"], "handle": "handle.invalid", "email": None}
            out = {"handle": account["handle"], "did": account["did"], "active": True}
            if account.get("email"):
                out.update({"email": account["email"], "emailConfirmed": True})
            result = (200, out, {}, {})
    else:
        result = create_record(headers, body, config, info)
    status, payload, extra, _ = result
    return status, payload, extra, info


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the body must not wait on the client's delayed ACK of the headers

    def log_message(self, *a):
        pass

    def handle_any(self):
        raw = read_body(self)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, extra, info = answer(self.command, urlsplit(self.path).path, headers, raw, load())
        if not args.no_log:
            body = dict(info.get("body") or {})
            if "password" in body:
                body["password"] = "***"
            entry = {"method": self.command, "path": self.path, "headers": headers, "body": body,
                     "status": status, "id": info.get("id"), "at": time.time()}
            for key in ("token_use", "credential", "reused"):
                if key in info:
                    entry[key] = info[key]
            with lock, open(args.config + ".log", "a") as log:
                log.write(json.dumps(entry) + "\n")
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


serve(Handler, args.port, args.lifetime)
