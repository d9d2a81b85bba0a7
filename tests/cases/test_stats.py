"""The supervisor's figures (bot/cases/stats.py) on cases with known histories, built through
the desk with a set clock: every figure exact, per hotline, handler and type, period edges in
Beijing time (23:30 on 31 May is May), on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.cases import stats
from bot.cases.desk import BOT, CaseDesk
from bot.db import Database
from tests.cases.conftest import Clock, People, make_users, new_case

CST = timezone(timedelta(hours=8))
NOW = "2025-06-01 01:00"  # when the figures are read (local)
MIN = 60.0


def at(local: str) -> datetime:
    """Naive UTC of a Beijing time 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(local).replace(tzinfo=CST).astimezone(UTC).replace(tzinfo=None)


def build_history(desk: CaseDesk, clock: Clock, people: People) -> dict[str, str]:
    """Cases A–J (see each line); returns their numbers. 渠县 → 12345, 巴中/会宁 → 12349."""
    n: dict[str, str] = {}

    def make(name: str, when: str, **kw) -> str:
        clock.now = at(when)
        n[name] = desk.create_case(new_case(sender_id=f"conv-{name}", **kw), BOT)[0]["number"]
        return n[name]

    def then(when: str, step, *args, **kw):
        clock.now = at(when)
        return step(*args, **kw)

    op1, op2, sup = people.op1, people.op2, people.sup
    # G: received in April (23:50 on the 30th), resolved late in May.
    make("G", "2025-04-30 23:50", jurisdiction="渠县")
    then("2025-05-19 09:00", desk.assign, n["G"], "op1", sup)
    then("2025-05-19 09:30", desk.change_status, n["G"], "resolved", op1, resolution="已答复")
    # A: claimed (not a response), replied after 20 min, resolved on time, 满意.
    make("A", "2025-05-19 10:00", jurisdiction="渠县")
    then("2025-05-19 10:05", desk.assign, n["A"], "op1", sup)
    then("2025-05-19 10:20", desk.reply, n["A"], "您好，已收到", op1)
    then("2025-05-21 09:00", desk.change_status, n["A"], "resolved", op1, resolution="已答复")
    then("2025-05-22 10:00", desk.record_followup, n["A"], "satisfied", "", op1)
    # B: replied after 60 min, waited for the resident, resolved after the due time, 基本满意.
    make("B", "2025-05-19 11:00", jurisdiction="渠县")
    then("2025-05-19 11:01", desk.assign, n["B"], "op1", sup)
    then("2025-05-19 11:30", desk.add_note, n["B"], "备注不算回复", op1)
    then("2025-05-19 12:00", desk.reply, n["B"], "请补充材料", op1)
    then("2025-05-19 13:00", desk.change_status, n["B"], "waiting_resident", op1)
    then("2025-05-26 10:00", desk.change_status, n["B"], "resolved", op1, resolution="已办理")
    then("2025-05-26 11:00", desk.record_followup, n["B"], "basically_satisfied", "", op1)
    # C: 12349 complaint, replied after 30 min, transferred to a department.
    make("C", "2025-05-20 09:00", jurisdiction="巴中", type="complaint")
    then("2025-05-20 09:10", desk.assign, n["C"], "op2", sup)
    then("2025-05-20 09:30", desk.reply, n["C"], "已转有关部门", op2)
    then("2025-05-20 09:40", desk.transfer, n["C"], op2, department="区民政局", reason="属地办理")
    # D: 12349 urgent, never touched: overdue now.
    make("D", "2025-05-20 10:00", jurisdiction="巴中", type="urgent")
    # H: 12349, replied after 10 min, resolved, 回访 未联系上.
    make("H", "2025-05-21 10:00", jurisdiction="巴中")
    then("2025-05-21 10:01", desk.assign, n["H"], "op2", sup)
    then("2025-05-21 10:10", desk.reply, n["H"], "您好", op2)
    then("2025-05-21 11:00", desk.change_status, n["H"], "resolved", op2, resolution="已答复")
    then("2025-05-22 11:00", desk.record_followup, n["H"], "unreachable", "", op2)
    # I: 12349 (会宁), replied after 40 min, resolved on time, 不满意.
    make("I", "2025-05-22 09:00", jurisdiction="会宁")
    then("2025-05-22 09:01", desk.assign, n["I"], "op2", sup)
    then("2025-05-22 09:40", desk.reply, n["I"], "您好", op2)
    then("2025-05-22 10:00", desk.change_status, n["I"], "resolved", op2, resolution="已答复")
    then("2025-05-23 10:00", desk.record_followup, n["I"], "dissatisfied", "", op2)
    # J: closed unhandled by the supervisor: not a resolution.
    make("J", "2025-05-23 10:00", jurisdiction="渠县")
    then("2025-05-23 10:30", desk.change_status, n["J"], "closed", sup, reason="重复工单")
    # E: 23:30 on the last day of May: May's. F: 00:10 on 1 June: June's.
    make("E", "2025-05-31 23:30", jurisdiction="渠县")
    make("F", "2025-06-01 00:10", jurisdiction="渠县")
    clock.now = at(NOW)
    return n


