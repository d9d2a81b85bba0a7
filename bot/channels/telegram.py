"""Telegram gateway: python-telegram-bot long polling ⇄ Rasa's REST channel.

A thin adapter and its own process (`python -m bot.channels.telegram`, started by
bot/stack.py when JZ_TELEGRAM_TOKEN is set). For each private text message it
posts {"sender": "tg-<chat id>", "message": …, "metadata": {"channel": "telegram"}}
to Rasa's /webhooks/rest/webhook (a message over MAX_MESSAGE_CHARS cut to its first part,
the answer led by a kind note: the rule of bot/text.py) and sends the answers back; Rasa's buttons become
an inline keyboard whose presses send the button payload to Rasa. Operator replies
from the case desk (12345/12349) are fetched from the service's outbox for the chats
seen recently, sent, then marked delivered. No domain logic lives here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, InlineKeyboardButtonLimit, MessageLimit
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.channels.gateway import ReplyPolls, StackLink, recent_entry
from bot.config import Settings, settings
from bot.hotlines import IF_URGENT
from bot.http_sessions import close_sessions
from bot.log_masking import MaskingFilter
from bot.text import cap_message, clean_message, too_long_note

log = logging.getLogger("bot.channels.telegram")

DEFAULT_API_URL = "https://api.telegram.org"
CHANNEL = "telegram"

EMPTY_REPLY = "没有看到文字内容。请直接打字告诉我您想问什么，比如“低保怎么申请”。"
TOO_LONG_NOTE = too_long_note()
NOT_TEXT_REPLY = f"我现在只能看懂文字消息。请用文字告诉我您想问什么；{IF_URGENT}"
EXPIRED_BUTTON_REPLY = "这个按钮已经过期了，请直接打字告诉我您的选择。"
START_MESSAGE = "你好"  # /start and other commands: Rasa greets and says what it can do

OPERATOR_REPLY = "【工作人员回复 · 工单 {case}】\n{text}"
CHOSEN = "\n\n👉 您选择了：{title}"

REPLY_POLL_SECONDS = 3.0  # how often operator replies are fetched for chats writing now (gateway.ReplyPolls)
ACTIVE_CHAT_SECONDS = 12 * 3600  # chats quiet longer than this get replies on their next message
MAX_ACTIVE_CHATS = 200  # bounds the outbox polling
MAX_BUTTON_PAYLOADS = 2000


def sender_id(chat_id: int) -> str:
    return f"tg-{chat_id}"


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Telegram refuses messages over 4096 characters: split, preferring line breaks."""
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return parts + [text] if text else parts


@dataclass
class Chat:
    last_seen: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one turn at a time, in order


