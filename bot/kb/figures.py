"""The numbers a knowledge card's answer states, Arabic and Chinese (三十, 一百五十, 二〇二六), as
digits: every one must be in a span the answer cites (bot.kb.cards checks it)."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]{2,}")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# Words made of numeral characters that are not figures.
_CN_WORDS = ("一一", "一二", "万一", "十一五", "千万", "一千一万")


def cn_number(text: str) -> int | None:
    """'三十' → 30, '一百五十' → 150, '二〇二六' → 2026; None for a non-figure."""
    if text in _CN_WORDS:
        return None
    if all(ch in _CN_DIGITS for ch in text):  # digit by digit: 二〇二六
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "十百千":
            section += (digit or 1) * {"十": 10, "百": 100, "千": 1000}[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
    return total + section + digit


def figures(text: str) -> list[str]:
    """Every number an answer states, as digits (Chinese numerals converted)."""
    out = _NUMBER.findall(text)
    for m in _CN_NUMBER.finditer(text):
        n = cn_number(m.group(0))
        if n is not None:
            out.append(str(n))
    return out


def span_figures(spans: list[str]) -> set[str]:
    """Every number the spans state (as `figures`)."""
    found: set[str] = set()
    for s in spans:
        found.update(figures(s))
    return found
