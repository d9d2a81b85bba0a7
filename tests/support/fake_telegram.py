"""A minimal fake Telegram Bot API on loopback, for the gateway's tests.

Implements what python-telegram-bot calls for long polling and replies:
getMe, deleteWebhook, getUpdates (queued updates, offset, a short long-poll),
sendMessage (recorded), sendChatAction, answerCallbackQuery, editMessageText,
close/logOut. Any other method is recorded in `unknown` and answered with
{"ok": true, "result": true}, so a test sees what else the library tried.
Requests arrive as /bot<token>/<method>, form-encoded (or JSON) as PTB sends them.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "社会救助助手",
    "username": "jiuzhu_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Form fields whose values are JSON objects or arrays (the others are used as strings).
JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "reply_parameters", "link_preview_options"}
LONG_POLL_CAP = 1.0  # seconds getUpdates waits at most for an update (Telegram waits `timeout`)


class FakeTelegram:
    def __init__(self, token: str):
        self.token = token
        self.updates: list[dict] = []
        self.sent: list[dict] = []  # sendMessage / editMessageText params, JSON values decoded
        self.calls: list[str] = []  # every method called, in order
        self.unknown: list[str] = []  # methods this fake does not implement
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ what tests do
    def user_says(self, chat_id: int, text: str) -> int:
        """Queues a private text message from a resident; returns its update_id.

        Like Telegram, marks a leading /command with a bot_command entity.
        """
        if text.startswith("/"):
            entity = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            return self.user_sends(chat_id, text=text, entities=[entity])
        return self.user_sends(chat_id, text=text)

    def user_sends(self, chat_id: int, chat_type: str = "private", **content: Any) -> int:
        """Queues any message (text=…, location=…) from a resident."""
        return self._push(
            {
                "message": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": chat_type, "first_name": "居民"},
                    "from": {"id": abs(chat_id), "is_bot": False, "first_name": "居民"},
                    **content,
                }
            }
        )

    def user_presses(self, chat_id: int, message: dict, data: str) -> int:
        """Queues a press of an inline button on a message the bot sent."""
        return self._push(
            {
                "callback_query": {
                    "id": str(next(self._ids)),
                    "chat_instance": str(chat_id),
                    "data": data,
                    "from": {"id": chat_id, "is_bot": False, "first_name": "居民"},
                    "message": {**message, "from": BOT_USER},
                }
            }
        )

    def messages_to(self, chat_id: int) -> list[dict]:
        with self._cond:
            return [m for m in self.sent if m["method"] == "sendMessage" and int(m["chat_id"]) == chat_id]

    def wait_for(self, chat_id: int, contains: str | tuple[str, ...], after: int = 0, timeout: float = 60) -> dict:
        """The first message to chat_id (from index `after`) whose text contains every string."""
        wanted = (contains,) if isinstance(contains, str) else contains
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages_to(chat_id)[after:]:
                    if all(w in m["text"] for w in wanted):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    texts = "\n---\n".join(m["text"] for m in self.messages_to(chat_id)[after:])
                    raise AssertionError(f"no message to {chat_id} with {wanted}; got:\n{texts}")
                self._cond.wait(min(left, 0.5))

    # ------------------------------------------------------------------ Bot API
    def _push(self, update: dict) -> int:
        with self._cond:
            update_id = next(self._ids)
            self.updates.append({"update_id": update_id, **update})
            self._cond.notify_all()
            return update_id

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        self.calls.append(method)
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            message = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params["text"],
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            with self._cond:
                self.sent.append({"method": method, **params, "message": message})
                self._cond.notify_all()
            return message
        if method in ("deleteWebhook", "sendChatAction", "answerCallbackQuery", "close", "logOut"):
            return True
        self.unknown.append(method)
        return True

    def _get_updates(self, params: dict[str, Any]) -> list[dict]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        deadline = time.monotonic() + wait
        with self._cond:
            # Telegram forgets updates below the offset: they are confirmed.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return [u for u in self.updates if u["update_id"] >= offset][: int(params.get("limit") or 100)]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._handle()

            def do_GET(self) -> None:
                self._handle()

            def _handle(self) -> None:
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                method = self.path[len(prefix) :].split("?", 1)[0]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or "{}")
                else:  # PTB: form fields, each value JSON-encoded unless it is a plain string
                    params = {
                        k: json.loads(v) if k in JSON_FIELDS else v for k, v in parse_qsl(body, keep_blank_values=True)
                    }
                self._reply(200, {"ok": True, "result": fake._call(method, params)})

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the gateway stopped mid long-poll
                    pass

            def log_message(self, *args) -> None:  # quiet
                pass

        return Handler
