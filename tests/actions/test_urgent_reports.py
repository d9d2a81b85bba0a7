"""Urgent reports keep the bot's promise ("已登记…不会丢"), against the real service on loopback:
oversize reports, refusals (dead letters), outages (the spool and its drainer), lost answers
(idempotency) and a spool that cannot be written."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import delivery, spool
from actions.urgent import ActionReportEmergency, ActionSubmitUrgent
from bot.cases import dead_letters
from bot.cases.store import Case, DeadLetter
from bot.config import Settings, settings
from tests.actions.conftest import rendered
from tests.conftest import BOT_TOKEN, ServiceThread, free_port


def run(action, tracker) -> tuple[str, dict]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    text = "\n".join(rendered(m) for m in dispatcher.messages)
    return text, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def conversation(first: str, sender: str, reported: datetime) -> list[dict]:
    """The events Rasa sends for: report, place + phone, consent (with real timestamps)."""
    t0 = reported.timestamp()
    return [
        {"event": "user", "text": first, "timestamp": t0, "parse_data": {"intent": {"name": "report_urgent"}}},
        {"event": "bot", "text": "听到您遇到这么急的事，我们马上帮您登记急难求助。", "timestamp": t0 + 1},
        {"event": "user", "text": "渠县三汇镇，电话13812345678", "timestamp": t0 + 20},
        {"event": "bot", "text": "帮您登记急难求助，可以吗？", "timestamp": t0 + 21},
        {"event": "user", "text": "可以", "timestamp": t0 + 30},
    ]


def tracker(events: list[dict], slots: dict, sender: str) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots=slots,
        latest_message={"text": events[-1]["text"], "intent": {"name": "affirm", "confidence": 0.99}, "entities": []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def report_urgently(first: str, sender: str, reported: datetime) -> str:
    """The urgent flow's two actions on one conversation; returns what the resident is told."""
    events = conversation(first, sender, reported)
    _, slots = run(ActionReportEmergency(), tracker(events[:1], {}, sender))
    slots.update(urgent_where="渠县三汇镇", urgent_contact="13812345678", urgent_consent=True)
    text, _ = run(ActionSubmitUrgent(), tracker(events, slots, sender))
    return text


def cases_of(service, sender: str) -> list[Case]:
    with service.app.state.db.session() as s:
        return list(s.scalars(select(Case).where(Case.sender_id == sender).order_by(Case.id)))


