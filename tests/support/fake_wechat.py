"""A minimal fake WeChat server API on loopback, and what WeChat's push looks like, for
the WeChat gateway's tests (bot/channels/wechat.py).

The fake serves:
- GET  /cgi-bin/token: a new access_token per call (`token_calls` counts them); `expire_tokens()`
  makes every issued one expired (errcode 42001), as WeChat does after expires_in;
- POST /cgi-bin/message/custom/send: recorded in `sent` (openid, text); `fail_next(40001)`
  answers one call with that errcode; residents in `closed_window` get 45015 (the 48-hour
  window has closed);
- POST /cgi-bin/menu/create: recorded in `menus`.
Anything else is recorded in `unknown` and answered with errcode 40004.

`Push` builds what WeChat POSTs to the account's server URL: signed query strings,
message XML, and safe-mode (AES) bodies, with WeChat's own algorithm (wechatpy).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from wechatpy.crypto import WeChatCrypto

from tests.support.json_http import send_json


class FakeWeChat:
    def __init__(self, app_id: str, app_secret: str, expires_in: int = 7200):
        self.app_id, self.app_secret, self.expires_in = app_id, app_secret, expires_in
        self.token_calls = 0
        self.valid: set[str] = set()
        self.expired: set[str] = set()
        self.sent: list[dict] = []
        self.menus: list[dict] = []
        self.refused: list[dict] = []  # custom/send calls answered with an errcode
        self.unknown: list[str] = []
        self.closed_window: set[str] = set()
        self._fail_next: list[int] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeWeChat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ what tests do
    def expire_tokens(self) -> None:
        with self._cond:
            self.expired |= self.valid
            self.valid.clear()

    def fail_next(self, errcode: int) -> None:
        with self._cond:
            self._fail_next.append(errcode)

    def messages_to(self, openid: str) -> list[str]:
        with self._cond:
            return [m["text"] for m in self.sent if m["touser"] == openid]

    def wait_for(self, openid: str, contains: str | tuple[str, ...], after: int = 0, timeout: float = 30) -> str:
        wanted = (contains,) if isinstance(contains, str) else contains
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for text in self.messages_to(openid)[after:]:
                    if all(w in text for w in wanted):
                        return text
                left = deadline - time.monotonic()
                if left <= 0:
                    got = "\n---\n".join(self.messages_to(openid)[after:])
                    raise AssertionError(f"no customer-service message to {openid} with {wanted}; got:\n{got}")
                self._cond.wait(min(left, 0.5))

    # ------------------------------------------------------------------ the API
    def _token(self, query: dict) -> dict:
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        with self._cond:
            self.token_calls += 1
            token = f"ACCESS_TOKEN_{next(self._ids)}"
            self.valid.add(token)
            return {"access_token": token, "expires_in": self.expires_in}

    def _check(self, token: str) -> dict | None:
        if token in self.expired:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if token not in self.valid:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        return None

    def _call(self, method: str, path: str, query: dict, body: bytes) -> dict:
        if method == "GET" and path == "/cgi-bin/token":
            return self._token(query)
        if method == "POST" and path in ("/cgi-bin/message/custom/send", "/cgi-bin/menu/create"):
            data = json.loads(body.decode("utf-8"))
            with self._cond:
                refusal = self._check(query.get("access_token", ""))
                if refusal is None and self._fail_next:
                    refusal = {"errcode": self._fail_next.pop(0), "errmsg": "forced by the test"}
                if refusal is None and path.endswith("/send") and data.get("touser") in self.closed_window:
                    refusal = {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
                if refusal is not None:
                    self.refused.append({"path": path, **refusal})
                    return refusal
                if path.endswith("/send"):
                    assert data["msgtype"] == "text", data
                    self.sent.append(
                        {"touser": data["touser"], "text": data["text"]["content"], "raw": body.decode("utf-8")}
                    )
                else:
                    self.menus.append(data)
                self._cond.notify_all()
            return {"errcode": 0, "errmsg": "ok"}
        self.unknown.append(f"{method} {path}")
        return {"errcode": 40004, "errmsg": "not implemented by the fake"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                send_json(self, 200, fake._call(method, url.path, query, body), "application/json; charset=utf-8")

            def log_message(self, *args) -> None:
                pass

        return Handler


class Push:
    """What WeChat sends to the account's server URL, signed with the account's token."""

    def __init__(self, token: str, app_id: str, aes_key: str, account: str = "gh_jiuzhu_test"):
        self.token, self.app_id, self.account = token, app_id, account
        self.crypto = WeChatCrypto(token, aes_key, app_id)
        self._msg_ids = itertools.count(int(time.time()) * 1000)
        self._nonces = itertools.count(1)

    def signature(self, timestamp: str, nonce: str) -> str:
        return hashlib.sha1("".join(sorted([self.token, timestamp, nonce])).encode()).hexdigest()

    def query(self, **extra) -> dict:
        timestamp, nonce = str(int(time.time())), f"nonce{next(self._nonces)}"
        return {"signature": self.signature(timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}

    def text(self, openid: str, content: str, msg_id: int | None = None) -> str:
        return self._xml(openid, "text", Content=content, MsgId=msg_id or next(self._msg_ids))

    def voice(self, openid: str, recognition: str | None) -> str:
        fields = {"MediaId": "media-1", "Format": "amr", "MsgId": next(self._msg_ids)}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self._xml(openid, "voice", **fields)

    def image(self, openid: str) -> str:
        return self._xml(openid, "image", PicUrl="http://example.invalid/a.jpg", MediaId="m", MsgId=next(self._msg_ids))

    def event(self, openid: str, event: str, key: str | None = None, create_time: int | None = None) -> str:
        fields = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self._xml(openid, "event", create_time=create_time, **fields)

    def _xml(self, openid: str, msg_type: str, create_time: int | None = None, **fields) -> str:
        def node(k, v):
            return f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{escape(str(v))}]]></{k}>"

        body = "".join(
            node(k, v)
            for k, v in {
                "ToUserName": self.account,
                "FromUserName": openid,
                "CreateTime": create_time or int(time.time()),
                "MsgType": msg_type,
                **fields,
            }.items()
        )
        return f"<xml>{body}</xml>"

    def encrypted(self, xml: str) -> tuple[dict, str]:
        """(query, body) as WeChat sends a message in safe mode."""
        query = self.query(encrypt_type="aes")
        envelope = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
        import xmltodict

        parts = xmltodict.parse(envelope)["xml"]
        query["msg_signature"] = parts["MsgSignature"]
        body = f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName><Encrypt><![CDATA[{parts['Encrypt']}]]></Encrypt></xml>"
        return query, body

    def decrypt_reply(self, body: str) -> str:
        import xmltodict

        parts = xmltodict.parse(body)["xml"]
        return self.crypto.decrypt_message(body, parts["MsgSignature"], parts["TimeStamp"], parts["Nonce"])


class FakeRasa:
    """Rasa's REST channel, answering at once, or after `slow_seconds` for a message with "慢"."""

    def __init__(self, slow_seconds: float = 6.0):
        self.slow_seconds = slow_seconds
        self.calls: list[dict] = []
        # message text → what Rasa's actions would do with the request body before answering
        self.actions: dict[str, Callable[[dict], None]] = {}
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRasa:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls_from(self, sender: str) -> list[str]:
        with self._cond:
            return [c["message"] for c in self.calls if c["sender"] == sender]

    def answer(self, body: dict) -> list[dict]:
        message = body["message"]
        if message in self.actions:
            self.actions[message](body)
        if "慢" in message:
            time.sleep(self.slow_seconds)
            return [{"recipient_id": body["sender"], "text": f"慢慢答：{message}"}]
        if message == "你好":
            return [{"recipient_id": body["sender"], "text": "您好！我是社会救助小助手。"}]
        if "选" in message:
            return [
                {
                    "recipient_id": body["sender"],
                    "text": "您在哪个县？",
                    "buttons": [
                        {"title": "渠县", "payload": '/tell_place{"place": "渠县"}'},
                        {"title": "会宁县", "payload": '/tell_place{"place": "会宁"}'},
                    ],
                }
            ]
        if "长" in message:
            return [{"recipient_id": body["sender"], "text": "第一条规定。\n" * 400}]
        return [{"recipient_id": body["sender"], "text": f"收到：{message}"}]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with fake._cond:
                    fake.calls.append(body)
                data = json.dumps(fake.answer(body)).encode()  # Rasa escapes non-ASCII too
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler
