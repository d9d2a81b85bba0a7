"""The WeChat gateway's turns: one WeChat message ⇄ one Rasa turn, and operator replies.

Run by bot/channels/wechat.py (the process, its HTTP app and CLI); the wire format
(signatures, AES, XML, passive replies) is bot/channels/wechat_protocol.py, the WeChat
server APIs bot/channels/wechat_api.py.

WeChat waits 5 seconds for an answer, then retries (3 times in all). So each message is
one turn, keyed by MsgId (events: FromUserName + CreateTime): the first request starts
it, a retry joins it and never starts a second Rasa call. A request waits at most
PASSIVE_SECONDS for the answer and returns it as the passive reply; otherwise it answers
"success" and the answer goes out through the customer-service API as soon as Rasa gives it.
A typed message also joins the resident's open case (bot/channels/gateway.py `start_note`:
sent first, stored while Rasa answers).

Operator replies from the case desk go out through the customer-service API, which WeChat
allows only within 48 hours of the resident's last message; past that the desk is told
(replies/undeliverable) and the reply waits for the resident's next message. Residents who
wrote lately are asked about more often than those quiet for a while (gateway.ReplyPolls).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi.responses import PlainTextResponse, Response

from bot.channels.gateway import ReplyPolls, StackLink, recent_entry
from bot.channels.wechat_api import WINDOW_CLOSED_ERRORS, WeChatAPI, WeChatError
from bot.channels.wechat_protocol import Refused, Wire, message_key, render_answers, sender_id, split_text
from bot.config import Settings
from bot.hotlines import IF_URGENT
from bot.http_sessions import close_sessions
from bot.text import cap_message, clean_message, too_long_note

log = logging.getLogger("bot.channels.wechat")

CHANNEL = "wechat"

EMPTY_REPLY = "没有看到文字内容。请直接打字告诉我您想问什么，比如“低保怎么申请”。"
TOO_LONG_NOTE = too_long_note()
VOICE_UNHEARD_REPLY = f"抱歉，这条语音我没能听清。麻烦您打字告诉我想问什么，比如“低保怎么申请”；{IF_URGENT}"
NOT_TEXT_REPLY = f"我现在只能看懂文字和语音消息。请用文字告诉我您想问什么；{IF_URGENT}"
WELCOME = "感谢您关注！点下方菜单可以直接问常见问题，也可以打字或发语音问我。"
START_MESSAGE = "你好"  # a subscribe: Rasa greets and says what it can do
OPERATOR_REPLY = "【工作人员回复 · 工单 {case}】\n{text}"  # as on Telegram
WINDOW_CLOSED_REASON = (
    "微信公众号只能在群众最后一次发消息后 48 小时内回复，这位群众超过 48 小时没有发消息，"
    "回复暂时发不出去；他再发消息时会自动送出。着急的话请电话联系。"
)

PASSIVE_SECONDS = 4.0  # WeChat gives up on a request after 5 s: answer passively within this
REPLY_POLL_SECONDS = 3.0  # how often operator replies are fetched for residents writing now (gateway.ReplyPolls)
AFTER_TURN_SECONDS = 0.3  # the end of a turn's look at the outbox, after the answer has gone out
REPLY_WINDOW_SECONDS = 48 * 3600
WINDOW_MARGIN_SECONDS = 300  # do not try in the last minutes of the window: clocks differ
POLL_USERS_SECONDS = 7 * 24 * 3600  # residents quiet longer than this get replies on their next message
MAX_POLLED_USERS = 200
TURN_KEEP_SECONDS = 120  # WeChat's retries come within ~15 s; keep the turn a while longer
MAX_TURNS = 10_000
BUTTONS_KEEP_SECONDS = 30 * 60
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*$")


def window_open(last_message_at: float | None, now: float) -> bool:
    """Whether WeChat still lets the account write to a resident first (48-hour window)."""
    return last_message_at is not None and now - last_message_at < REPLY_WINDOW_SECONDS - WINDOW_MARGIN_SECONDS


class Residents:
    """When each resident last wrote (the 48-hour window), kept in data_dir so a restart
    of the gateway still knows whom operator replies may reach."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # Written on every message: no fsync per write (WAL + NORMAL survives a crash of the
        # gateway; a power cut may lose the last few times, which only shortens a window).
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS residents (openid TEXT PRIMARY KEY, last_message_at REAL NOT NULL)")

    def wrote(self, openid: str, at: float) -> None:
        self.db.execute(
            "INSERT INTO residents VALUES (?, ?) ON CONFLICT(openid) DO UPDATE SET "
            "last_message_at = max(last_message_at, excluded.last_message_at)",
            (openid, at),
        )

    def last_message_at(self, openid: str) -> float | None:
        row = self.db.execute("SELECT last_message_at FROM residents WHERE openid = ?", (openid,)).fetchone()
        return row[0] if row else None

    def recent(self, since: float, limit: int = MAX_POLLED_USERS) -> list[tuple[str, float]]:
        return self.db.execute(
            "SELECT openid, last_message_at FROM residents WHERE last_message_at > ? "
            "ORDER BY last_message_at DESC LIMIT ?",
            (since, limit),
        ).fetchall()

    def forget(self, openid: str) -> None:
        self.db.execute("DELETE FROM residents WHERE openid = ?", (openid,))


