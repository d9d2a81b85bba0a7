"""Cleaning residents' free text before it reaches NLU, search or storage."""
from __future__ import annotations

import re
import unicodedata

# Longer messages are refused with a clear error rather than truncated silently.
MAX_MESSAGE_CHARS = 2000

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\u3000]+")


def require_text(text: str, empty_message: str) -> str:
    """The cleaned text, or ValueError(empty_message) when nothing is left (for pydantic validators)."""
    text = clean_message(text)
    if not text:
        raise ValueError(empty_message)
    return text


_QUESTION = re.compile(
    r"[?？]\s*$|[吗嘛么呢不没]\s*[?？。.!！]?\s*$|是否|能不能|能否|可不可以|可以.{0,12}吗|有没有|哪些|什么|啥子?|怎么|咋个?|如何|多少|多久|几[个天月年]"
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
