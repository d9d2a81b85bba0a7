"""What an operator types into the queue page's search box and filters, read back. Pure Python.

A search is one of:

- a case number: ``GD20261122K7M3QX`` in any case, full-width or with spaces; also without
  the ``GD`` (``20261122k7m3qx``, or an old all-digit ``20250521000012``: 14 digits are never a
  phone number, so this is not ambiguous);
- a phone number typed in full (``138 1234 5678``, ``+86 138…``, ``0818-1234567``), or only
  its last 4 digits (``5678``), or as the console shows it masked (``138****5678``);
- otherwise a part of the contact's name (``张``, ``张三``).

Phones are found through `phone_last4` (the derived, indexed column `cases.contact_phone_last4`):
four digits narrow the search to a handful of cases, and a full number is then compared with
each one's contact in Python, so nothing more of the number is stored than the contact itself.

Filters (type, place, hotline, priority, status, overdue only) come as text from a query string;
an unknown value is a CaseError with a Chinese message, never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.case_codes import CASE_PREFIX, normalize_case_number
from bot.cases.model import CaseError, CaseType, Hotline, Priority, Status
from bot.places import UnknownPlace, jurisdiction_path, known_places, normalize_place

SEARCH_MAX = 50
_PHONE_CHARS = re.compile(r"[\d\s\-+()（）]+")
_MASKED_PHONE = re.compile(r"(\d{3,4})-?\*{3,}(\d{4})")
_NUMBER_BODY = re.compile(r"\d{8}[0-9A-Z]{6}")


def normalize_phone(value: str | None) -> str:
    """The digits of a phone number as compared: no separators, no +86 / 0086 country code."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def phone_last4(value: str | None) -> str | None:
    """What `cases.contact_phone_last4` holds for a contact phone (None for no usable number)."""
    digits = normalize_phone(value)
    return digits[-4:] if len(digits) >= 7 else None


@dataclass(frozen=True)
class SearchTerm:
    """kind: number | phone | last4 | masked_phone | name; `value` is normalised for it."""

    kind: str
    value: str
    prefix: str = ""  # masked_phone: the digits shown before the stars

    def matches_phone(self, phone: str | None) -> bool:
        """For phone kinds: whether a contact's phone is the one searched for."""
        digits = normalize_phone(phone)
        if self.kind == "phone":
            return digits == self.value
        if self.kind == "masked_phone":
            return digits.startswith(self.prefix) and digits.endswith(self.value)
        return self.kind == "last4" and digits.endswith(self.value)


def parse_search(text: str | None) -> SearchTerm | None:
    """What a search box's text asks for; None when it is empty. CaseError when it cannot be one."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return None
    if len(raw) > SEARCH_MAX:
        raise CaseError(f"搜索内容太长（最多 {SEARCH_MAX} 个字）")
    compact = normalize_case_number(raw)
    if compact.startswith(CASE_PREFIX) and _NUMBER_BODY.fullmatch(compact[len(CASE_PREFIX) :]):
        return SearchTerm("number", compact)
    if _NUMBER_BODY.fullmatch(compact):  # without the GD (14 digits are no phone number)
        return SearchTerm("number", CASE_PREFIX + compact)
    masked = _MASKED_PHONE.fullmatch(re.sub(r"\s", "", raw))
    if masked:
        return SearchTerm("masked_phone", masked[2], prefix=masked[1])
    if _PHONE_CHARS.fullmatch(raw):
        digits = normalize_phone(raw)
        if len(digits) == 4:
            return SearchTerm("last4", digits)
        if 7 <= len(digits) <= 12:
            return SearchTerm("phone", digits)
        raise CaseError("请输入完整的电话号码、电话后四位、工单号或联系人姓名")
    return SearchTerm("name", raw)


@dataclass(frozen=True)
class CaseFilters:
    """The queue page's filters; empty fields filter nothing."""

    type: CaseType | None = None
    place: str | None = None  # a canonical place name: the place and the places under it
    hotline: Hotline | None = None
    priority: Priority | None = None
    status: Status | None = None
    overdue: bool = False

    def places(self) -> list[str]:
        """The jurisdictions the place filter admits (达州市 takes 渠县's cases too)."""
        if self.place is None:
            return []
        return [p for p in known_places() if self.place in jurisdiction_path(p)]

    def as_params(self) -> dict[str, str]:
        """The filters as query-string values (what `parse_filters` reads back)."""
        out = {
            "type": str(self.type or ""),
            "place": self.place or "",
            "hotline": str(self.hotline or ""),
            "priority": str(self.priority or ""),
            "status": str(self.status or ""),
            "overdue": "1" if self.overdue else "",
        }
        return {k: v for k, v in out.items() if v}


_CHOICES: dict[str, tuple[type, str]] = {
    "type": (CaseType, "工单类型"),
    "hotline": (Hotline, "热线"),
    "priority": (Priority, "优先级"),
    "status": (Status, "状态"),
}


def parse_filters(params: Mapping[str, str | None]) -> CaseFilters:
    """CaseFilters from query-string values; CaseError (Chinese) for a value we do not know."""
    chosen: dict[str, object] = {}
    for name, (enum, label) in _CHOICES.items():
        value = (params.get(name) or "").strip()
        if value:
            try:
                chosen[name] = enum(value)
            except ValueError:
                raise CaseError(f"没有这种{label}：{value[:20]}") from None
    place = (params.get("place") or "").strip()
    if place:
        try:
            chosen["place"] = normalize_place(place)
        except UnknownPlace:
            raise CaseError(f"没有这个地区：{place[:20]}") from None
    overdue = (params.get("overdue") or "").strip().lower()
    if overdue not in ("", "0", "1", "true", "false", "on"):
        raise CaseError("“只看超时”的取值不正确")
    chosen["overdue"] = overdue in ("1", "true", "on")
    return CaseFilters(**chosen)  # type: ignore[arg-type]
