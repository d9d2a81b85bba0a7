"""Cleaning residents' free text before it reaches NLU, search or storage."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# One rule at every door (the web chat relay, the Telegram gateway, Rasa's REST channel):
# at most MAX_MESSAGE_CHARS characters of a resident's message reach the model (the
# classifier, the knowledge base, a case). A longer message is cut there by `cap_message`
# and the answer starts with `too_long_note`, so nobody is refused for writing a lot and
# nothing long is run through the classifier whole. A request whose message is longer than
# MAX_RAW_MESSAGE_CHARS is not something a person typed or pasted: it is refused unread.
MAX_MESSAGE_CHARS = 1000
MAX_RAW_MESSAGE_CHARS = 200_000

# A cut prefers the end of a sentence when there is one in the last fifth before the cap.
_SENTENCE_END = re.compile(r"[。！？!?；;\n…]")

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u3000]+")


def require_text(text: str, empty_message: str) -> str:
    """The cleaned text, or ValueError(empty_message) when nothing is left (for pydantic validators)."""
    text = clean_message(text)
    if not text:
        raise ValueError(empty_message)
    return text


_QUESTION = re.compile(
    r"[?？]\s*$|[吗嘛么呢不没]\s*[?？。.!！]?\s*$|是否|能不能|能否|可不可以|可以.{0,12}吗|有没有|哪些|什么|啥子?|怎么|咋个?|如何|多少|多久|(?<!好)几[个天月年号点岁次倍口周]|哪天"
    r"|还是.{1,12}[?？]?$|要不要|会不会|是不是|算不算|找谁|谁来|哪个|哪里|哪儿"
)


def looks_like_question(text: str) -> bool:
    """Whether a message asks something (rather than states facts or asks for an action)."""
    return bool(_QUESTION.search(text or ""))


def clean_message(text: str) -> str:
    """NFKC (full-width digits and letters to half-width), no control chars, folded spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    return text.strip()


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    """Traditional characters as simplified (請問特困供養怎麼申請 → 请问特困供养怎么申请):
    the classifier, the rules and the knowledge base are all written in simplified."""
    return _t2s()(text) if text else text


class Capped(NamedTuple):
    text: str  # what goes on to the model: the message itself, or its first part
    cut: bool  # whether it was cut
    length: int  # the length of the message as sent


def cap_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> Capped:
    """The message, or its first `limit` characters (ending at a sentence end when one is near)."""
    text = text or ""
    if len(text) <= limit:
        return Capped(text, False, len(text))
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= limit * 4 // 5:
        head = head[: ends[-1]]
    return Capped(head.strip() or text[:limit], True, len(text))


def too_long_note(limit: int = MAX_MESSAGE_CHARS) -> str:
    """What a resident is told, before the answer, when their message was cut."""
    return (
        f"您的消息有点长，我先看了前面的 {limit} 字来回答。"
        "后面如果还有要紧的事，请分成几条短一点的消息发给我，先说最着急的。"
    )


def too_long_refusal(limit: int = MAX_RAW_MESSAGE_CHARS) -> str:
    """The answer to a message over MAX_RAW_MESSAGE_CHARS, which is not read at all."""
    return f"消息太长了（超过 {limit} 字），我没法接收。请分成几条短一点的消息发给我，先说最着急的事。"
