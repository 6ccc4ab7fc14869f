#!/usr/bin/env python3
"""A stand-in for the Telegram Bot API (sendMessage, getMe) on 127.0.0.1, checking requests as Telegram does.

Usage: telegram_server.py CONFIG.json [--port N] [--lifetime SECONDS] [--no-log]
CONFIG.json (read on every request, so a test can change it):
  {"bot_token": "123456:ABC-DEF",                     # the one token it accepts
   "chats": ["@rosies", -1001234567890,               # chats the bot may post in: an id or @username, or
             {"id": -1001234567891, "username": "rosies_news", "type": "channel", "title": "Rosie's"}],
   "kicked": ["@gone"],                               # 403 "Forbidden: bot was kicked from the channel chat"
   "not_member": ["@never"],                          # 403 "Forbidden: bot is not a member of the channel chat"
   "deleted": {"@rosies": [1]},                       # messages since deleted (a reply to them finds nothing)
   "rate_limited": 2,                                 # the next N sendMessage calls get 429
   "retry_after": 3,                                  # the retry_after of those 429s (default 3)
   "server_errors": 0,                                # the next N sendMessage calls get 500 Internal Server Error
   "length_unit": "codepoints"}                       # how the 4,096 limit counts: "codepoints" (default) or "utf16"

POST (or GET) /bot<token>/<method> with JSON, a urlencoded or multipart form, or a query string, as the real
Bot API server (tdlib/telegram-bot-api) accepts. Methods are case-insensitive. Answers are always
{"ok": false, "error_code": N, "description": "..."} on failure, with "parameters": {"retry_after": N}
and a Retry-After header on 429; {"ok": true, "result": ...} on success. Checks, in this order:
  path must start with /bot (404 "Not Found"); token shape (401 "Unauthorized: invalid token specified");
  token known (401 "Unauthorized"); method known (404 "Not Found: method not found"); chat_id present
  (400 "Bad Request: chat_id is empty"); chat known (400 "Bad Request: chat not found"); kicked/not_member
  (403); text present and not only whitespace (400 "Bad Request: message text is empty"); text at most 4,096
  characters (400 "Bad Request: message is too long"); parse_mode one of Markdown/MarkdownV2/HTML
  (400 "Bad Request: unsupported parse_mode"); link_preview_options / reply_parameters JSON objects
  (400 "Bad Request: can't parse ... JSON object"); the replied-to message must be one this server sent in
  that chat and not deleted, unless allow_sending_without_reply (400 "Bad Request: message to be replied
  not found"); then server_errors and rate_limited. Success: the sent Message, message_id counting up from 1
  per chat; a channel post carries sender_chat, other chats carry from (the bot).
Every request is appended as one JSON line to CONFIG.json + ".log" (method, path, headers lowercased, the
parsed body, status, the message_id it handed out as "id", and "reply_to" when the reply was attached).
Prints "READY <port>" once listening; stops on SIGTERM or after --lifetime seconds.

Where the shapes come from: the Bot API docs (core.telegram.org/bots/api#sendmessage: "text ... 1-4096
characters after entities parsing"); tdlib/telegram-bot-api source (HttpConnection.cpp: 404 "Not Found" for a
path without /bot, Content-Type application/json, Retry-After header on 429; ClientManager.cpp: 401
"Unauthorized: invalid token specified" for a malformed token; Query.cpp: "Too Many Requests: retry after N"
with parameters.retry_after); error texts as reported by bot libraries ("Bad Request: chat not found",
"Bad Request: message text is empty", "Bad Request: message is too long", "Bad Request: message to be replied
not found" (Telegram's wording since 2024; it used to be "message to reply not found"), "Forbidden: bot is not
a member of the channel chat", "Forbidden: bot was kicked from the channel chat").
Length: Telegram's docs say "characters"; a live measurement reported in a public issue found 4,096 astral
emoji (8,192 UTF-16 units) accepted and 4,097 refused, i.e. code points, so that is the default here.
Entities are not parsed (Detour sends plain text): with a parse_mode the raw text is counted.
"""
import argparse, json, re, threading, time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from standin import read_body, multipart_fields, serve  # shared by the stand-ins

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--lifetime", type=float, default=600)
ap.add_argument("--no-log", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
state = {"rate_limited_served": 0, "server_errors_served": 0, "next_id": {}, "sent": {}}
BOT_ID = None


def load():
    with open(args.config) as f:
        return json.load(f)


def fail(code, description, **extra):
    body = {"ok": False, "error_code": code, "description": description}
    headers = {}
    if "retry_after" in extra:
        body["parameters"] = {"retry_after": extra["retry_after"]}
        headers["Retry-After"] = str(extra["retry_after"])
    return code, body, headers, {}


def chats(config):
    """Each configured chat as a dict with id, username, type, title."""
    out = []
    for entry in config.get("chats", []):
        if isinstance(entry, dict):
            chat = dict(entry)
        elif isinstance(entry, str) and entry.startswith("@"):
            # A public channel known by name: give it a stable numeric id, as Telegram would.
            chat = {"username": entry[1:], "id": -1000000000000 - (sum(map(ord, entry)) * 7919 % 999999)}
        else:
            chat = {"id": int(entry)}
        chat.setdefault("type", "channel" if int(chat["id"]) < -1000000000000 else ("private" if int(chat["id"]) > 0 else "group"))
        chat.setdefault("title", chat.get("username") or f"Chat {chat['id']}")
        out.append(chat)
    return out


def find_chat(config, chat_id):
    key = str(chat_id).strip()
    for chat in chats(config):
        if key == str(chat["id"]) or (chat.get("username") and key.lower() == "@" + chat["username"].lower()):
            return chat
    return None


def in_list(config, name, chat, chat_id):
    names = {str(chat["id"])} | ({"@" + chat["username"].lower()} if chat.get("username") else set()) | {str(chat_id).lower()}
    return any(str(x).lower() in names for x in config.get(name, []))


def chat_json(chat):
    out = {"id": int(chat["id"]), "type": chat["type"]}
    if chat["type"] == "private":
        out["first_name"] = chat.get("title")
    else:
        out["title"] = chat.get("title")
    if chat.get("username"):
        out["username"] = chat["username"]
    return out


def as_object(value):
    """A JSON-serialized object parameter: a dict in a JSON body, a JSON string in a form or query."""
    if value is None:
        return None, True
    if isinstance(value, dict):
        return value, True
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None, False
        return (parsed, True) if isinstance(parsed, dict) else (None, False)
    return None, False


def as_bool(value):
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


def as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def text_length(text, config):
    if config.get("length_unit") == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def answer(http_method, path, params, config):
    if not path.startswith("/bot"):
        return fail(404, "Not Found")
    rest = path[4:]
    token, _, method = rest.partition("/")
    if method.startswith("test/"):
        method = method[5:]
    if (not token or token[0] == "0" or len(token) > 80 or ":" not in token
            or not re.fullmatch(r"\d+", token.split(":", 1)[0])):
        return fail(401, "Unauthorized: invalid token specified")
    if token != config["bot_token"]:
        return fail(401, "Unauthorized")
    method = method.strip("/").lower()
    bot_id = int(token.split(":", 1)[0])
    if method == "getme":
        return 200, {"ok": True, "result": {"id": bot_id, "is_bot": True, "first_name": config.get("bot_name", "Detour"),
                                            "username": config.get("bot_username", "detour_bot")}}, {}, {}
    if method != "sendmessage":
        return fail(404, "Not Found: method not found")

    chat_id = params.get("chat_id")
    if chat_id is None or str(chat_id).strip() == "":
        return fail(400, "Bad Request: chat_id is empty")
    if isinstance(chat_id, (dict, list, bool, float)):
        return fail(400, "Bad Request: chat not found")
    chat = find_chat(config, chat_id)
    if chat is None:
        return fail(400, "Bad Request: chat not found")
    kind = "channel" if chat["type"] == "channel" else ("supergroup" if chat["type"] == "supergroup" else "group")
    if in_list(config, "kicked", chat, chat_id):
        return fail(403, f"Forbidden: bot was kicked from the {kind} chat")
    if in_list(config, "not_member", chat, chat_id):
        return fail(403, f"Forbidden: bot is not a member of the {kind} chat")

    text = params.get("text")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = json.dumps(text)
    if not isinstance(text, str) or not text.strip():
        return fail(400, "Bad Request: message text is empty")
    if text_length(text, config) > 4096:
        return fail(400, "Bad Request: message is too long")
    parse_mode = params.get("parse_mode")
    if parse_mode not in (None, "") and str(parse_mode).lower() not in ("markdown", "markdownv2", "html"):
        return fail(400, "Bad Request: unsupported parse_mode")
    preview, ok = as_object(params.get("link_preview_options"))
    if not ok:
        return fail(400, "Bad Request: can't parse link preview options JSON object")
    reply, ok = as_object(params.get("reply_parameters"))
    if not ok:
        return fail(400, "Bad Request: can't parse reply parameters JSON object")

    reply_to, allow_without = None, as_bool(params.get("allow_sending_without_reply", False))
    if reply is not None:
        reply_to = as_int(reply.get("message_id"))
        if reply_to is None:
            return fail(400, "Bad Request: can't parse reply parameters JSON object")
        allow_without = as_bool(reply.get("allow_sending_without_reply", False))
        if reply.get("chat_id") is not None and (find_chat(config, reply["chat_id"]) or {}).get("id") != chat["id"]:
            reply_to = -1  # a message in another chat: this stand-in has none
    elif params.get("reply_to_message_id") is not None:
        reply_to = as_int(params.get("reply_to_message_id"))
        if reply_to is None:
            return fail(400, "Bad Request: message to be replied not found")
    chat_key = str(chat["id"])
    replied = None
    if reply_to is not None:
        deleted = set()
        for key, ids in config.get("deleted", {}).items():
            other = find_chat(config, key)
            if other is not None and str(other["id"]) == chat_key:
                deleted |= {int(i) for i in ids}
        with lock:
            replied = state["sent"].get(chat_key, {}).get(reply_to)
        if replied is None or reply_to in deleted:
            if not allow_without:
                return fail(400, "Bad Request: message to be replied not found")
            replied = None

    with lock:
        failing = state["server_errors_served"] < config.get("server_errors", 0)
        if failing:
            state["server_errors_served"] += 1
        limited = not failing and state["rate_limited_served"] < config.get("rate_limited", 0)
        if limited:
            state["rate_limited_served"] += 1
    if failing:
        return fail(500, "Internal Server Error")
    if limited:
        seconds = int(config.get("retry_after", 3))
        return fail(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    with lock:
        message_id = state["next_id"].get(chat_key, 0) + 1
        state["next_id"][chat_key] = message_id
        message = {"message_id": message_id}
        if chat["type"] == "channel":
            message["sender_chat"] = chat_json(chat)
        else:
            message["from"] = {"id": bot_id, "is_bot": True, "first_name": config.get("bot_name", "Detour"),
                               "username": config.get("bot_username", "detour_bot")}
        message.update({"chat": chat_json(chat), "date": int(time.time()), "text": text})
        if replied is not None:
            message["reply_to_message"] = replied
        if preview:
            message["link_preview_options"] = {k: v for k, v in preview.items() if k in ("is_disabled", "url")}
        state["sent"].setdefault(chat_key, {})[message_id] = {k: v for k, v in message.items() if k != "reply_to_message"}
    return 200, {"ok": True, "result": message}, {}, {"id": message_id, "reply_to": replied and replied["message_id"]}


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
        return params
    if kind == "application/x-www-form-urlencoded":
        params.update({k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()})
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
            status, payload, extra, info = fail(400, "Bad Request: can't parse JSON object")
            params = {}
        else:
            status, payload, extra, info = answer(self.command, url.path, params, load())
        if not args.no_log:
            with lock, open(args.config + ".log", "a") as log:
                log.write(json.dumps({"method": self.command, "path": self.path, "headers": headers, "body": params,
                                      "status": status, "id": info.get("id"), "reply_to": info.get("reply_to"),
                                      "at": time.time()}) + "\n")
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


serve(Handler, args.port, args.lifetime)
