"""Retention (bot/retention.py): past JZ_RETENTION_DAYS closed cases keep only their
skeleton, Rasa's old events and resolved dead letters go; open cases stay whole."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import retention
from bot.cases.desk import BOT
from bot.cases.store import Case, CaseEvent, CaseNote, CaseReply, DeadLetter
from bot.config import PROJECT_ROOT, Settings
from tests.cases.conftest import new_case

PHONE = "13812345678"
NOW = datetime(2026, 6, 1, 0, 0)


def _case(desk, db, status: str, closed_days_ago: float, **kw) -> str:
    v, _ = desk.create_case(new_case(transcript=[{"role": "resident", "text": f"我叫张三，电话{PHONE}"}], **kw), BOT)
    with db.session() as s:
        case = s.scalars(select(Case).where(Case.number == v["number"])).one()
        when = NOW - timedelta(days=closed_days_ago)
        case.status, case.updated_at = status, when
        case.closed_at = when if status == "closed" else None
        case.resolution = f"已回电 {PHONE}"
        s.add(CaseNote(case_id=case.id, at=when, author="op1", text=f"回电 {PHONE}"))
        s.add(
            CaseReply(
                case_id=case.id, channel="web", sender_id="conv-1", author="op1", text="您好张三", created_at=when
            )
        )
        s.commit()
    return v["number"]


def _tracker_db(path, stamps):
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL,"
        " intent_name TEXT, action_name TEXT, data TEXT)"
    )
    for i, ts in enumerate(stamps):
        conn.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
            (f"s{i}", ts, json.dumps({"event": "user", "text": "渠县低保"})),
        )
    conn.commit()
    conn.close()


def test_closed_cases_past_the_period_keep_their_skeleton_only(desk, db, tmp_path):
    old_closed = _case(desk, db, "closed", 200, sender_id="old-closed")
    old_transferred = _case(desk, db, "transferred", 181, sender_id="old-transferred")
    recent_closed = _case(desk, db, "closed", 100, sender_id="recent")
    old_open = _case(desk, db, "in_progress", 400, sender_id="old-open")
    with db.session() as s:
        s.add(
            DeadLetter(
                idempotency_key="dl-old",
                case_type="urgent",
                sender_id="x",
                error=f"422 {PHONE}",
                payload={"contact": {"phone": PHONE}},
                received_at=NOW - timedelta(days=300),
                resolved_at=NOW - timedelta(days=200),
                resolved_by="sup",
            )
        )
        s.commit()
    cfg = Settings(data_dir=tmp_path, retention_days=180)
    tracker = tmp_path / "rasa_tracker.db"
    _tracker_db(tracker, [(NOW - timedelta(days=d)).replace(tzinfo=UTC).timestamp() for d in (365, 181, 179, 1)])

    dry = retention.run(cfg, db, now=NOW, dry_run=True)
    assert (dry.cases, dry.dead_letters, dry.tracker_events) == (2, 1, 2)
    report = retention.run(cfg, db, now=NOW)
    assert (report.cases, report.dead_letters, report.tracker_events) == (2, 1, 2)
    assert retention.run(cfg, db, now=NOW).cases == 0  # once only

    with db.session() as s:
        for number in (old_closed, old_transferred):
            c = s.scalars(select(Case).where(Case.number == number)).one()
            assert c.title.startswith(retention.PURGED_MARK)
            assert (c.transcript, c.summary, c.questions, c.contact, c.resolution, c.sender_id) == (
                [],
                "",
                [],
                {},
                "",
                None,
            )
            assert c.type and c.jurisdiction == "渠县" and c.created_at and c.status in ("closed", "transferred")
            assert all(n.text == "" for n in s.scalars(select(CaseNote).where(CaseNote.case_id == c.id)))
            assert all(r.text == "" for r in s.scalars(select(CaseReply).where(CaseReply.case_id == c.id)))
            assert s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.action == "retention")).one()
        for number in (recent_closed, old_open):
            c = s.scalars(select(Case).where(Case.number == number)).one()
            assert PHONE in json.dumps(c.transcript) and c.contact["phone"] == PHONE
        letter = s.scalars(select(DeadLetter)).one()
        assert letter.payload == {} and letter.error == "" and letter.resolved_by == "sup"
    left = [r[0] for r in sqlite3.connect(tracker).execute("SELECT sender_id FROM events ORDER BY id")]
    assert left == ["s2", "s3"]
    db.engine.dispose()
    assert PHONE.encode() not in tracker.read_bytes()


def test_retention_off_and_the_command_line(tmp_path, db):
    assert retention.run(Settings(data_dir=tmp_path, retention_days=0), db) is None
    env = {"JZ_DATA_DIR": str(tmp_path), "JZ_RETENTION_DAYS": "30", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bot.retention", "--dry-run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "would be emptied: 0 closed cases" in out.stdout
