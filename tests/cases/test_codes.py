"""Check codes and case numbers (bot/case_codes.py): long enough, not guessable in
sequence, readable on a phone; older cases' numbers and codes still work."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import update

from bot.case_codes import (
    ALPHABET,
    CHECK_CODE_LENGTH,
    find_case_number,
    find_check_code,
    new_case_number,
    new_check_code,
)
from bot.cases.desk import BOT
from bot.cases.store import Case
from tests.cases.conftest import new_case

LOOK_ALIKES = set("0O1IL")
NEW_NUMBER = re.compile(rf"^GD\d{{8}}[{ALPHABET}]{{6}}$")


def _value(suffix: str) -> int:
    n = 0
    for ch in suffix:
        n = n * len(ALPHABET) + ALPHABET.index(ch)
    return n


def test_check_codes_are_long_and_unambiguous():
    codes = {new_check_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) >= 8 and len(code) == CHECK_CODE_LENGTH
        assert not LOOK_ALIKES & set(code) and set(code) <= set(ALPHABET)
        assert re.search(r"\d", code) and re.search(r"[A-Z]", code)


def test_case_numbers_in_a_row_are_not_consecutive(desk, clock):
    first = desk.create_case(new_case(), BOT)[0]
    second = desk.create_case(new_case(sender_id="conv-2"), BOT)[0]
    for case in (first, second):
        assert NEW_NUMBER.match(case["number"]), case["number"]
        assert case["number"].startswith(f"GD{desk.rules.to_local(clock()):%Y%m%d}")
        assert len(case["check_code"]) >= 8
    a, b = _value(first["number"][10:]), _value(second["number"][10:])
    assert abs(a - b) > 1
    numbers = [desk.create_case(new_case(sender_id=f"c{i}"), BOT)[0]["number"] for i in range(30)]
    assert len(set(numbers)) == 30
    assert new_case_number(date(2026, 11, 22)).startswith("GD20261122")


def test_older_cases_are_still_found(desk, db):
    view = desk.create_case(new_case(), BOT)[0]
    with db.session() as s:  # as the desk numbered cases before: sequence and a 6-digit code
        s.execute(
            update(Case).where(Case.number == view["number"]).values(number="GD20250519000001", check_code="123456")
        )
        s.commit()
    assert desk.lookup("GD20250519000001", "123456")["number"] == "GD20250519000001"
    assert desk.lookup(" gd20250519000001 ", " 123456")["status"] == "new"


def test_codes_are_read_from_chat_messages():
    cases = {
        "查一下工单GD20261122K7M3QX查询码AB3D5F7G": ("GD20261122K7M3QX", "AB3D5F7G"),
        "工单号 gd20261122k7m3qx 查询码 ab3d-5f7g": ("GD20261122K7M3QX", "AB3D5F7G"),
        "ＧＤ２０２６１１２２Ｋ７Ｍ３ＱＸ　ＡＢ３Ｄ５Ｆ７Ｇ": ("GD20261122K7M3QX", "AB3D5F7G"),
        "GD20261122K7M3QX AB3D5F7G": ("GD20261122K7M3QX", "AB3D5F7G"),
        # older numbers and codes, as residents were given them
        "查一下工单GD20261122000001查询码123456": ("GD20261122000001", "123456"),
        "查询码是3392，工单GD20251230008": ("GD20251230008", "3392"),
    }
    for text, (number, code) in cases.items():
        assert (find_case_number(text), find_check_code(text)) == (number, code), text
    assert find_check_code("工单 GD20261122K7M3QX 办得咋样了 password") is None
