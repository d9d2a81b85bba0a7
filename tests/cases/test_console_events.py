"""The queue page's live stream (GET /console/events) over HTTP: refused without a session and
for a volunteer; `counts` at once and again when a case comes; `new_case` for a case made
through the desk while the stream is open, with the queue row's fields only; resumes after the
Last-Event-ID; ends with `signed_out` as soon as the user is deactivated."""

from __future__ import annotations

import json
import threading
import time

import pytest

from bot.cases import accounts
from bot.cases.desk import BOT, SYSTEM, CaseDesk
from bot.service.routers.console_events import NEW_CASE_FIELDS
from tests.cases.conftest import login, new_case


@pytest.fixture(autouse=True)
def _quick_streams(app):
    app.state.console_events_interval = 0.05
    app.state.console_events_max_seconds = 1.5


def events(resp) -> list[tuple[str, str, dict]]:
    """(event, id, data) for each event of a finished stream; heartbeats are comments."""
    out = []
    for block in resp.text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":"))
        if "event" in fields:
            out.append((fields["event"], fields.get("id", ""), json.loads(fields["data"])))
    return out


def later(seconds: float, fn) -> threading.Timer:
    timer = threading.Timer(seconds, fn)
    timer.start()
    return timer


def test_the_stream_refuses_without_a_session_and_for_a_volunteer(client):
    r = client.get("/console/events")
    assert r.status_code == 401 and r.json()["detail"] == "请先登录"
    login(client, "vol")
    r = client.get("/console/events")
    assert r.status_code == 403 and r.json()["detail"] == "您的角色没有这个权限"


def test_an_urgent_case_made_through_the_desk_is_a_new_case_and_new_counts(app, client):
    desk = CaseDesk(app.state.db)
    old = desk.create_case(new_case(sender_id="before"), BOT)[0]["number"]
    login(client, "op1")
    made: list[str] = []
    timer = later(0.4, lambda: made.append(desk.create_case(new_case(type="urgent", sender_id="u1"), BOT)[0]["number"]))
    started = time.monotonic()
    r = client.get("/console/events")
    timer.join()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert time.monotonic() - started < 5  # it ended by itself (console_events_max_seconds)
    got = events(r)
    counts = [data for kind, _, data in got if kind == "counts"]
    assert counts[0]["urgent"] == 0 and counts[0]["unassigned"] == 1
    assert counts[-1]["urgent"] == 1 and counts[-1]["unassigned"] == 2, counts
    new = [(event_id, data) for kind, event_id, data in got if kind == "new_case"]
    assert [data["number"] for _, data in new] == made  # the case made before the stream is not new
    assert old not in r.text
    event_id, data = new[0]
    assert set(data) == set(NEW_CASE_FIELDS) and data["priority"] == "urgent" and data["type"] == "urgent"
    assert "13812345678" not in r.text and "510722" not in r.text and "张三" not in r.text

    # A reconnect (EventSource sends the last id it saw) gets what came since, nothing twice.
    later_one = desk.create_case(new_case(sender_id="u2"), BOT)[0]["number"]
    r = client.get("/console/events", headers={"Last-Event-ID": event_id})
    assert [d["number"] for kind, _, d in events(r) if kind == "new_case"] == [later_one]


def test_the_stream_ends_when_the_user_is_deactivated(app, client):
    app.state.console_events_max_seconds = 30
    login(client, "op1")

    def deactivate():
        with app.state.db.session() as s:
            accounts.deactivate(s, SYSTEM, "op1")
            s.commit()

    timer = later(0.4, deactivate)
    started = time.monotonic()
    r = client.get("/console/events")
    timer.join()
    assert time.monotonic() - started < 10
    kinds = [kind for kind, _, _ in events(r)]
    assert kinds[0] == "counts" and kinds[-1] == "signed_out"
    assert client.get("/console/events").status_code == 401


# ---------------------------------------------------------------- a case page's stream


def test_a_case_stream_sends_new_turns_and_changes_masked_for_who_does_not_handle_it(app, client):
    desk, people = CaseDesk(app.state.db), app.state.people
    number = desk.create_case(new_case(sender_id="conv-live"), BOT)[0]["number"]
    assert client.get(f"/console/cases/{number}/events").status_code == 401
    login(client, "op2")  # not the handler: sees it masked
    assert client.get("/console/cases/GD20990101ZZZZZZ/events").status_code == 404
    timer = later(0.3, lambda: desk.add_resident_message("conv-live", "我的电话是13912345678，请回电"))
    r = client.get(f"/console/cases/{number}/events?turns=1&notes=0")
    timer.join()
    [(kind, _, data)] = [e for e in events(r) if e[0] == "case"]
    assert kind == "case" and data["number"] == number and data["status"] == "new"
    assert [t["text"] for t in data["turns"]] == ["我的电话是139****5678，请回电"]
    assert "13912345678" not in r.text
    # The handler, from the start of the transcript, sees it whole.
    desk.claim_next(people.op1)
    handler = client.__class__(app)
    login(handler, "op1")
    r = handler.get(f"/console/cases/{number}/events?turns=0")
    [(_, _, data)] = [e for e in events(r) if e[0] == "case"]
    assert len(data["turns"]) == 2 and "13912345678" in data["turns"][1]["text"] and data["assignee"] == "op1"


def test_a_case_stream_is_not_for_volunteers(client, app):
    number = CaseDesk(app.state.db).create_case(new_case(), BOT)[0]["number"]
    login(client, "vol")
    assert client.get(f"/console/cases/{number}/events").status_code == 403