# (received, responded, median s, p90 s, resolved, on time, overdue now, transfers, followups, satisfied, unreachable)
MAY_BY_HOTLINE = {
    "12345": (4, 2, 40 * MIN, 60 * MIN, 3, 1, 0, 0, 2, 2, 0),
    "12349": (4, 3, 30 * MIN, 40 * MIN, 2, 2, 1, 1, 1, 0, 1),
}
MAY_TOTAL = (8, 5, 30 * MIN, 60 * MIN, 5, 3, 1, 1, 3, 2, 1)
MAY_BY_OPERATOR = {
    "王芳": (2, 2, 40 * MIN, 60 * MIN, 3, 1, 0, 0, 2, 2, 0),
    "李强": (3, 3, 30 * MIN, 40 * MIN, 2, 2, 0, 1, 1, 0, 1),
    "未分派": (3, 0, None, None, 0, 0, 1, 0, 0, 0, 0),
}
MAY_BY_TYPE = {
    "咨询": (6, 4, 30 * MIN, 60 * MIN, 5, 3, 0, 0, 3, 2, 1),
    "投诉举报": (1, 1, 30 * MIN, 30 * MIN, 0, 0, 0, 1, 0, 0, 0),
    "急难": (1, 0, None, None, 0, 0, 1, 0, 0, 0, 0),
}


