"""A case keeps the time the resident reported it (a report spooled during an outage
arrives later): created_at and the SLA due time run from it, within sanity bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.cases.desk import BOT, MAX_REPORT_AGE, report_time
from bot.cases.store import Case, CaseEvent
from bot.cases.users import get_user
from bot.service.auth import issue_session
from tests.cases.conftest import bot_headers, csrf_of, new_case

NOW = datetime(2025, 5, 19, 2, 0)  # the test clock: Monday 10:00 in China


def test_report_time_bounds():
    assert report_time(None, NOW) is None
    assert report_time("not a time", NOW) is None
    assert report_time("2025-05-19T01:00:00Z", NOW) == datetime(2025, 5, 19, 1, 0)
    assert report_time("2025-05-19T09:00:00+08:00", NOW) == datetime(2025, 5, 19, 1, 0)
    assert report_time("2025-05-19T03:00:00+00:00", NOW) == NOW  # in the future: now
    assert report_time(NOW - MAX_REPORT_AGE - timedelta(seconds=1), NOW) is None  # absurdly old
    assert report_time("1970-01-01T00:00:00+00:00", NOW) is None


def test_a_late_urgent_case_keeps_its_report_time_and_its_sla(desk, clock):
    # Reported on Sunday 22:00 China time; the service only got it Monday 10:00.
    reported = datetime(2025, 5, 18, 14, 0)
    view, created = desk.create_case(new_case(type="urgent", reported_at=reported.isoformat() + "+00:00"), BOT)
    assert created
    with desk.db.session() as s:
        case = s.scalar(select(Case).where(Case.number == view["number"]))
        assert case.created_at == reported
        assert case.updated_at == clock.now
        # Same day from Sunday 22:00 is at least 4 hours: Monday 02:00 China time, long overdue on arrival.
        assert case.due_at == datetime(2025, 5, 18, 18, 0)
        assert case.number.startswith("GD20250518")
        event = s.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "created"))
        assert event.at == clock.now and event.detail["report_time_used"] is True
    assert view["overdue"] is True
    assert [c["number"] for c in desk.list_queue("overdue", BOT)] == [view["number"]]


def test_a_report_time_from_the_future_or_the_distant_past_gets_the_arrival_time(desk, clock):
    for claimed in ("2025-05-20T02:00:00+00:00", "2024-01-01T00:00:00+00:00", "garbage"):
        view, _ = desk.create_case(new_case(type="urgent", reported_at=claimed), BOT)
        with desk.db.session() as s:
            assert s.scalar(select(Case.created_at).where(Case.number == view["number"])) == clock.now


def test_the_api_takes_reported_at_from_the_bot_only(client, app):
    reported = (datetime.now(UTC) - timedelta(minutes=7)).replace(microsecond=0)
    body = {"type": "urgent", "title": "断粮", "summary": "断粮", "reported_at": reported.isoformat()}
    r = client.post("/v1/cases", json=body, headers=bot_headers(**{"Idempotency-Key": "late-1"}))
    assert r.status_code == 201, r.text
    with app.state.db.session() as s:
        assert s.scalar(select(Case.created_at).where(Case.number == r.json()["number"])) == reported.replace(
            tzinfo=None
        )
    assert datetime.fromisoformat(r.json()["due_at"]) >= reported

    with app.state.db.session() as s:
        client.cookies.set("jz_session", issue_session(app, get_user(s, app.state.people.sup.user_id)))
    token = csrf_of(client)
    r = client.post("/v1/cases", json={**body, "jurisdiction": "渠县"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    with app.state.db.session() as s:
        created = s.scalar(select(Case.created_at).where(Case.number == r.json()["number"]))
    assert created > reported.replace(tzinfo=None) + timedelta(minutes=6)  # a desk user cannot backdate
