"""Who is on shift: a desk user's requests record when they last had the console open (at most
once a minute), and the assign list puts those seen in the last 15 minutes first, marked 在岗."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.cases.store import User
from bot.cases.users import ON_SHIFT, assignable_users, mark_seen, on_shift
from tests.cases.conftest import login, new_case


def last_seen(db, username: str) -> datetime | None:
    with db.session() as s:
        return s.query(User).filter_by(username=username).one().last_seen_at


def test_being_seen_is_written_at_most_once_a_minute(db, people):
    t = datetime(2026, 12, 1, 8, 0)
    with db.session() as s:
        assert mark_seen(s, people.op1.user_id, t)
        assert not mark_seen(s, people.op1.user_id, t + timedelta(seconds=30))
        assert mark_seen(s, people.op1.user_id, t + timedelta(seconds=61))
        s.commit()
    assert last_seen(db, "op1") == t + timedelta(seconds=61)


def test_those_on_shift_come_first_in_the_assign_list(db, people):
    now = datetime(2026, 12, 1, 8, 0)
    with db.session() as s:
        mark_seen(s, people.op2.user_id, now - timedelta(minutes=3))
        mark_seen(s, people.op1.user_id, now - ON_SHIFT - timedelta(minutes=1))  # gone home
        s.commit()
        users = assignable_users(s, now)
        assert [u.username for u in users] == ["op2", "op1", "sup"]  # 李强 on shift, then 王芳, supervisors last
        assert [on_shift(u, now) for u in users] == [True, False, False]


def test_a_request_marks_the_user_seen_and_the_case_page_shows_who_is_on_shift(app, client):
    assert last_seen(app.state.db, "op1") is None
    operator = client.__class__(app)
    login(operator, "op1")
    assert operator.get("/console").status_code == 200
    assert last_seen(app.state.db, "op1") is not None
    number = _a_case(app)
    login(client, "sup")
    page = client.get(f"/console/cases/{number}").text
    select = re.search(r'<select name="user_id" id="assign-to".*?</select>', page, re.S)[0]
    options = re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", select)
    assert options[0] == "王芳（话务员，在岗）"
    assert "李强（话务员）" in options  # never seen: listed, not marked


def _a_case(app) -> str:
    from bot.cases.desk import BOT, CaseDesk

    return CaseDesk(app.state.db).create_case(new_case(), BOT)[0]["number"]
