"""The conversational eligibility screen, as plain logic.

The chatbot collects facts in residents' own words (bot.facts); this module
turns them into a /v1/screen request, reads the service's `missing` list to
choose the one question to ask next, and says when to stop asking. The rasa-sdk
form (actions/screening.py) is a thin adapter around it.
"""

from __future__ import annotations

import re
from typing import Any

from bot.facts import extract_facts, merge_facts
from bot.numbers import normalize_numbers

# Slots the form can ask for, in the order a caseworker would ask them.
ASK_ORDER = (
    "jurisdiction",
    "household_size",
    "monthly_income",
    "hukou",
    "property_ok",
    "ages",
    "disability",
    "serious_illness",
    "labor_capacity",
    "employed",
    "has_able_supporter",
    "emergency_type",
    "monthly_rigid_expense",
    "local_standard",
)
# Enough questions for a rough screen; past this the result says what is still unknown.
MAX_QUESTIONS = 8

_DONT_KNOW = re.compile(r"不知道|不晓得|不清楚|不太清楚|说不清|不确定|搞不清|不了解|跳过")
_NO = re.compile(r"^(?:没有|没得|莫得|没|无|不是|都没有|都没得|一个都没有)")

_PROGRAM_WORDS = [
    ("tekun", r"特困|五保"),
    ("temporary_assistance", r"临时救助|急难|零时救助"),
    ("dibao_single", r"单人户|单人保|单独纳入|单独施保"),
    ("dibao_edge", r"边缘"),
    ("rigid_expense", r"支出型|刚性支出"),
    ("dibao", r"低保|底保|地保|最低生活保障"),
]


def program_in_text(text: str) -> str | None:
    for program, pattern in _PROGRAM_WORDS:
        if re.search(pattern, text):
            return program
    return None


def slot_for_missing(fact: str) -> str | None:
    """The form slot that answers one of the service's missing facts (None: not asked in chat)."""
    if fact == "household.members":
        return "household_size"
    if fact in ("household.other_monthly_income",) or fact.endswith(".monthly_income") and fact.startswith("members"):
        return "monthly_income"
    if fact == "hukou":
        return "hukou"
    if fact.startswith("standards.dibao_monthly"):
        return "local_standard"
    simple = {
        "household.property_ok": "property_ok",
        "household.has_able_supporter": "has_able_supporter",
        "household.emergency": "emergency_type",
        "household.monthly_rigid_expense": "monthly_rigid_expense",
    }
    if fact in simple:
        return simple[fact]
    m = re.match(r"^members\[\d+\]\.(\w+)$", fact)
    if m:
        attr = m[1]
        return {
            "age": "ages",
            "disability_type": "disability",
            "disability_grade": "disability",
            "serious_illness": "serious_illness",
            "labor_capacity": "labor_capacity",
            "employed": "employed",
        }.get(attr)
    return None


