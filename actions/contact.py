"""Where a person is and how to reach them, read from their own words (urgent and volunteer reports)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.forms import REQUESTED_SLOT

from bot.places import find_place_in_text

PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)|(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
NO_PHONE = re.compile(r"不方便|不留|没有电话|没电话|莫得电话|不想留")


def phone_in(text: str) -> str | None:
    m = PHONE.search(text)
    return re.sub(r"[- ]", "", m[1] or m[2]) if m else None


def where_in(text: str) -> str | None:
    """The message as the place, when it names a county we serve. Otherwise the form asks
    (free text like "我们社区" names no place an operator could find)."""
    return without_phone(text)[:200] if find_place_in_text(text) else None


def without_phone(text: str) -> str:
    return re.sub(r"[，,；;\s]*(?:电话|手机|号码)?[:：]?\s*$", "", PHONE.sub("", text)).strip()


def message(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def where_from(tracker: Tracker, slot: str) -> dict[str, Any]:
    """{slot: place} from a message naming a place we serve, or from any reply to "在哪里"
    (with any phone number taken out); {} when the place is known already."""
    text = message(tracker)
    if tracker.get_slot(slot) is None and text and (where_in(text) or tracker.get_slot(REQUESTED_SLOT) == slot):
        return {slot: where_in(text) or without_phone(text)[:200]}
    return {}


def contact_from(tracker: Tracker, slot: str) -> dict[str, Any]:
    """{slot: phone number} from any message that has one; {slot: "none"} for "不方便" when asked."""
    text = message(tracker)
    phone = phone_in(text)
    if phone:
        return {slot: phone}
    if tracker.get_slot(REQUESTED_SLOT) == slot and NO_PHONE.search(text):
        return {slot: "none"}
    return {}
