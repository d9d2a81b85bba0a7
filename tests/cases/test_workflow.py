"""The status workflow: legal moves, refused moves, who may move a case."""

from __future__ import annotations

import pytest

from bot.cases.desk import BOT
from bot.cases.model import (
    TRANSITIONS,
    CaseError,
    IllegalTransition,
    NotAllowed,
    Status,
    can_transition,
    check_transition,
)
from tests.cases.conftest import new_case

LEGAL = [
    ("new", "assigned"),
    ("new", "transferred"),
    ("new", "closed"),
    ("assigned", "in_progress"),
    ("assigned", "new"),
    ("assigned", "resolved"),
    ("assigned", "transferred"),
    ("in_progress", "waiting_resident"),
    ("in_progress", "resolved"),
    ("in_progress", "transferred"),
    ("waiting_resident", "in_progress"),
    ("waiting_resident", "resolved"),
    ("resolved", "closed"),
    ("resolved", "reopened"),
    ("closed", "reopened"),
    ("transferred", "closed"),
    ("transferred", "reopened"),
    ("reopened", "assigned"),
]


def test_every_pair_is_either_legal_or_refused():
    legal = set(LEGAL)
    for a in Status:
        for b in Status:
            if (
                (a.value, b.value) in legal
                or (a == Status.waiting_resident and b == Status.transferred)
                or (a == Status.reopened and b == Status.transferred)
            ):
                assert can_transition(a, b), (a, b)
                check_transition(a, b)
            else:
                assert not can_transition(a, b), (a, b)
                with pytest.raises(IllegalTransition) as err:
                    check_transition(a, b)
                assert "不能从" in err.value.message


def test_closed_cannot_jump_back_to_work():
    assert TRANSITIONS[Status.closed] == frozenset({Status.reopened})
    assert not can_transition("new", "resolved")
    assert not can_transition("closed", "in_progress")


def test_full_life_of_a_case(desk, people):
    view, created = desk.create_case(new_case(), BOT)
    assert created and view["status"] == "new"
    n = view["number"]
    assert desk.claim_next(people.op1)["number"] == n
    desk.change_status(n, "in_progress", people.op1)
    desk.change_status(n, "waiting_resident", people.op1, reason="请补充收入情况")
    desk.change_status(n, "in_progress", people.op1)
    with pytest.raises(CaseError, match="办理结果"):
        desk.change_status(n, "resolved", people.op1)
    v = desk.change_status(n, "resolved", people.op1, resolution="已告知申请流程")
    assert v["status"] == "resolved" and v["followup"]["due_at"]
    v = desk.record_followup(n, "satisfied", "满意", people.op1)
    assert v["followup"]["satisfaction_label"] == "满意"
    assert desk.change_status(n, "closed", people.op1)["status"] == "closed"
    with pytest.raises(IllegalTransition):
        desk.change_status(n, "in_progress", people.op1)
    v = desk.change_status(n, "reopened", people.sup, reason="回访不满意")
    assert v["status"] == "reopened" and v["assignee"] is None


def test_only_the_assignee_or_a_supervisor_works_a_case(desk, people):
    n = desk.create_case(new_case(), BOT)[0]["number"]
    with pytest.raises(NotAllowed):
        desk.change_status(n, "in_progress", people.op1)  # not claimed yet
    desk.claim_next(people.op1)
    with pytest.raises(NotAllowed):
        desk.change_status(n, "in_progress", people.op2)
    with pytest.raises(NotAllowed):
        desk.reply(n, "您好", people.op2)
    with pytest.raises(NotAllowed):
        desk.assign(n, "op2", people.op1)
    assert desk.assign(n, "op2", people.sup)["assignee"] == "op2"
    desk.change_status(n, "in_progress", people.op2)
    with pytest.raises(NotAllowed):
        desk.claim_next(people.vol)


def test_illegal_move_is_refused_and_changes_nothing(desk, people):
    n = desk.create_case(new_case(), BOT)[0]["number"]
    desk.claim_next(people.op1)
    before = desk.audit_log(n)
    with pytest.raises(IllegalTransition):
        desk.change_status(n, "closed", people.op1)
    assert desk.get(n, people.op1)["status"] == "assigned"
    assert desk.audit_log(n) == before


def test_transfer_to_the_other_hotline(desk, people):
    n = desk.create_case(new_case(jurisdiction="渠县"), BOT)[0]["number"]
    desk.claim_next(people.op1)
    v = desk.transfer(n, people.op1, hotline="12349", reason="属民政业务")
    assert v["status"] == "transferred" and v["hotline"] == "12349" and v["transferred_to"] == "12349热线"
    with pytest.raises(CaseError):
        desk.reply(n, "还在吗", people.op1)


