"""A real conversation with a 身份证号 and a phone number through the whole stack (Rasa,
action server, service: bot/stack.py), then a search of every place for the raw numbers.

They are found in exactly one place, legitimately: the case's own row in the service
database (its `contact` and `questions` fields: the phone to call back, the resident's
report as said), which only the operator handling the case and supervisors see whole
(bot/cases/desk.py sees_contact). Everywhere else — Rasa's tracker store, every log and
file in the data folder, the action server's spool, every other table and column, the
console pages and API answers for another operator — they appear 0 times.
"""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from bot.cases.desk import Actor, CaseDesk
from bot.cases.users import create_user
from bot.db import Database
from tests.conftest import say, texts
from tests.e2e.test_urgent_reports import wait_for_case

pytestmark = pytest.mark.e2e

ID_NUMBER = "360426199101010071"  # a valid 身份证号 (check digit right)
PHONE = "13912340876"
RAW = (ID_NUMBER, PHONE)
PASSWORD = "privacy-test-pw-42"
# The only place the raw numbers may be: the case's own fields its handler sees whole.
HANDLER_FIELDS = {"contact", "questions", "transcript"}


def _found(blob: str | bytes) -> list[str]:
    if isinstance(blob, bytes):
        return [n for n in RAW if n.encode() in blob or n.encode("utf-16-le") in blob]
    return [n for n in RAW if n in blob]


def _login(client: httpx.Client, username: str) -> None:
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": username, "password": PASSWORD, "login_token": token})
    assert r.status_code in (200, 303), r.text[:500]


def test_raw_numbers_are_nowhere_but_the_handlers_view(stack):
    who = f"privacy-{uuid.uuid4().hex[:8]}"
    say(stack, who, f"屋头断粮好几天了，娃儿没饭吃，我叫张三，身份证{ID_NUMBER}")
    reply = texts(say(stack, who, f"渠县三汇镇，电话{PHONE}"))
    if "可以吗" in reply:
        reply = texts(say(stack, who, "可以"))
    assert "工单号" in reply, reply
    case, _ = wait_for_case(stack, who, within=20)
    assert case is not None
    # The flow kept the phone across turns although the tracker store holds it sealed.
    assert case.contact.get("phone") == PHONE

    data_dir = stack.settings.data_dir
    db = Database(stack.settings.resolved_database_url())
    try:
        # 1. The service database, row by row: raw numbers only in this case's handler fields.
        places = []
        engine = db.engine
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                    for column, value in row.items():
                        if value is None or not _found(json.dumps(value, ensure_ascii=False, default=str)):
                            continue
                        places.append((table, column, row.get("number")))
        assert places and {(t, n) for t, _, n in places} == {("cases", case.number)}, places
        assert {c for _, c, _ in places} <= HANDLER_FIELDS, places

        # 2. Every file in the data folder: logs (rasa.log, actions.log, service.log), Rasa's
        # tracker store, the action server's spool. The service database files are checked
        # row by row above (its SQLite pages hold the handler's fields).
        service_files = {"service.db", "service.db-wal", "service.db-shm", "service.db-journal"}
        checked = []
        for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
            if path.name in service_files:
                continue
            checked.append(path.name)
            assert not _found(path.read_bytes()), path
        assert {"rasa.log", "actions.log", "service.log", "rasa_tracker.db"} <= set(checked), checked

        # The tracker store in use is ours, and it has this conversation (masked, sealed).
        tracker = create_engine(f"sqlite:///{data_dir / 'rasa_tracker.db'}")
        with tracker.connect() as conn:
            rows = [r[0] for r in conn.execute(text("SELECT data FROM events WHERE sender_id = :s"), {"s": who})]
        tracker.dispose()
        assert rows and any("jz-sealed:v1:" in r for r in rows) and any("139****0876" in r for r in rows)

        # 3. What another operator sees: console pages and API answers.
        with db.session() as s:
            for name, role in (("privop1", "operator"), ("privop2", "operator"), ("privsup", "supervisor")):
                create_user(s, name, PASSWORD, role, name)
            s.commit()
        desk = CaseDesk(db)
        desk.assign(case.number, "privop1", Actor(name="system"))
        base = stack.service_url
        with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as other:
            _login(other, "privop2")
            pages = [
                other.get("/console"),
                other.get("/console?queue=urgent"),
                other.get("/console?queue=all"),
                other.get(f"/console/cases/{case.number}"),
                other.get(f"/v1/cases/{case.number}"),
                other.get("/v1/cases?queue=urgent"),
                other.get("/v1/cases?queue=all"),
            ]
            assert pages[3].status_code == 200 and case.number in pages[3].text
            for page in pages:
                assert not _found(page.text), page.url
            assert "张三" not in pages[3].text and "张*" in pages[3].text

        # The exception, precisely: the handler sees the phone (and the report as said).
        with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as handler:
            _login(handler, "privop1")
            page = handler.get(f"/console/cases/{case.number}")
            assert PHONE in page.text
    finally:
        db.engine.dispose()
