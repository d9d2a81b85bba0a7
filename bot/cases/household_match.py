"""Is this household already reported? Pinyin keys and fuzzy matching of a name and an
address (pypinyin, rapidfuzz). Pure Python.

Volunteers write names as they hear them: 王小明 / 王晓明 / 汪小明 sound alike and are one
person, so names are compared by their toneless pinyin (wangxiaoming). Addresses are
compared the same way without the place words every address has (省 市 县 镇 村 组 号 …,
which would make any two addresses look alike) and with the numbers of 组/号 as digits, so
"三汇镇 红星村 3组" and "三汇镇红星村三组" match. A match needs the name AND the place, or the same phone: two 王小明 in one county are
common, two in one 组 are not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz

from bot.cases.search import normalize_phone

NAME_KEY_MAX = 64
# Scores are rapidfuzz ratios (0–100) over pinyin keys.
NAME_THRESHOLD = 88
ADDRESS_THRESHOLD = 75
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_TEN = re.compile(r"([一二三四五六七八九]?)十([一二三四五六七八九]?)")
# A number word counts as a number only before a unit (三组 → 3组; 三汇镇 stays a name).
_NUMBER_WORD = re.compile(r"[〇零一二三四五六七八九十]+(?=[组号队社栋幢楼单])")
_PLACE_WORDS = re.compile(r"省|自治州|市|县|区|街道|镇|乡|社区|居委会|村委会|村|组|号|栋|幢|单元|楼|室")
_NOT_KEY = re.compile(r"[^0-9a-z]")


def _tens(match: re.Match[str]) -> str:
    tens, ones = match.group(1), match.group(2)
    return f"{(tens or '一').translate(_CHINESE_DIGITS)}{(ones or '零').translate(_CHINESE_DIGITS)}"


def _digits(match: re.Match[str]) -> str:
    return _TEN.sub(_tens, match.group(0)).translate(_CHINESE_DIGITS)


def _pinyin_key(text: str | None) -> str:
    clean = unicodedata.normalize("NFKC", text or "").lower()
    syllables = lazy_pinyin(clean, style=Style.NORMAL, errors="default")
    return _NOT_KEY.sub("", "".join(syllables))


def name_key(name: str | None) -> str | None:
    """What `cases.contact_name_key` holds: the name's toneless pinyin, letters only (None if none)."""
    key = _pinyin_key(name)[:NAME_KEY_MAX]
    return key or None


def address_key(*parts: str | None) -> str:
    text = _NUMBER_WORD.sub(_digits, unicodedata.normalize("NFKC", "".join(p for p in parts if p)))
    return _pinyin_key(_PLACE_WORDS.sub(" ", text))


@dataclass(frozen=True)
class Household:
    """What a report says about whom it is about (any field may be empty)."""

    name: str = ""
    address: str = ""  # the place below the county: 乡镇/街道, 村/社区, 组, house
    phone: str = ""

    @property
    def name_key(self) -> str | None:
        return name_key(self.name)

    @property
    def address_key(self) -> str:
        return address_key(self.address)

    @property
    def phone_digits(self) -> str:
        digits = normalize_phone(self.phone)
        return digits if len(digits) >= 7 else ""


@dataclass(frozen=True)
class Match:
    ref: str  # the earlier report's id (its case number)
    reason: str  # phone | name_and_address
    name_score: float
    address_score: float


def similarity(new: Household, old: Household) -> Match | None:
    """How `new` matches `old`, or None if they look like different households."""
    if new.phone_digits and new.phone_digits == old.phone_digits:
        return Match("", "phone", _ratio(new.name_key, old.name_key), _ratio(new.address_key, old.address_key))
    if not new.name_key or not old.name_key:
        return None
    name_score = _ratio(new.name_key, old.name_key)
    if name_score < NAME_THRESHOLD:
        return None
    address_score = _ratio(new.address_key, old.address_key)
    if not new.address_key or not old.address_key or address_score < ADDRESS_THRESHOLD:
        return None
    return Match("", "name_and_address", name_score, address_score)


def find_matches(new: Household, earlier: Iterable[tuple[str, Household]]) -> list[Match]:
    """The earlier reports (ref, household) that look like `new`, best first."""
    found = []
    for ref, old in earlier:
        m = similarity(new, old)
        if m is not None:
            found.append(Match(ref, m.reason, m.name_score, m.address_score))
    return sorted(found, key=lambda m: (m.reason != "phone", -(m.name_score + m.address_score)))


def _ratio(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    # partial_ratio: "sanhuizhenhongxingcun3zu" inside "sichuandazhouquxiansanhuizhenhongxingcun3zu5hao".
    return round(max(fuzz.ratio(a, b), fuzz.partial_ratio(a, b) if min(len(a), len(b)) >= 8 else 0), 1)