def test_release_back_to_the_queue(desk, people):
    n = desk.create_case(new_case(), BOT)[0]["number"]
    desk.claim_next(people.op1)
    v = desk.change_status(n, "new", people.op1, reason="不熟悉这类业务")
    assert v["assignee"] is None
    assert desk.claim_next(people.op2)["number"] == n


def test_volunteer_may_report_discoveries_only(desk, people):
    v, _ = desk.create_case(new_case(type="discovery", sender_id=None, transcript=[], channel="console"), people.vol)
    assert v["priority"] == "high"
    with pytest.raises(NotAllowed):
        desk.create_case(new_case(type="complaint"), people.vol)
    assert [c["number"] for c in desk.list_reported(people.vol)] == [v["number"]]


def test_unknown_place_is_an_error_not_a_guess(desk):
    from bot.places import UnknownPlace

    with pytest.raises(UnknownPlace):
        desk.create_case(new_case(jurisdiction="火星"), BOT)


def test_the_message_that_made_the_case_is_not_added_again_by_its_note(desk):
    """Gateways send the note while Rasa answers: the case this message creates may already hold it."""
    transcript = [
        {"role": "resident", "text": "我要找人工", "message_id": "m-1"},
        {"role": "bot", "text": "已为您转人工"},
    ]
    n = desk.create_case(new_case(sender_id="conv-id", channel="wechat", transcript=transcript), BOT)[0]["number"]
    assert desk.case_record(n).transcript[0]["message_id"] == "m-1"  # the case keeps the id
    assert desk.add_resident_message("conv-id", "我要找人工", "wechat", "m-1") == n
    assert [t["text"] for t in desk.case_record(n).transcript] == ["我要找人工", "已为您转人工"]
    # The same words as a new message, and a note sent again after a timeout, each count once.
    assert desk.add_resident_message("conv-id", "我要找人工", "wechat", "m-2") == n
    assert desk.add_resident_message("conv-id", "我要找人工", "wechat", "m-2") == n
    assert desk.add_resident_message("conv-id", "我要找人工", "wechat") == n  # no id: always added
    texts = [t["text"] for t in desk.case_record(n).transcript]
    assert texts == ["我要找人工", "已为您转人工", "我要找人工", "我要找人工"]


def test_a_message_with_no_case_does_not_wait_for_the_write_lock(desk, db):
    """Most messages belong to no case: finding that must not queue behind another writer (on
    SQLite, the one write lock), while a message that joins a case still waits its turn."""
    import sqlite3
    import threading

    n = desk.create_case(new_case(sender_id="conv-lock", channel="web"), BOT)[0]["number"]
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
    joined: list[str | None] = []
    waiting = threading.Thread(target=lambda: joined.append(desk.add_resident_message("conv-lock", "还在吗", "web")))
    try:
        assert desk.add_resident_message("nobody-s-chat", "你好", "web") is None  # at once, not after 30 s
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and joined == []  # the one with a case waits for the lock
    finally:
        writer.execute("COMMIT")
        writer.close()
    waiting.join(10)
    assert joined == [n]
    assert [t["text"] for t in desk.case_record(n).transcript][-1] == "还在吗"


def test_routing_table_names_its_clause():
    from bot.cases.routing import route_for

    assert route_for("渠县").hotline == "12345"
    assert "渠委办发〔2022〕26号" in route_for("渠县").reference["title"]
    assert route_for("达州").hotline == "12349" and route_for("达州").matched_place == "四川省"
    assert "征求意见稿" in route_for("巴中").reference["note"]
    assert route_for("会宁").hotline == "12349" and route_for("会宁").matched_place == "全国"
    assert route_for(None).hotline == "12349"


def test_what_the_resident_adds_after_the_handover_joins_the_open_case(desk, people):
    n = desk.create_case(new_case(sender_id="conv-9", channel="web"), BOT)[0]["number"]
    assert desk.add_resident_message("conv-9", "补充一下：我电话是13900001111", "web") == n
    assert desk.add_resident_message("someone-else", "你好", "web") is None
    assert desk.add_resident_message("conv-9", "你好", "telegram") is None  # another channel's conversation
    desk.claim_next(people.op1)
    desk.change_status(n, "in_progress", people.op1)
    desk.change_status(n, "waiting_resident", people.op1, reason="等群众补充材料")
    desk.add_resident_message("conv-9", "材料拍好了", "web")
    record = desk.case_record(n)
    assert [t["text"] for t in record.transcript if t["role"] == "resident"][-2:] == [
        "补充一下：我电话是13900001111",
        "材料拍好了",
    ]
    assert record.status == "in_progress"
    assert any(e["action"] == "resident_message" for e in desk.audit_log(n))
    desk.change_status(n, "resolved", people.op1, resolution="已办结")
    assert desk.add_resident_message("conv-9", "谢谢", "web") is None  # a resolved case takes no more