def read_answer(text: str, expecting: str | None, known: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(facts merged with what this message says, whether it said anything we could use).

    "不知道" to a question marks that fact as skipped, so it isn't asked again.
    """
    new = extract_facts(text, expecting=expecting)
    if expecting == "local_standard" and "local_standard" not in new:
        # Only a plain figure ("七百", "大概650块") answers it; a digit inside other words doesn't.
        m = re.fullmatch(
            r"\D{0,6}?(\d+(?:\.\d+)?)\s*(?:块|元|块钱)?(?:每人)?(?:每个?月|1个?月)?(?:左右|吧|的样子)?[。.!！]?",
            normalize_numbers(text).strip(),
        )
        if m and not _DONT_KNOW.search(text):
            new["local_standard"] = float(m[1])
            new.pop("monthly_income", None)
    if expecting and expecting not in new and _slot_value(new, expecting) is None:
        if _DONT_KNOW.search(text):
            skipped = sorted(set(known.get("_skipped", [])) | {expecting})
            return merge_facts(known, {"_skipped": skipped}), True
        if _NO.search(text.strip()) and expecting in ("disability", "serious_illness", "emergency_type", "ages"):
            negative = {
                "disability": {"disability_type": None, "disability_grade": 0},
                "serious_illness": {"serious_illness": False},
                "emergency_type": {"emergency_type": "none"},
                "ages": {"ages": []},
            }[expecting]
            return merge_facts(known, negative), True
    merged = merge_facts(known, new)
    if new and merged.get("_skipped"):  # answered after all: no longer skipped
        merged["_skipped"] = [s for s in merged["_skipped"] if _slot_value(merged, s) is None]
    return merged, bool(new)


def _slot_value(facts: dict[str, Any], slot: str) -> Any:
    if slot == "disability":
        if "disability_grade" in facts or "disability_type" in facts:
            return {"type": facts.get("disability_type"), "grade": facts.get("disability_grade")}
        return None
    return facts.get(slot)


def slot_values(facts: dict[str, Any]) -> dict[str, Any]:
    """Form slot values for the facts known so far (None for unknown)."""
    return {slot: _slot_value(facts, slot) for slot in ASK_ORDER}


def build_request(facts: dict[str, Any], as_of: str | None = None) -> dict[str, Any]:
    """A /v1/screen request from conversational facts; unknown facts are left out, never guessed."""
    household: dict[str, Any] = {}
    size = facts.get("household_size")
    ages = list(facts.get("ages") or [])
    if size:
        members: list[dict[str, Any]] = [{"relation": "self"}] + [{"relation": "other"} for _ in range(int(size) - 1)]
        for member, age in zip(members, ages, strict=False):  # ages told may be fewer
            member["age"] = age
        head = members[0]
        if "disability_grade" in facts:
            head["disability_grade"] = facts["disability_grade"] or None
            head["disability_type"] = facts.get("disability_type")
        for key in ("serious_illness", "labor_capacity", "employed"):
            if key in facts:
                head[key] = facts[key]
        if "monthly_income" in facts:
            # The household's total, as residents tell it; members are then 0 and the total "other".
            for member in members:
                member["monthly_income"] = 0
            household["other_monthly_income"] = facts["monthly_income"]
        household["members"] = members
    for key in ("property_ok", "has_able_supporter", "currently_receiving", "monthly_rigid_expense"):
        if key in facts:
            household[key] = facts[key]
    if facts.get("emergency_type") and facts["emergency_type"] != "none":
        household["emergency"] = {"type": facts["emergency_type"], "description": facts.get("emergency_text", "")}
    request: dict[str, Any] = {"household": household}
    if facts.get("jurisdiction"):
        request["jurisdiction"] = facts["jurisdiction"]
    if facts.get("hukou"):
        request["hukou"] = facts["hukou"]
    if facts.get("local_standard"):
        key = {"urban": "dibao_monthly_urban", "rural": "dibao_monthly_rural"}.get(facts.get("hukou"), "dibao_monthly")
        request["standards"] = {"dibao_monthly": facts["local_standard"], key: facts["local_standard"]}
    if as_of:
        request["as_of"] = as_of
    return request


def next_question(facts: dict[str, Any], screen: dict[str, Any] | None, program: str, asked: int) -> str | None:
    """The slot to ask next, or None when the screen has what it needs (or enough questions were asked).

    `screen` is the service's response for the current facts (None when the service is down:
    then the basic facts are asked in a fixed order).
    """
    skipped = set(facts.get("_skipped", []))
    if asked >= MAX_QUESTIONS:
        return None
    if not facts.get("jurisdiction") and "jurisdiction" not in skipped:
        return "jurisdiction"
    if screen is None:
        wanted = ["household_size", "monthly_income", "hukou"]
    else:
        results = {r["program"]: r for r in screen.get("results", [])}
        target = results.get(program) or results.get("dibao") or {}
        wanted = []
        for item in target.get("missing", []):
            fact = item["fact"] if isinstance(item, dict) else item
            if isinstance(item, dict) and item.get("for", "status") != "status":
                continue
            slot = slot_for_missing(fact)
            if slot and slot not in wanted:
                wanted.append(slot)
    for slot in ASK_ORDER:
        if slot in wanted and slot not in skipped and _slot_value(facts, slot) is None:
            return slot
    return None
