"""Rasa's tracker store (rasa_channels/tracker_store.py) writes each event once, in order.

A tracker the store read knows how many of its events are stored, so a save writes only
what came after without counting rows; a fresh tracker, one saved twice, a new session and a
tracker read with all its sessions must all leave the table holding exactly the
conversation's events; and a conversation kept decoded between turns still shows what
another Rasa server wrote. SQLite and PostgreSQL, in Rasa's own environment.
"""

from __future__ import annotations

import json

import pytest

from tests.support.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.support.rasa_script import run_rasa_script

SCRIPT = r'''
import asyncio, json, sys, time
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa_channels.tracker_store import MaskingSQLTrackerStore

url, dialect, out = sys.argv[1:4]
domain = Domain.from_yaml("""
version: "3.1"
slots:
  topic: {type: any, mappings: [{type: custom}]}
""")
# After the real time of the fresh tracker's first action_listen, as a conversation's times are.
clock = iter(range(int(time.time()) + 10, int(time.time()) + 10**6))

def turn(text):
    t = float(next(clock))
    return [UserUttered(text, parse_data={"text": text, "intent": {"name": "ask"}}, timestamp=t),
            ActionExecuted("action_answer", timestamp=t), SlotSet("topic", text, timestamp=t),
            BotUttered(f"答：{text}", timestamp=t), ActionExecuted("action_listen", timestamp=t)]

async def main():
    store = MaskingSQLTrackerStore(domain=domain, host=url, dialect=dialect)
    table = store.SQLEvent.__table__
    def stored(sender):
        with store.engine.connect() as c:
            rows = c.execute(sa.select(table.c.data).where(table.c.sender_id == sender).order_by(table.c.id))
            data = [json.loads(r[0]) for r in rows]
        return [(d["event"], d.get("text") or (d.get("value") if d["event"] == "slot" else d.get("name"))) for d in data]
    def said(events):
        return [(e.type_name, getattr(e, "text", None) or getattr(e, "action_name", None) or getattr(e, "value", None)) for e in events]
    checks = {}
    # A new conversation: the fresh tracker (never read) is counted as Rasa counts it.
    tracker = await store.get_or_create_tracker("conv-a")
    expected = list(tracker.events)
    for i in range(6):
        tracker = await store.retrieve("conv-a")
        new = turn(f"第{i}句")
        for e in new:
            tracker.update(e)
        expected += new
        await store.save(tracker)
        await store.save(tracker)  # saved again with nothing new: nothing written twice
    checks["turns"] = stored("conv-a") == said(expected)
    # A new session: later reads see only it; what they write comes after it.
    tracker = await store.retrieve("conv-a")
    session = [ActionExecuted("action_session_start", timestamp=float(next(clock))),
               SessionStarted(timestamp=float(next(clock))), ActionExecuted("action_listen", timestamp=float(next(clock)))]
    for e in session:
        tracker.update(e)
    expected += session
    await store.save(tracker)
    tracker = await store.retrieve("conv-a")
    # Rasa's query starts at the session start's time: action_session_start, just before it, is not read.
    checks["session_read"] = said(tracker.events) == said(session[1:])
    new = turn("新会话第一句")
    for e in new:
        tracker.update(e)
    expected += new
    await store.save(tracker)
    # Read with every session, then saved.
    full = await store.retrieve_full_tracker("conv-a")
    checks["full_read"] = len(full.events) == len(expected)
    new = turn("全部会话之后")
    for e in new:
        full.update(e)
    expected += new
    await store.save(full)
    checks["after_full"] = stored("conv-a") == said(expected)
    checks["others_untouched"] = stored("conv-b") == []
    # Two Rasa servers on one database, taking turns on one conversation (the lock store lets one
    # at a time): each reads what the other wrote since its own last read, new sessions included.
    other = MaskingSQLTrackerStore(domain=domain, host=url, dialect=dialect)
    seen = []
    for i, (writer, reader) in enumerate([(store, other), (other, store), (store, other), (other, store)]):
        tracker = await writer.retrieve("conv-a")
        new = []
        if i == 2:  # a new session: Rasa reads from its start (action_session_start comes just before)
            new = [ActionExecuted("action_session_start", timestamp=float(next(clock))),
                   SessionStarted(timestamp=float(next(clock)))]
        new += turn(f"服务器轮流第{i}句")
        for e in new:
            tracker.update(e)
        await writer.save(tracker)
        back = await reader.retrieve("conv-a")
        read = new[1:] if i == 2 else new
        seen.append(said(back.events)[-len(read):] == said(read))
        if i >= 2:  # after the new session: only it
            seen.append(said(back.events)[0] == ("session_started", None))
    checks["two_servers"] = all(seen) and len(seen) == 6
    with open(out, "w") as fh:
        json.dump(checks, fh)

asyncio.run(main())
'''


def _run(url: str, dialect: str, tmp_path) -> dict:
    out = tmp_path / "out.json"
    run_rasa_script(SCRIPT, url, dialect, str(out), data_dir=tmp_path)
    return json.loads(out.read_text())


ALL_HOLD = dict.fromkeys(["turns", "session_read", "full_read", "after_full", "others_untouched", "two_servers"], True)


def test_sqlite_holds_each_event_once_in_order(tmp_path):
    assert _run(f"sqlite:///{tmp_path / 'rasa_tracker.db'}", "sqlite", tmp_path) == ALL_HOLD


@pytest.mark.postgres
def test_postgres_holds_each_event_once_in_order(postgres_url, tmp_path):
    # Rasa 3.6 talks to PostgreSQL through psycopg2 (bot/stack.py drops the psycopg 3 driver name).
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    assert _run(url, "postgresql", tmp_path) == ALL_HOLD
