"""WeChat official account (服务号) gateway: WeChat's message push ⇄ Rasa's REST channel.

Its own process (`python -m bot.channels.wechat`, started by bot/stack.py when
JZ_WECHAT_TOKEN is set): a small FastAPI app on JZ_WECHAT_HOST:JZ_WECHAT_PORT whose
`/wechat` URL is the account's 服务器地址. wechatpy checks signatures, decrypts and
encrypts safe-mode (AES) messages, parses the XML and renders passive replies.

For each message it posts {"sender": "wx-<openid>", "message": …, "metadata": {"channel":
"wechat"}} to Rasa's /webhooks/rest/webhook (a message over MAX_MESSAGE_CHARS cut to its
first part, the answer led by a kind note: the rule of bot/text.py). Voice messages use
WeChat's recognition text; a subscribe event greets; a menu click sends its key (a key
starting with "/" is a Rasa payload, any other is read as if typed). Rasa's buttons become
numbered choices ("回复 1：…") and a reply "1" sends that button's payload.

WeChat waits 5 seconds for an answer, then retries (3 times in all). So each message is
one turn, keyed by MsgId (events: FromUserName + CreateTime): the first request starts
it, a retry joins it and never starts a second Rasa call. A request waits at most
PASSIVE_SECONDS for the answer and returns it as the passive reply; otherwise it answers
"success" and the answer goes out through the customer-service API
(/cgi-bin/message/custom/send) as soon as Rasa gives it. access_tokens come from
/cgi-bin/token, cached and refreshed before expiry or when WeChat says one is invalid.

Operator replies from the case desk (the service's bot-token /v1/conversations outbox)
go out through the customer-service API, which WeChat allows only within 48 hours of the
resident's last message; past that the desk is told (replies/undeliverable) and the reply
waits for the resident's next message. No domain logic lives here.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import sys
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.config import Settings, settings
from bot.privacy import MaskingFilter
from bot.channels.gateway import StackLink
from bot.text import cap_message, clean_message, too_long_note

log = logging.getLogger("bot.channels.wechat")

DEFAULT_API_URL = "https://api.weixin.qq.com"
CHANNEL = "wechat"
PATH = "/wechat"
MENU_FILE = Path(__file__).with_name("wechat_menu.json")

EMPTY_REPLY = "没有看到文字内容。请直接打字告诉我您想问什么，比如“低保怎么申请”。"
TOO_LONG_NOTE = too_long_note()
VOICE_UNHEARD_REPLY = ("抱歉，这条语音我没能听清。麻烦您打字告诉我想问什么，比如“低保怎么申请”；"
                       "着急的话请拨打 12345 或 12349。")
NOT_TEXT_REPLY = ("我现在只能看懂文字和语音消息。请用文字告诉我您想问什么；"
                  "着急的话请拨打 12345 或 12349。")
WELCOME = "感谢您关注！点下方菜单可以直接问常见问题，也可以打字或发语音问我。"
START_MESSAGE = "你好"  # a subscribe: Rasa greets and says what it can do
CHOICE_LINE = "回复 {n}：{title}"
OPERATOR_REPLY = "【工作人员回复 · 工单 {case}】\n{text}"  # as on Telegram
WINDOW_CLOSED_REASON = ("微信公众号只能在群众最后一次发消息后 48 小时内回复，这位群众超过 48 小时没有发消息，"
                        "回复暂时发不出去；他再发消息时会自动送出。着急的话请电话联系。")

PASSIVE_SECONDS = 4.0        # WeChat gives up on a request after 5 s: answer passively within this
API_TIMEOUT = 10.0
REPLY_POLL_SECONDS = 3.0     # how often operator replies are fetched for recent residents
REPLY_WINDOW_SECONDS = 48 * 3600
WINDOW_MARGIN_SECONDS = 300  # do not try in the last minutes of the window: clocks differ
POLL_USERS_SECONDS = 7 * 24 * 3600  # residents quiet longer than this get replies on their next message
MAX_POLLED_USERS = 200
TURN_KEEP_SECONDS = 120      # WeChat's retries come within ~15 s; keep the turn a while longer
MAX_TURNS = 10_000
BUTTONS_KEEP_SECONDS = 30 * 60
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT_BYTES = 2000        # WeChat's text messages hold 2048 bytes
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access_token: fetch a new one, once
WINDOW_CLOSED_ERRORS = {45015, 45047}  # out of the 48-hour window / too many messages after it
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*$")


def sender_id(openid: str) -> str:
    return f"wx-{openid}"


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, preferring line breaks."""
    parts = []
    while len(text.encode()) > limit:
        cut, size = 0, 0
        for i, ch in enumerate(text):
            size += len(ch.encode())
            if size > limit:
                break
            cut = i + 1
        nl = text.rfind("\n", 0, cut)
        cut = nl if nl > cut // 2 else cut
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return parts + [text] if text else parts