@dataclass
class Turn:
    """One WeChat message and its answer, shared by WeChat's retries of it."""

    task: asyncio.Task
    started: float
    claimed: str | None = None  # "passive" or "api": who delivers the answer (once)
    passive: str | None = None  # the passive reply body, again for a retry whose answer was lost
    pusher: asyncio.Task | None = None


@dataclass
class Resident:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one turn at a time, in order
    buttons: list[str] = field(default_factory=list)  # payloads of the last numbered choices
    buttons_at: float = 0.0


class WeChatGateway:
    def __init__(self, cfg: Settings, http: httpx.AsyncClient | None = None):
        self.cfg = cfg
        self.http = http or httpx.AsyncClient()
        self.link = StackLink(cfg, self.http, CHANNEL)
        self.api = WeChatAPI(cfg, self.http)
        self.wire = Wire(cfg.wechat_token, cfg.wechat_aes_key, cfg.wechat_app_id)
        self.residents_db = Residents(Path(cfg.data_dir) / "wechat_residents.db")
        self.turns: OrderedDict[str, Turn] = OrderedDict()
        self.residents: OrderedDict[str, Resident] = OrderedDict()
        self.reported: set[int] = set()  # reply ids the desk was told are undeliverable
        self._poller: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self.polls = ReplyPolls(REPLY_POLL_SECONDS)
        self._delivering: set[str] = set()  # residents whose operator replies are being sent now

    # ------------------------------------------------------------------ HTTP
    def verify(self, signature: str, timestamp: str, nonce: str) -> bool:
        return self.wire.verify(signature, timestamp, nonce)

    async def on_post(
        self, body: bytes, signature: str, timestamp: str, nonce: str, encrypt_type: str, msg_signature: str
    ) -> Response:
        try:
            msg = self.wire.read(body, signature, timestamp, nonce, encrypt_type, msg_signature)
        except Refused as refused:
            return PlainTextResponse(refused.text, status_code=refused.status)
        reply = await self.handle(msg)
        if reply is None:
            return PlainTextResponse("success")
        return Response(self.wire.seal(reply, encrypt_type, nonce, timestamp), media_type="application/xml")

    # ------------------------------------------------------------------ one message
    async def handle(self, msg) -> str | None:
        """The passive reply XML, or None for "success" (the answer, if any, goes by the API)."""
        arrived = time.monotonic()
        key = message_key(msg)
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
        except TimeoutError:
            pass
        if turn.claimed == "passive":
            return turn.passive
        if turn.task.done() and turn.claimed is None:
            parts = turn.task.result()
            turn.claimed = "passive"
            if not parts:
                return None
            turn.passive = self.wire.text_reply(msg, parts[0])
            if len(parts) > 1:  # one passive message only: the rest by the API, just after it
                self._spawn(self.push(msg.source, parts[1:], delay=1.0))
            return turn.passive
        if turn.pusher is None:
            log.info(
                "Rasa slower than %.0f s for %s: the answer goes by the customer-service API",
                PASSIVE_SECONDS,
                sender_id(msg.source),
            )
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
            # A typed message joins the open case: the note goes out first and is stored while Rasa answers.
            text, payloads = render_answers(await self.link.ask_rasa(sender_id(openid), message, note=typed))
            resident.buttons, resident.buttons_at = payloads, time.monotonic()
            parts = split_text(f"{note}\n\n{text}" if note and text else (note or text))
        if sender_id(openid) in self.link.waiting:  # replies waited for this message (a closed window)
            self._spawn(self._after_turn(openid))
        return parts

    async def _after_turn(self, openid: str) -> None:
        """Operator replies waiting for this resident (a closed window, or sent mid-turn), once the
        answer is out: started at once, the outbox request would delay the passive reply. Every
        turn asking the outbox cost the gateway and the service a request each, mostly for nothing,
        and landed on other residents' turns."""
        await asyncio.sleep(AFTER_TURN_SECONDS)
        await self.deliver_operator_replies(openid)

    def _choice(self, resident: Resident, text: str) -> str | None:
        m = _CHOICE.match(text)
        if not m or time.monotonic() - resident.buttons_at > BUTTONS_KEEP_SECONDS:
            return None
        n = int(m[1])
        return resident.buttons[n - 1] if 1 <= n <= len(resident.buttons) else None

    # ------------------------------------------------------------------ operator replies
    async def deliver_operator_replies(self, openid: str) -> int:
        """Sends the desk's pending replies within the 48-hour window (marking each delivered);
        past it, tells the desk once per reply. One delivery per resident at a time (the
        poller and the end of a turn would otherwise both send the same reply)."""
        if openid in self._delivering:
            return 0
        self._delivering.add(openid)
        try:
            self.polls.asked(openid, time.monotonic())
            return await self._deliver(openid)
        finally:
            self._delivering.discard(openid)

    async def _deliver(self, openid: str) -> int:
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
            now, recent = time.time(), self.residents_db.recent(time.time() - POLL_USERS_SECONDS)
            self.polls.keep(openid for openid, _ in recent)
            waiting = await self.link.waiting_senders() if recent else set()
            for openid, last_message_at in recent:
                if sender_id(openid) not in waiting:
                    continue  # nothing for this resident: no request
                resident = self.residents.get(openid)
                if resident is not None and resident.lock.locked():
                    continue  # mid-turn: its replies follow the turn
                if not self.polls.due(openid, now - last_message_at, time.monotonic()):
                    continue  # quiet for a while: asked less often
                try:
                    await self.deliver_operator_replies(openid)
                except Exception as exc:  # one resident's trouble must not stop the others'
                    log.warning("operator replies for %s: %s", sender_id(openid), exc)

    # ------------------------------------------------------------------ bookkeeping
    def _resident(self, openid: str) -> Resident:
        return recent_entry(self.residents, openid, Resident, MAX_TURNS)

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
        log.info(
            "WeChat gateway: Rasa %s, service %s, WeChat API %s, safe mode %s",
            self.link.rasa_url,
            self.link.service_url,
            self.api.base,
            "on" if self.wire.crypto else "off",
        )
        if not (self.cfg.wechat_app_id and self.cfg.wechat_app_secret):
            log.warning("JZ_WECHAT_APP_ID/JZ_WECHAT_APP_SECRET not set: only passive replies can be sent")
        self._poller = asyncio.create_task(self.poll_operator_replies())

    async def stop(self) -> None:
        for task in [self._poller, *self._background]:
            if task:
                task.cancel()
        await self.link.drain()  # notes to the case desk still on their way
        await self.http.aclose()
        await close_sessions()  # the pooled session to Rasa (bot/http_sessions.py)