def service_down(monkeypatch) -> None:
    monkeypatch.setenv("JZ_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("JZ_SERVICE_TIMEOUT", "0.5")
    settings.cache_clear()


def service_at(monkeypatch, url: str) -> None:
    monkeypatch.setenv("JZ_SERVICE_URL", url)
    settings.cache_clear()


def sender_id(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


NOW = lambda: datetime.now(UTC).replace(microsecond=0)  # noqa: E731


# ---------------------------------------------------------------- size


def test_an_oversize_first_message_makes_exactly_one_case(service_env):
    sender = sender_id("huge")
    first = "屋头断粮好几天了，娃儿没饭吃，" + "我们真的没有办法了" * 700  # ~6300 characters
    reported = NOW() - timedelta(minutes=2)
    told = report_urgently(first, sender, reported)
    assert re.search(r"已登记为急难求助，工单号 GD[0-9A-Z]+", told), told
    [case] = cases_of(service_env, sender)
    assert case.transcript[0]["text"].startswith("屋头断粮好几天了，娃儿没饭吃，我们真的没有办法了")
    assert len(case.transcript[0]["text"]) <= 4000 and "后面的已省略" in case.transcript[0]["text"]
    assert case.created_at == reported.replace(tzinfo=None)  # the time of the first words
    assert spool.pending() == [] and spool.dead_letters() == []


# ---------------------------------------------------------------- refusals


def test_a_refused_report_is_dead_lettered_with_an_alert_and_never_blocks_the_others(service_env, monkeypatch):
    # Three reports spooled during an outage; the middle one is one the service refuses.
    senders = [sender_id(n) for n in ("before", "refused", "after")]
    for i, sender in enumerate(senders):
        case = {
            "type": "urgent",
            "channel": "fax" if i == 1 else "web",
            "sender_id": sender,
            "title": "急难求助：断粮",
            "summary": "断粮",
            "reported_at": (NOW() - timedelta(minutes=9 - i)).isoformat(),
            "transcript": [{"role": "resident", "text": f"第{i}份：屋头断粮了"}],
        }
        spool.save(f"urgent-spooled-{sender}", case)
    counts = asyncio.run(delivery.flush())
    assert counts["sent"] == 2 and counts["buried"] == 1
    assert len(cases_of(service_env, senders[0])) == 1 and len(cases_of(service_env, senders[2])) == 1
    assert spool.pending() == []
    [letter] = spool.dead_letters()
    assert "422" in letter["error"] and letter["acknowledged_at"] and letter["case_number"]
    # The service keeps it as a dead letter, on the console's alert, with a case of last resort.
    with service_env.app.state.db.session() as s:
        stored = s.scalar(select(DeadLetter).where(DeadLetter.idempotency_key == f"urgent-spooled-{senders[1]}"))
        assert stored is not None and stored.resolved_at is None and stored.case_number == letter["case_number"]
    [last_resort] = cases_of(service_env, senders[1])
    assert last_resort.priority == "urgent" and last_resort.title.startswith("【未能自动登记】")
    # Counted on the console's alert (shown there: tests/cases/test_dead_letters.py, tests/e2e).
    assert dead_letters.unresolved_count(service_env.app.state.case_desk) >= 1
    # A later report still arrives at once.
    later = sender_id("later")
    assert "已登记为急难求助" in report_urgently("屋头断粮好几天了", later, NOW())
    assert len(cases_of(service_env, later)) == 1


def test_a_report_refused_at_once_still_gets_the_resident_a_case_number(service_env, monkeypatch):
    monkeypatch.setattr("actions.cases.channel_of", lambda _tracker: "fax")  # a payload the schema refuses
    sender = sender_id("refused-now")
    told = report_urgently("屋头断粮好几天了，娃儿没饭吃", sender, NOW())
    number = re.search(r"工单号 (GD[0-9A-Z]+)", told)[1]
    [case] = cases_of(service_env, sender)
    assert case.number == number and case.title.startswith("【未能自动登记】") and case.priority == "urgent"
    assert spool.dead_letters()[0]["case_number"] == number


# ---------------------------------------------------------------- outages


class DrainerThread:
    """The action server's drainer, in its own thread and event loop."""

    def __init__(self, interval: float = 0.5):
        self.loop = asyncio.new_event_loop()
        self.drainer = delivery.Drainer(interval)
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.drainer.run(),), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.drainer.stop()
        self.thread.join(10)
        self.loop.close()


def test_a_spooled_report_arrives_within_10_s_of_the_service_coming_back_with_its_time(
    service_env, monkeypatch, tmp_path
):
    port = free_port()
    monkeypatch.setenv("JZ_SERVICE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("JZ_SERVICE_TIMEOUT", "0.5")
    settings.cache_clear()
    sender = sender_id("outage")
    reported = NOW() - timedelta(seconds=90)
    with DrainerThread(interval=1.0):
        told = report_urgently("屋头断粮好几天了，娃儿没饭吃", sender, reported)
        assert "不会丢" in told and "12345" in told
        assert len(spool.pending()) == 1
        time.sleep(2)  # the drainer meets the outage a few times
        assert len(spool.pending()) == 1
        cfg = Settings(data_dir=tmp_path / "back", service_port=port, bot_token=BOT_TOKEN)
        with ServiceThread(cfg) as back:  # the service comes back; nobody writes to the bot
            up = time.monotonic()
            while not cases_of(back, sender) and time.monotonic() - up < 10:
                time.sleep(0.1)
            waited = time.monotonic() - up
            [case] = cases_of(back, sender)
            # The service stores the case before the drainer reads its answer and clears the spool.
            while spool.pending() and time.monotonic() - up < waited + 5:
                time.sleep(0.1)
    assert waited <= 10, waited
    assert case.created_at == reported.replace(tzinfo=None)
    # Same day from the report time, not from the arrival (at least 4 hours: never before that).
    assert case.due_at >= case.created_at + timedelta(hours=4)
    assert spool.pending() == []


def test_the_answer_is_lost_after_the_case_is_stored_and_the_retry_makes_no_duplicate(service_env, monkeypatch):
    """A proxy that stores the case in the real service, then answers 502 (a lost answer)."""
    lost = {"n": 0, "limit": 1}
    proxy = FastAPI()

    @proxy.api_route("/{path:path}", methods=["GET", "POST"])
    async def forward(path: str, request: Request):
        async with httpx.AsyncClient() as client:
            r = await client.request(
                request.method,
                f"{service_env.url}/{path}",
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            )
        if path == "v1/cases" and lost["n"] < lost["limit"]:
            lost["n"] += 1
            return Response(status_code=502)
        return Response(r.content, status_code=r.status_code, media_type="application/json")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(proxy, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        service_at(monkeypatch, f"http://127.0.0.1:{port}")
        # 1. The client's own retry (same key) gets the stored case back.
        sender = sender_id("lost-once")
        told = report_urgently("屋头断粮好几天了", sender, NOW())
        assert lost["n"] == 1 and re.search(r"工单号 GD[0-9A-Z]+", told)
        assert len(cases_of(service_env, sender)) == 1
        # 2. Every answer lost: the report is spooled although the service has it; the spool's
        #    later try makes no second case.
        lost.update(n=0, limit=4)
        monkeypatch.setattr("actions.api.service.ServiceClient.create_case.__defaults__", (4, 0.01))
        sender = sender_id("lost-always")
        assert "不会丢" in report_urgently("屋头断粮好几天了", sender, NOW())
        assert len(cases_of(service_env, sender)) == 1 and len(spool.pending()) == 1
        asyncio.run(delivery.flush())
        asyncio.run(delivery.flush())
        assert spool.pending() == [] and len(cases_of(service_env, sender)) == 1
    finally:
        server.should_exit = True
        thread.join(10)


# ---------------------------------------------------------------- nowhere to keep it


def _unopenable(tmp_path):
    (tmp_path / "actions_spool.db").mkdir()  # the spool file cannot be opened (like a read-only disk)


def _full(monkeypatch):
    """The spool's disk is full: SQLite may not grow the file by a single page, so it
    answers with its own "database or disk is full"."""
    from types import SimpleNamespace

    def connect(*args, **kwargs):
        conn = sqlite3.connect(*args, **kwargs)
        conn.execute("PRAGMA max_page_count = 1")
        return conn

    monkeypatch.setattr(spool, "sqlite3", SimpleNamespace(connect=connect, Error=sqlite3.Error))


@pytest.mark.parametrize("breakage", ["unopenable", "full"])
def test_a_report_that_cannot_be_stored_tells_the_resident_to_call_12345_now(
    service_env, monkeypatch, tmp_path, breakage
):
    service_down(monkeypatch)
    _unopenable(tmp_path) if breakage == "unopenable" else _full(monkeypatch)
    with pytest.raises(spool.SpoolError, match="unable to open" if breakage == "unopenable" else "disk is full"):
        spool.save("probe", {"type": "urgent", "summary": "x" * 5000})
    told = report_urgently("屋头断粮好几天了，娃儿没饭吃", sender_id("nowhere"), NOW())
    assert "请现在就拨打 12345" in told and "110、120 或 119" in told
    assert "已登记" not in told and "不会丢" not in told and "记在这里" not in told


def test_the_old_spool_file_is_upgraded(service_env):
    path = spool.spool_path()
    with sqlite3.connect(path) as conn:  # a spool written before dead letters existed
        conn.execute(
            "CREATE TABLE pending_cases (idempotency_key TEXT PRIMARY KEY, payload TEXT NOT NULL,"
            " created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)"
        )
        conn.execute('INSERT INTO pending_cases VALUES (\'urgent-old-1\', \'{"type": "urgent", "title": "旧"}\', 1, 3)')
    assert spool.pending() == [("urgent-old-1", {"type": "urgent", "title": "旧"})]
    asyncio.run(delivery.flush())
    assert spool.pending() == []
    with service_env.app.state.db.session() as s:
        assert s.scalar(select(func.count(Case.id)).where(Case.idempotency_key == "urgent-old-1")) == 1
