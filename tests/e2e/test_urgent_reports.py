"""Urgent reports under faults, through the real Rasa server, action server and service
(bot/stack.py on loopback): the bot's "已登记…不会丢" is kept."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from actions import spool
from bot.cases.store import Case, DeadLetter
from bot.cases.users import create_user
from bot.config import settings
from bot.db import Database
from tests.conftest import say, texts

pytestmark = pytest.mark.e2e
PLACE_AND_PHONE = "渠县三汇镇，电话13812345678"


def sender(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def service_db(stack) -> Database:
    return Database(stack.settings.resolved_database_url())


def cases_of(stack, who: str) -> list[Case]:
    db = service_db(stack)
    try:
        with db.session() as s:
            return list(s.scalars(select(Case).where(Case.sender_id == who).order_by(Case.id)))
    finally:
        db.engine.dispose()


def wait_for_case(stack, who: str, within: float) -> tuple[Case | None, float]:
    start = time.monotonic()
    while time.monotonic() - start < within:
        found = cases_of(stack, who)
        if found:
            return found[0], time.monotonic() - start
        time.sleep(0.2)
    return None, time.monotonic() - start


def report(stack, who: str, first: str) -> str:
    """The urgent flow: the report, where and a phone number, consent; the last reply."""
    say(stack, who, first)
    reply = texts(say(stack, who, PLACE_AND_PHONE))
    if "可以吗" in reply:
        reply = texts(say(stack, who, "可以"))
    return reply


@pytest.fixture
def stack_spool(stack, monkeypatch):
    """actions.spool in this process, pointed at the running action server's spool file."""
    monkeypatch.setenv("JZ_DATA_DIR", str(stack.settings.data_dir))
    settings.cache_clear()
    yield
    settings.cache_clear()


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC)


def test_a_report_made_while_the_service_is_down_arrives_within_10_s_of_its_return_with_its_time(stack):
    who = sender("outage")
    service = stack.processes["service"]
    service.stop()
    try:
        before = datetime.now(UTC)
        reply = report(stack, who, "屋头断粮好几天了，娃儿没饭吃")
        assert "不会丢" in reply and "12345" in reply, reply
        time.sleep(3)  # nobody writes to the bot from here on
    finally:
        service.restart(timeout=240)  # the service loads its knowledge base before it answers
    back = datetime.now(UTC)
    case, waited = wait_for_case(stack, who, within=10)
    assert case is not None, f"spooled report still missing {waited:.1f}s after the service came back"
    assert waited <= 10
    print(f"spooled report arrived {waited:.1f}s after the service answered again")
    assert before - timedelta(seconds=1) <= utc(case.created_at) <= before + timedelta(seconds=10)
    assert utc(case.created_at) < back - timedelta(seconds=2)  # the resident's time, not the arrival
    assert case.type == "urgent" and case.priority == "urgent"
    assert len(cases_of(stack, who)) == 1


def test_an_oversize_first_message_makes_exactly_one_case(stack):
    who = sender("huge")
    first = "屋头断粮好几天了，娃儿没饭吃，我们真的没有办法了。" * 200  # 5 000 characters
    reply = report(stack, who, first)
    number = re.search(r"工单号 (GD[0-9A-Z]+)", reply)
    assert number, reply
    found = cases_of(stack, who)
    assert [c.number for c in found] == [number[1]]
    assert found[0].transcript[0]["text"].startswith("屋头断粮好几天了，娃儿没饭吃")
    assert len(found[0].transcript[0]["text"]) <= 4000


def login(stack, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=stack.service_url, timeout=10)
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)[1]
    r = client.post("/console/login", data={"username": username, "password": password, "login_token": token})
    assert r.status_code in (200, 303), r.text
    return client


def test_a_refused_report_raises_the_alert_and_never_blocks_later_reports(stack, stack_spool):
    refused, good = sender("refused"), sender("good")
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for who, channel in ((refused, "fax"), (good, "web")):  # spooled earlier; the first is refused
        spool.save(
            f"urgent-e2e-{who}",
            {
                "type": "urgent",
                "channel": channel,
                "sender_id": who,
                "title": "急难求助：断粮",
                "summary": "急难求助：屋头断粮好几天了",
                "reported_at": reported.isoformat(),
                "transcript": [{"role": "resident", "text": "屋头断粮好几天了"}],
            },
        )
    # No traffic: the action server's drainer sends both.
    case, waited = wait_for_case(stack, good, within=10)
    assert case is not None and utc(case.created_at) == reported
    last_resort, _ = wait_for_case(stack, refused, within=10)
    assert last_resort is not None and last_resort.title.startswith("【未能自动登记】")
    db = service_db(stack)
    with db.session() as s:
        letter = s.scalar(select(DeadLetter).where(DeadLetter.idempotency_key == f"urgent-e2e-{refused}"))
        assert letter is not None and "422" in letter.error and letter.case_number == last_resort.number
        name = f"sup{uuid.uuid4().hex[:6]}"
        create_user(s, name, "a-long-password-1", "supervisor", "值班长")
        s.commit()
    db.engine.dispose()
    deadline = time.monotonic() + 10
    while spool.pending() or not all(d["acknowledged_at"] for d in spool.dead_letters()):
        assert time.monotonic() < deadline, (spool.pending(), spool.dead_letters())
        time.sleep(0.2)
    # The alert on the console queue page, and the dead letter on its own page.
    console = login(stack, name, "a-long-password-1")
    page = console.get("/console").text
    alert = re.search(r'<div class="alert" id="dead-letter-alert"([^>]*)>(.*?)</div>', page, re.S)
    assert alert and "hidden" not in alert[1] and "未能按原样自动登记" in alert[2]
    assert int(re.search(r'data-count="dead_letters">(\d+)<', alert[2])[1]) >= 1
    assert last_resort.number in console.get("/console/dead-letters").text
    # A report made now arrives at once, as always.
    later = sender("later")
    assert re.search(r"已登记为急难求助，工单号 GD[0-9A-Z]+", report(stack, later, "屋头断粮好几天了，娃儿没饭吃"))
    assert len(cases_of(stack, later)) == 1


def test_the_action_server_drains_its_spool_when_it_starts(stack, stack_spool):
    actions = stack.processes["actions"]
    who = sender("at-start")
    actions.stop()
    try:
        spool.save(
            f"urgent-e2e-{who}",
            {
                "type": "urgent",
                "sender_id": who,
                "title": "急难求助：断粮",
                "summary": "断粮",
                "transcript": [{"role": "resident", "text": "断粮了"}],
            },
        )
    finally:
        actions.restart(timeout=120)
    case, waited = wait_for_case(stack, who, within=10)
    assert case is not None, "not delivered after the action server started"
    assert spool.pending() == []
