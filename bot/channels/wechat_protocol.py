"""WeChat's message push on the wire, for the WeChat gateway (bot/channels/wechat.py).

What arrives at the account's 服务器地址 and what goes back, with wechatpy underneath and no
turn logic: the query signature (sha1 of the token, timestamp and nonce) within a replay
window, safe-mode (AES) decryption and encryption, the message XML, passive text replies;
and the text rules of WeChat's messages (2048 bytes at most, buttons as numbered choices).

The replay window: WeChat signs only the token, timestamp and nonce, never the body, so a
signed query seen once (a proxy log, a captured request) would otherwise let anyone post any
resident's message forever. A signature whose timestamp is more than REPLAY_WINDOW_SECONDS
from this server's clock is refused, for the URL check as for messages (WeChat signs both
at the moment it sends them). A refused good signature is logged: usually a wrong clock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

log = logging.getLogger("bot.channels.wechat")

REPLAY_WINDOW_SECONDS = 300  # WeChat signs each push as it sends it: 5 minutes allow for clocks and retries
MAX_TEXT_BYTES = 2000  # WeChat's text messages hold 2048 bytes
CHOICE_LINE = "回复 {n}：{title}"


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


def seconds_off(timestamp: str, now: float) -> float | None:
    """How far a signed timestamp is from `now` (None: not a timestamp)."""
    try:
        return abs(now - int(timestamp))
    except (TypeError, ValueError):
        return None


def message_key(msg) -> str:
    """What WeChat's retries of one message share: its MsgId (events: sender, time, event, key)."""
    if msg.id:
        return f"msg:{msg.id}"
    return f"event:{msg.source}:{msg.time}:{getattr(msg, 'event', msg.type)}:{getattr(msg, 'key', '')}"


@dataclass
class Refused(Exception):
    """A push the gateway does not read: the HTTP status and short text to answer it with."""

    status: int
    text: str


class Wire:
    """The account's token (and safe-mode key): checks, opens and seals what goes over the wire."""

    def __init__(
        self, token: str, aes_key: str | None, app_id: str | None, replay_window: float = REPLAY_WINDOW_SECONDS
    ):
        self.token = token
        self.replay_window = replay_window
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    def verify(self, signature: str, timestamp: str, nonce: str, now: float | None = None) -> bool:
        """The token's signature, made within the replay window."""
        try:
            check_signature(self.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            return False
        off = seconds_off(timestamp, time.time() if now is None else now)
        if off is None or off > self.replay_window:
            log.warning(
                "a signed request with a timestamp %s s from this server's clock was refused "
                "(replayed, or a clock is wrong)",
                "?" if off is None else int(off),
            )
            return False
        return True

    def read(self, body: bytes, signature: str, timestamp: str, nonce: str, encrypt_type: str, msg_signature: str):
        """The pushed message (wechatpy's), decrypted in safe mode; raises Refused."""
        if not self.verify(signature, timestamp, nonce):
            raise Refused(403, "bad signature")
        if encrypt_type.lower() == "aes":
            if self.crypto is None:
                log.error("an encrypted message arrived but JZ_WECHAT_AES_KEY is not set")
                raise Refused(400, "safe mode not configured")
            try:
                body = self.crypto.decrypt_message(body, msg_signature, timestamp, nonce)
            except (InvalidSignatureException, InvalidAppIdException):
                raise Refused(403, "bad signature") from None
            except Exception as exc:  # damaged ciphertext or XML
                log.warning("undecryptable message: %s", type(exc).__name__)
                raise Refused(400, "bad message") from None
        try:
            msg = parse_message(body)
        except Exception as exc:
            log.warning("unreadable message: %s", type(exc).__name__)
            raise Refused(400, "bad message") from None
        if msg is None or not msg.source:
            raise Refused(400, "bad message")
        return msg

    @staticmethod
    def text_reply(msg, content: str) -> str:
        """The passive reply XML answering `msg` with one text."""
        return TextReply(message=msg, content=content).render()

    def seal(self, reply: str, encrypt_type: str, nonce: str, timestamp: str) -> str:
        """The reply as it goes back: encrypted when the push came in safe mode."""
        if encrypt_type.lower() == "aes" and self.crypto is not None:
            return self.crypto.encrypt_message(reply, nonce, timestamp)
        return reply