def figures(f: stats.Figures) -> tuple:
    return (
        f.received,
        f.responded,
        f.first_response_median_s,
        f.first_response_p90_s,
        f.resolved,
        f.resolved_on_time,
        f.overdue_now,
        f.transfers,
        f.followups,
        f.satisfied,
        f.unreachable,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'stats.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    db.migrate()
    yield db
    db.engine.dispose()


@pytest.fixture
def history(database):
    clock = Clock()
    desk = CaseDesk(database, clock=clock)
    numbers = build_history(desk, clock, make_users(database))
    return desk, numbers


def report(desk: CaseDesk, kind: str, day: date, grouping: str) -> stats.Report:
    with desk.db.session() as s:
        return stats.dashboard(s, stats.period_of(kind, day, desk.rules.tz), grouping, desk.clock())


def test_month_by_hotline_every_figure(history):
    desk, _ = history
    r = report(desk, "month", date(2025, 5, 7), "hotline")
    assert {row.key: figures(row) for row in r.rows} == MAY_BY_HOTLINE
    assert [row.label for row in r.rows] == ["12345热线", "12349热线"]
    assert figures(r.total) == MAY_TOTAL
    assert r.total.on_time_rate == pytest.approx(3 / 5)
    assert r.total.satisfaction_rate == pytest.approx(2 / 3)
    assert r.rows[1].satisfaction_rate == 0.0 and r.rows[0].on_time_rate == pytest.approx(1 / 3)


def test_month_by_operator_and_by_type(history):
    desk, _ = history
    by_operator = report(desk, "month", date(2025, 5, 31), "operator")
    assert {row.label: figures(row) for row in by_operator.rows} == MAY_BY_OPERATOR
    by_type = report(desk, "month", date(2025, 5, 1), "type")
    assert {row.label: figures(row) for row in by_type.rows} == MAY_BY_TYPE
    by_place = report(desk, "month", date(2025, 5, 1), "jurisdiction")
    assert {row.key: row.received for row in by_place.rows} == {"渠县": 4, "巴中市": 3, "会宁县": 1}


def test_period_edges_are_beijing_midnights(history):
    desk, _ = history
    tz = desk.rules.tz
    may = stats.period_of("month", date(2025, 5, 20), tz)
    assert (may.start, may.end) == (datetime(2025, 4, 30, 16, 0), datetime(2025, 5, 31, 16, 0))
    assert may.label == "2025年5月"
    week = stats.period_of("week", date(2025, 5, 21), tz)  # a Wednesday
    assert (week.first_day, week.end_day) == (date(2025, 5, 19), date(2025, 5, 26))
    assert week.label == "2025年5月19日至5月25日"
    assert stats.period_of("month", date(2025, 12, 31), tz).end_day == date(2026, 1, 1)
    # E (23:30 on 31 May) is May's and the 31st's; F (00:10 on 1 June) June's; G (23:50, 30 April) April's.
    assert report(desk, "day", date(2025, 5, 31), "hotline").total.received == 1
    assert report(desk, "day", date(2025, 6, 1), "hotline").total.received == 1
    assert report(desk, "month", date(2025, 6, 1), "hotline").total.received == 1
    april = report(desk, "month", date(2025, 4, 30), "hotline").total
    assert (april.received, april.resolved) == (1, 0)  # G was resolved in May
    week_figures = report(desk, "week", date(2025, 5, 25), "hotline").total
    assert (week_figures.received, week_figures.resolved, week_figures.transfers) == (7, 4, 1)  # B resolved 26th


def test_an_empty_period_and_the_table(history):
    desk, _ = history
    empty = report(desk, "month", date(2024, 1, 1), "hotline")
    assert empty.rows == [] and figures(empty.total) == (0, 0, None, None, 0, 0, 0, 0, 0, 0, 0)
    header, rows = stats.table(report(desk, "month", date(2025, 5, 1), "hotline"))
    assert header[:3] == ["热线", "受理量", "已首次回复"] and "按时办结率" in header and "满意率" in header
    total = dict(zip(header, rows[-1], strict=True))
    assert total["热线"] == "合计"
    assert total["首次回复用时中位数（分钟）"] == "30.0" and total["首次回复用时P90（分钟）"] == "60.0"
    assert total["按时办结率"] == "60.0%" and total["满意率"] == "66.7%" and total["目前超时"] == "1"
    _, blank_rows = stats.table(empty, blank="")
    assert blank_rows == [["合计", "0", "0", "", "", "0", "0", "", "0", "0", "0", "0", "0", ""]]


def test_reopened_case_counts_at_its_latest_resolution(history):
    desk, numbers = history
    clock = desk.clock
    clock.now = at("2025-06-02 10:00")
    desk.change_status(numbers["A"], "reopened", desk_actor(desk, "op1"))
    desk.assign(numbers["A"], "op1", desk_actor(desk, "sup"))
    desk.change_status(numbers["A"], "resolved", desk_actor(desk, "op1"), resolution="再次答复")
    may = report(desk, "month", date(2025, 5, 1), "hotline").total
    june = report(desk, "month", date(2025, 6, 1), "hotline").total
    assert (may.resolved, may.resolved_on_time) == (4, 2)
    assert (june.resolved, june.resolved_on_time) == (1, 1)  # a new due time from the reopening


def desk_actor(desk: CaseDesk, username: str):
    from bot.cases.desk import Actor
    from bot.cases.users import find_user

    with desk.db.session() as s:
        return Actor.user(find_user(s, username))