def render_answers(answers: list[dict]) -> tuple[str, list[str]]:
    """Rasa's messages as one text, buttons numbered through the turn; and their payloads."""
    blocks, payloads = [], []
    for a in answers:
        lines = [str(a.get("text") or "").strip()] if a.get("text") else []
        for b in a.get("buttons") or []:
            title = str(b.get("title") or b.get("payload") or "")
            payloads.append(str(b.get("payload") or title))
            lines.append(CHOICE_LINE.format(n=len(payloads), title=title))
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks), payloads


def window_open(last_message_at: float | None, now: float) -> bool:
    """Whether WeChat still lets the account write to a resident first (48-hour window)."""
    return last_message_at is not None and now - last_message_at < REPLY_WINDOW_SECONDS - WINDOW_MARGIN_SECONDS


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode


class WeChatAPI:
    """The few WeChat server APIs the gateway calls, with a cached access_token."""

    def __init__(self, cfg: Settings, http: httpx.AsyncClient):
        self.cfg = cfg
        self.base = (cfg.wechat_api_url or DEFAULT_API_URL).rstrip("/")
        self.http = http
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def access_token(self, force: bool = False) -> str:
        async with self._lock:  # one fetch at a time: each fetch invalidates the previous token
            if not force and self._token and time.monotonic() < self._expires:
                return self._token
            r = await self.http.get(f"{self.base}/cgi-bin/token", timeout=API_TIMEOUT, params={
                "grant_type": "client_credential", "appid": self.cfg.wechat_app_id,
                "secret": self.cfg.wechat_app_secret})
            data = r.json()
            if not data.get("access_token"):
                raise WeChatError(int(data.get("errcode") or -1), str(data.get("errmsg") or ""))
            lifetime = int(data.get("expires_in") or 7200)
            # Refreshed well before it expires (WeChat: 7200 s), never sooner than a minute.
            self._token, self._expires = data["access_token"], time.monotonic() + max(60, lifetime - 300)
            return self._token

    async def post(self, path: str, body: dict) -> dict:
        """POSTs JSON (Chinese unescaped: WeChat would show \\uXXXX) and returns WeChat's answer."""
        content = json.dumps(body, ensure_ascii=False).encode()
        for attempt in (0, 1):
            token = await self.access_token(force=attempt > 0)
            r = await self.http.post(f"{self.base}{path}", params={"access_token": token}, content=content,
                                     headers={"Content-Type": "application/json; charset=utf-8"},
                                     timeout=API_TIMEOUT)
            data = r.json()
            errcode = int(data.get("errcode") or 0)
            if errcode in TOKEN_ERRORS and attempt == 0:
                log.info("access_token refused (%s): fetching a new one", errcode)
                continue
            if errcode:
                raise WeChatError(errcode, str(data.get("errmsg") or ""))
            return data
        raise AssertionError("unreachable")

    async def send_text(self, openid: str, text: str) -> None:
        await self.post("/cgi-bin/message/custom/send",
                        {"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def create_menu(self, menu: dict) -> None:
        await self.post("/cgi-bin/menu/create", menu)


class Residents:
    """When each resident last wrote (the 48-hour window), kept in data_dir so a restart
    of the gateway still knows whom operator replies may reach."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS residents (openid TEXT PRIMARY KEY, last_message_at REAL NOT NULL)")

    def wrote(self, openid: str, at: float) -> None:
        self.db.execute("INSERT INTO residents VALUES (?, ?) ON CONFLICT(openid) DO UPDATE SET "
                        "last_message_at = max(last_message_at, excluded.last_message_at)", (openid, at))

    def last_message_at(self, openid: str) -> float | None:
        row = self.db.execute("SELECT last_message_at FROM residents WHERE openid = ?", (openid,)).fetchone()
        return row[0] if row else None

    def recent(self, since: float, limit: int = MAX_POLLED_USERS) -> list[tuple[str, float]]:
        return self.db.execute("SELECT openid, last_message_at FROM residents WHERE last_message_at > ? "
                               "ORDER BY last_message_at DESC LIMIT ?", (since, limit)).fetchall()

    def forget(self, openid: str) -> None:
        self.db.execute("DELETE FROM residents WHERE openid = ?", (openid,))


@dataclass
class Turn:
    """One WeChat message and its answer, shared by WeChat's retries of it."""
    task: asyncio.Task
    started: float
    claimed: str | None = None       # "passive" or "api": who delivers the answer (once)
    passive: str | None = None       # the passive reply body, again for a retry whose answer was lost
    pusher: asyncio.Task | None = None


@dataclass
class Resident:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one turn at a time, in order
    buttons: list[str] = field(default_factory=list)          # payloads of the last numbered choices
    buttons_at: float = 0.0


class WeChatGateway:
    def __init__(self, cfg: Settings, http: httpx.AsyncClient | None = None):
        self.cfg = cfg
        self.http = http or httpx.AsyncClient()
        self.link = StackLink(cfg, self.http, CHANNEL)
        self.api = WeChatAPI(cfg, self.http)
        self.crypto = WeChatCrypto(cfg.wechat_token, cfg.wechat_aes_key, cfg.wechat_app_id) if cfg.wechat_aes_key else None
        self.residents_db = Residents(Path(cfg.data_dir) / "wechat_residents.db")
        self.turns: OrderedDict[str, Turn] = OrderedDict()
        self.residents: OrderedDict[str, Resident] = OrderedDict()
        self.reported: set[int] = set()  # reply ids the desk was told are undeliverable
        self._poller: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ HTTP
    def verify(self, signature: str, timestamp: str, nonce: str) -> bool:
        try:
            check_signature(self.cfg.wechat_token, signature, timestamp, nonce)
            return True
        except InvalidSignatureException:
            return False

    async def on_post(self, body: bytes, signature: str, timestamp: str, nonce: str,
                      encrypt_type: str, msg_signature: str) -> Response:
        if not self.verify(signature, timestamp, nonce):
            return PlainTextResponse("bad signature", status_code=403)
        aes = encrypt_type.lower() == "aes"
        if aes:
            if self.crypto is None:
                log.error("an encrypted message arrived but JZ_WECHAT_AES_KEY is not set")
                return PlainTextResponse("safe mode not configured", status_code=400)
            try:
                xml = self.crypto.decrypt_message(body, msg_signature, timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException):
                return PlainTextResponse("bad signature", status_code=403)
            except Exception as exc:  # damaged ciphertext or XML
                log.warning("undecryptable message: %s", type(exc).__name__)
                return PlainTextResponse("bad message", status_code=400)
        else:
            xml = body
        try:
            msg = parse_message(xml)
        except Exception as exc:
            log.warning("unreadable message: %s", type(exc).__name__)
            return PlainTextResponse("bad message", status_code=400)
        if msg is None or not msg.source:
            return PlainTextResponse("bad message", status_code=400)
        reply = await self.handle(msg)
        if reply is None:
            return PlainTextResponse("success")
        if aes:
            reply = self.crypto.encrypt_message(reply, nonce, timestamp)
        return Response(reply, media_type="application/xml")

    # ------------------------------------------------------------------ one message
    @staticmethod
    def turn_key(msg) -> str:
        if msg.id:
            return f"msg:{msg.id}"
        return f"event:{msg.source}:{msg.time}:{getattr(msg, 'event', msg.type)}:{getattr(msg, 'key', '')}"

    async def handle(self, msg) -> str | None:
        """The passive reply XML, or None for "success" (the answer, if any, goes by the API)."""
        arrived = time.monotonic()
        key = self.turn_key(msg)
        self._prune(arrived)
        turn = self.turns.get(key)
        if turn is None:
            turn = Turn(asyncio.create_task(self.answer(msg)), arrived)
            self.turns[key] = turn
        else:
            log.info("WeChat retried %s: joining the turn in progress", key)
        if turn.claimed == "passive":
            return turn.passive  # the first answer may not have reached WeChat
        if turn.claimed == "api":
            return None
        try:
            await asyncio.wait_for(asyncio.shield(turn.task), PASSIVE_SECONDS - (time.monotonic() - arrived))
        except (asyncio.TimeoutError, TimeoutError):
            pass
        if turn.claimed == "passive":
            return turn.passive
        if turn.task.done() and turn.claimed is None:
            parts = turn.task.result()
            turn.claimed = "passive"
            if not parts:
                return None
            turn.passive = TextReply(message=msg, content=parts[0]).render()
            if len(parts) > 1:  # one passive message only: the rest by the API, just after it
                self._spawn(self.push(msg.source, parts[1:], delay=1.0))
            return turn.passive
        if turn.pusher is None:
            log.info("Rasa slower than %.0f s for %s: the answer goes by the customer-service API",
                     PASSIVE_SECONDS, sender_id(msg.source))
            turn.pusher = self._spawn(self._push_when_done(turn, msg.source))
        return None

    async def _push_when_done(self, turn: Turn, openid: str) -> None:
        parts = await asyncio.shield(turn.task)
        if turn.claimed is None:  # a retry waiting right now may have answered passively
            turn.claimed = "api"
            await self.push(openid, parts)

    async def push(self, openid: str, parts: list[str], delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        for part in parts:
            try:
                await self.api.send_text(openid, part)
            except (WeChatError, httpx.HTTPError, ValueError) as exc:
                log.warning("could not send an answer to %s: %s", sender_id(openid), exc)
                return

    async def answer(self, msg) -> list[str]:
        """The texts (each within WeChat's size) answering one message; [] for none."""
        openid = msg.source
        resident = self._resident(openid)
        if msg.type == "event":
            event = msg.event
            if event in ("unsubscribe",):
                self.residents.pop(openid, None)
                return []
            if event not in ("subscribe", "subscribe_scan", "click", "scan"):
                return []  # VIEW, LOCATION, template receipts…: nothing to say
        self.residents_db.wrote(openid, time.time())  # every message and event opens the 48-hour window
        async with resident.lock:
            note, message, typed = None, None, False
            if msg.type == "event":
                if msg.event in ("subscribe", "subscribe_scan", "scan"):
                    text, _ = render_answers(await self.link.ask_rasa(sender_id(openid), START_MESSAGE))
                    return split_text(f"{text}\n\n{WELCOME}" if text else WELCOME)
                message = clean_message(msg.key or "")  # a menu click: its key
                if not message:
                    return []
            elif msg.type in ("text", "voice"):
                raw = msg.content if msg.type == "text" else (msg.recognition or "")
                text = clean_message(raw)
                if not text:
                    return [VOICE_UNHEARD_REPLY if msg.type == "voice" else EMPTY_REPLY]
                choice = self._choice(resident, text)
                if choice:
                    message = choice
                else:
                    capped = cap_message(text)
                    note = TOO_LONG_NOTE if capped.cut else None
                    # A leading "/" would make Rasa read the text as an intent: only buttons and the menu may.
                    message, typed = capped.text.lstrip("/").strip() or START_MESSAGE, True
            else:
                return [NOT_TEXT_REPLY]
            if typed:
                await self.link.note_on_case(sender_id(openid), message)
            text, payloads = render_answers(await self.link.ask_rasa(sender_id(openid), message))
            resident.buttons, resident.buttons_at = payloads, time.monotonic()
            parts = split_text(f"{note}\n\n{text}" if note and text else (note or text))
        self._spawn(self.deliver_operator_replies(openid))
        return parts

    def _choice(self, resident: Resident, text: str) -> str | None:
        m = _CHOICE.match(text)
        if not m or time.monotonic() - resident.buttons_at > BUTTONS_KEEP_SECONDS:
            return None
        n = int(m[1])
        return resident.buttons[n - 1] if 1 <= n <= len(resident.buttons) else None

    # ------------------------------------------------------------------ operator replies
    async def deliver_operator_replies(self, openid: str) -> int:
        """Sends the desk's pending replies within the 48-hour window (marking each delivered);
        past it, tells the desk once per reply."""
        sender = sender_id(openid)
        replies = await self.link.pending_replies(sender)
        sent, closed = 0, []
        for reply in replies:
            if not window_open(self.residents_db.last_message_at(openid), time.time()):
                closed.append(reply["id"])
                continue
            try:
                for part in split_text(OPERATOR_REPLY.format(case=reply["case"], text=reply["text"])):
                    await self.api.send_text(openid, part)
            except WeChatError as exc:
                if exc.errcode in WINDOW_CLOSED_ERRORS:  # WeChat's own clock says the window has closed
                    closed.append(reply["id"])
                    continue
                log.warning("operator reply %s to %s not sent: %s", reply["id"], sender, exc)
                break
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("operator reply %s to %s not sent: %s", reply["id"], sender, type(exc).__name__)
                break
            if not await self.link.mark_delivered(sender, reply["id"]):  # sent, not marked: may come again
                break
            self.reported.discard(reply["id"])
            sent += 1
            log.info("operator reply %s (case %s) delivered to %s", reply["id"], reply["case"], sender)
        closed = [rid for rid in closed if rid not in self.reported]
        if closed and await self.link.mark_undeliverable(sender, closed, WINDOW_CLOSED_REASON):
            self.reported.update(closed)
            log.info("operator replies %s to %s wait: 48-hour window closed (desk told)", closed, sender)
        return sent

    async def poll_operator_replies(self) -> None:
        while True:
            await asyncio.sleep(REPLY_POLL_SECONDS)
            for openid, _ in self.residents_db.recent(time.time() - POLL_USERS_SECONDS):
                resident = self.residents.get(openid)
                if resident is not None and resident.lock.locked():
                    continue  # mid-turn: its replies follow the turn
                try:
                    await self.deliver_operator_replies(openid)
                except Exception as exc:  # one resident's trouble must not stop the others'
                    log.warning("operator replies for %s: %s", sender_id(openid), exc)

    # ------------------------------------------------------------------ bookkeeping
    def _resident(self, openid: str) -> Resident:
        resident = self.residents.get(openid) or Resident()
        self.residents[openid] = resident
        self.residents.move_to_end(openid)
        while len(self.residents) > MAX_TURNS:
            oldest = next(iter(self.residents))
            if self.residents[oldest].lock.locked():
                break
            self.residents.pop(oldest)
        return resident

    def _prune(self, now: float) -> None:
        while self.turns:
            key, turn = next(iter(self.turns.items()))
            if (now - turn.started > TURN_KEEP_SECONDS and turn.task.done()) or len(self.turns) > MAX_TURNS:
                self.turns.pop(key)
            else:
                break

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def start(self) -> None:
        log.info("WeChat gateway: Rasa %s, service %s, WeChat API %s, safe mode %s",
                 self.link.rasa_url, self.link.service_url, self.api.base, "on" if self.crypto else "off")
        if not (self.cfg.wechat_app_id and self.cfg.wechat_app_secret):
            log.warning("JZ_WECHAT_APP_ID/JZ_WECHAT_APP_SECRET not set: only passive replies can be sent")
        self._poller = asyncio.create_task(self.poll_operator_replies())

    async def stop(self) -> None:
        for task in [self._poller, *self._background]:
            if task:
                task.cancel()
        await self.http.aclose()


def create_app(cfg: Settings | None = None) -> FastAPI:
    cfg = cfg or settings()
    gateway = WeChatGateway(cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await gateway.start()
        yield
        await gateway.stop()

    app = FastAPI(title="社会救助助手 · 微信公众号接入", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.gateway = gateway

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get(PATH)
    def verify_url(signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = "") -> Response:
        """WeChat's server URL check: echo `echostr` when the signature is the token's."""
        if not gateway.verify(signature, timestamp, nonce):
            return PlainTextResponse("bad signature", status_code=403)
        return PlainTextResponse(echostr)

    @app.post(PATH)
    async def receive(request: Request, signature: str = "", timestamp: str = "", nonce: str = "",
                      encrypt_type: str = Query("raw"), msg_signature: str = "") -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return PlainTextResponse("too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return PlainTextResponse("too large", status_code=413)
        return await gateway.on_post(body, signature, timestamp, nonce, encrypt_type, msg_signature)

    return app


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())  # phone and ID numbers never reach the log
    # httpx logs every request URL at INFO, and WeChat API URLs carry the access_token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def set_menu(cfg: Settings, menu_file: Path = MENU_FILE) -> None:
    async with httpx.AsyncClient() as http:
        await WeChatAPI(cfg, http).create_menu(json.loads(menu_file.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bot.channels.wechat",
                                     description="WeChat official account gateway (serve), or set its menu")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "menu"])
    parser.add_argument("--menu-file", type=Path, default=MENU_FILE)
    args = parser.parse_args(argv)
    configure_logging()
    cfg = settings()
    if args.command == "menu":
        if not (cfg.wechat_app_id and cfg.wechat_app_secret):
            log.error("JZ_WECHAT_APP_ID and JZ_WECHAT_APP_SECRET are needed to set the menu")
            return 2
        try:
            asyncio.run(set_menu(cfg, args.menu_file))
        except (WeChatError, httpx.HTTPError) as exc:
            log.error("menu not set: %s", exc)
            return 1
        print(f"menu set from {args.menu_file}")
        return 0
    if not cfg.wechat_token:
        log.error("JZ_WECHAT_TOKEN is not set: nothing to do")
        return 2
    uvicorn.run(create_app(cfg), host=cfg.bind_host("wechat"), port=cfg.wechat_port,
                log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