class TelegramGateway:
    """Relays one bot's private chats to Rasa and the case desk's replies back."""

    def __init__(self, cfg: Settings, http: httpx.AsyncClient | None = None):
        self.cfg = cfg
        self.http = http or httpx.AsyncClient()
        self.link = StackLink(cfg, self.http, CHANNEL)
        self.chats: OrderedDict[int, Chat] = OrderedDict()
        # callback_data holds at most 64 bytes: longer payloads are kept here under a short key.
        self.payloads: OrderedDict[str, str] = OrderedDict()
        self._poller: asyncio.Task | None = None
        self.polls = ReplyPolls(REPLY_POLL_SECONDS)

    # ------------------------------------------------------------------ PTB wiring
    def build_application(self) -> Application:
        api = (self.cfg.telegram_api_url or DEFAULT_API_URL).rstrip("/")
        app = (
            Application.builder()
            .token(self.cfg.telegram_token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .concurrent_updates(16)  # chats do not wait for each other; each chat keeps its order
            .post_init(self._post_init)
            .post_stop(self._post_stop)
            .build()
        )
        private = filters.ChatType.PRIVATE  # group chats would expose a resident's case to others
        app.add_handler(MessageHandler(private & filters.COMMAND, self.on_command))
        app.add_handler(MessageHandler(private & filters.TEXT, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_other))
        app.add_error_handler(self.on_error)
        return app

    async def _post_init(self, app: Application) -> None:
        log.info(
            "Telegram gateway for @%s: Rasa %s, service %s", app.bot.username, self.link.rasa_url, self.link.service_url
        )
        self._poller = asyncio.create_task(self._poll_operator_replies(app))

    async def _post_stop(self, app: Application) -> None:
        if self._poller:
            self._poller.cancel()
        await self.link.drain()  # notes to the case desk still on their way
        await self.http.aclose()
        await close_sessions()  # the pooled session to Rasa (bot/http_sessions.py)

    # ------------------------------------------------------------------ handlers
    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        text = clean_message(update.effective_message.text or "")
        if not text:
            await self.send(context.bot, chat_id, EMPTY_REPLY)
            return
        capped = cap_message(text)
        # A leading "/" would make Rasa read the text as an intent: only buttons may do that.
        await self.converse(
            context.bot,
            chat_id,
            capped.text.lstrip("/").strip() or START_MESSAGE,
            note=TOO_LONG_NOTE if capped.cut else None,
        )

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.converse(context.bot, update.effective_chat.id, START_MESSAGE)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await _quietly(query.answer())
        message = query.message
        if message is None or message.chat.type != "private":
            return
        data = query.data or ""
        payload = self.payloads.get(data) if data.startswith("#") else data
        if not payload:
            await self.send(context.bot, message.chat.id, EXPIRED_BUTTON_REPLY)
            return
        # Show the choice in place of the keyboard, so it is not pressed twice.
        title = _button_title(message, data)
        if title and getattr(message, "text", None):
            await _quietly(query.edit_message_text(message.text + CHOSEN.format(title=title)))
        await self.converse(context.bot, message.chat.id, payload)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.send(context.bot, update.effective_chat.id, NOT_TEXT_REPLY)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("update failed: %s", context.error, exc_info=context.error)

    # ------------------------------------------------------------------ one turn
    async def converse(self, bot, chat_id: int, message: str, note: str | None = None) -> None:
        """Rasa's answer to one message (after `note`, if any), then any operator replies waiting."""
        chat = self._touch(chat_id)
        async with chat.lock:
            if note:
                await self.send(bot, chat_id, note)
            # "typing…" and the note to the case desk (on the wire first) go while Rasa answers.
            typing = asyncio.create_task(_quietly(bot.send_chat_action(chat_id, ChatAction.TYPING)))
            try:
                answers = await self.link.ask_rasa(sender_id(chat_id), message, note=True)
            finally:
                await typing  # shown before the answer, never after it
            for answer in answers:
                await self.send(bot, chat_id, answer.get("text") or "", answer.get("buttons") or [])
            await self.deliver_operator_replies(bot, chat_id)

    async def send(self, bot, chat_id: int, text: str, buttons: list[dict] | None = None) -> None:
        if not text and buttons:
            text = "请选择："
        parts = split_text(text)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            await bot.send_message(chat_id, part, reply_markup=self.keyboard(buttons) if last and buttons else None)

    def keyboard(self, buttons: list[dict]) -> InlineKeyboardMarkup:
        """One button per row (Chinese titles are long on a phone); callback_data = the payload."""
        rows = []
        for b in buttons:
            title = str(b.get("title") or b.get("payload") or "")
            payload = str(b.get("payload") or title)
            rows.append([InlineKeyboardButton(title[:64], callback_data=self._callback_data(payload))])
        return InlineKeyboardMarkup(rows)

    def _callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA and not payload.startswith("#"):
            return payload
        key = "#" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self.payloads[key] = payload
        self.payloads.move_to_end(key)
        while len(self.payloads) > MAX_BUTTON_PAYLOADS:
            self.payloads.popitem(last=False)
        return key

    # ------------------------------------------------------------------ operator replies
    async def deliver_operator_replies(self, bot, chat_id: int) -> int:
        """Sends the case desk's pending replies, marking each delivered once it has been sent."""
        sender = sender_id(chat_id)
        self.polls.asked(chat_id, time.monotonic())
        replies = await self.link.pending_replies(sender)
        sent = 0
        for reply in replies:
            try:
                await self.send(bot, chat_id, OPERATOR_REPLY.format(case=reply["case"], text=reply["text"]))
            except Forbidden:  # the resident blocked the bot: the reply stays undelivered on the desk
                log.warning("%s blocked the bot; operator reply %s not delivered", sender, reply["id"])
                self.chats.pop(chat_id, None)
                return sent
            if not await self.link.mark_delivered(sender, reply["id"]):  # sent, not marked: may come again
                return sent
            sent += 1
            log.info("operator reply %s (case %s) delivered to %s", reply["id"], reply["case"], sender)
        return sent

    async def _poll_operator_replies(self, app: Application) -> None:
        while True:
            await asyncio.sleep(REPLY_POLL_SECONDS)
            now = time.monotonic()
            self.polls.keep(self.chats)
            waiting = await self.link.waiting_senders() if self.chats else set()
            for chat_id, chat in list(self.chats.items()):
                if chat.last_seen < now - ACTIVE_CHAT_SECONDS:
                    self.chats.pop(chat_id, None)
                elif sender_id(chat_id) not in waiting:
                    continue  # nothing waiting for this chat: no request
                elif not chat.lock.locked() and self.polls.due(chat_id, now - chat.last_seen, time.monotonic()):
                    # (a chat mid-turn gets its replies at the end of the turn; a quiet one is asked less often)
                    async with chat.lock:
                        try:
                            await self.deliver_operator_replies(app.bot, chat_id)
                        except TelegramError as exc:
                            log.warning("operator replies for %s: %s", sender_id(chat_id), exc)

    def _touch(self, chat_id: int) -> Chat:
        chat = recent_entry(self.chats, chat_id, lambda: Chat(time.monotonic()), MAX_ACTIVE_CHATS)
        chat.last_seen = time.monotonic()
        return chat


def _button_title(message, data: str) -> str | None:
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


async def _quietly(awaitable) -> None:
    """Cosmetic calls (typing…, answering a button press) must never break a turn."""
    try:
        await awaitable
    except TelegramError as exc:
        log.debug("ignored: %s", exc)


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())  # phone and ID numbers never reach the log
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main() -> int:
    configure_logging()
    cfg = settings()
    if not cfg.telegram_token:
        log.error("JZ_TELEGRAM_TOKEN is not set: nothing to do")
        return 2
    gateway = TelegramGateway(cfg)
    gateway.build_application().run_polling(allowed_updates=["message", "callback_query"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
