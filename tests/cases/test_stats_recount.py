"""The supervisor's figures (bot/cases/stats.py) against a plain recount in Python, on a seeded
random history: every figure of every group and of the total, for each day of May 2025 and the
weeks and months around it, on SQLite and on a real PostgreSQL server (where the median and
p90 come from percentile_disc, not from window ranks). Small groups, even and odd counts, tied
reply times, cases never replied to, transfers of cases received in another period."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot.cases import stats
from bot.cases.model import OPEN_STATUSES, CaseType, Satisfaction, Status
from bot.cases.sla import load_rules
from bot.cases.store import Case, CaseEvent
from bot.db import Database
from tests.cases.conftest import make_users

FIRST = datetime(2025, 4, 6, 16, 0)  # 00:00 on 7 April, Beijing time
DAYS = 63
NOW = datetime(2025, 6, 1, 2, 0)
PLACES = [("渠县", "12345"), ("达州市", "12349"), ("巴中市", "12349"), ("会宁县", "12349")]
TIES = [600, 601, 1800, 3600, 3601]  # reply times many cases share (seconds)


def seeded_history(s: Any, operators: list[int]) -> None:
    rng = random.Random(20250519)
    statuses = list(Status)
    for i in range(1, 401):
        created = FIRST + timedelta(seconds=rng.randrange(DAYS * 86400))
        place, hotline = rng.choice(PLACES)
        replied = None
        if rng.random() < 0.7:
            took = rng.choice(TIES) if rng.random() < 0.3 else rng.randrange(1, 3 * 86400)
            replied = created + timedelta(seconds=took)
        resolved = created + timedelta(seconds=rng.randrange(1, 8 * 86400)) if rng.random() < 0.6 else None
        followup = satisfaction = None
        if resolved and rng.random() < 0.6:
            followup = resolved + timedelta(seconds=rng.randrange(1, 3 * 86400))
            satisfaction = rng.choice([*list(Satisfaction), None])  # a 回访 not recorded yet
        s.add(
            Case(
                id=i,
                number=f"GD{i:014d}",
                check_code="AB3D5F7G",
                type=str(rng.choice(list(CaseType))),
                channel="web",
                sender_id=f"conv-{i}",
                jurisdiction=place,
                hotline=hotline,
                priority="normal",
                priority_rank=2,
                status=str(rng.choice(statuses)),
                assignee_id=rng.choice([*operators, operators[0], None]),  # the last one has few cases
                created_at=created,
                updated_at=created,
                due_at=created + timedelta(seconds=rng.randrange(3600, 5 * 86400)),
                first_response_at=replied,
                resolved_at=resolved,
                followup_at=followup,
                satisfaction=None if satisfaction is None else str(satisfaction),
            )
        )
    s.flush()
    for _ in range(250):
        case_id = rng.randrange(1, 401)
        at = FIRST + timedelta(seconds=rng.randrange(DAYS * 86400))
        action = rng.choice(["transferred", "transferred", "reply", "assigned"])
        s.add(CaseEvent(case_id=case_id, at=at, actor="op", action=action, detail={}))
    s.commit()


def recount(s: Any, period: stats.Period, grouping: stats.Grouping, now: datetime) -> dict[str, tuple]:
    """{group key (as Figures.key, "" for the total's): the figures}, case by case."""
    cases = list(s.query(Case))
    by_id = {c.id: c for c in cases}
    key_of = {
        stats.Grouping.hotline: lambda c: c.hotline,
        stats.Grouping.jurisdiction: lambda c: c.jurisdiction,
        stats.Grouping.type: lambda c: c.type,
        stats.Grouping.operator: lambda c: c.assignee_id,
    }[grouping]

    def within(moment: datetime | None) -> bool:
        return moment is not None and period.start <= moment < period.end

    counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    took: dict[Any, list[float]] = defaultdict(list)
    everyone: list[float] = []
    for c in cases:
        k = key_of(c)
        if within(c.created_at):
            counts[k]["received"] += 1
            counts[k]["overdue"] += c.status in OPEN_STATUSES and c.due_at < now
            if c.first_response_at is not None:
                seconds = (c.first_response_at - c.created_at).total_seconds()
                took[k].append(seconds)
                everyone.append(seconds)
        if within(c.resolved_at):
            counts[k]["resolved"] += 1
            counts[k]["on_time"] += c.resolved_at <= c.due_at
        if within(c.followup_at) and c.satisfaction is not None:
            counts[k]["followups"] += c.satisfaction != Satisfaction.unreachable
            counts[k]["satisfied"] += c.satisfaction in (Satisfaction.satisfied, Satisfaction.basically_satisfied)
            counts[k]["unreachable"] += c.satisfaction == Satisfaction.unreachable
    for e in s.query(CaseEvent).filter(CaseEvent.action == "transferred"):
        if within(e.at):
            counts[key_of(by_id[e.case_id])]["transfers"] += 1

    def median_p90(values: list[float]) -> tuple[float | None, float | None]:
        if not values:
            return None, None
        v, n = sorted(values), len(values)
        return (v[(n + 1) // 2 - 1] + v[(n + 2) // 2 - 1]) / 2, v[math.ceil(0.9 * n) - 1]

    def row(c: dict[str, int], values: list[float]) -> tuple:
        names = ("received", "overdue", "resolved", "on_time", "transfers", "followups", "satisfied", "unreachable")
        return (len(values), *median_p90(values), *(c[name] for name in names))

    out = {("" if k is None else str(k)): row(c, took[k]) for k, c in counts.items()}
    total: dict[str, int] = defaultdict(int)
    for c in counts.values():
        for name, value in c.items():
            total[name] += value
    out[""] = row(total, everyone)
    return out


def figures(f: stats.Figures) -> tuple:
    return (
        f.responded,
        f.first_response_median_s,
        f.first_response_p90_s,
        f.received,
        f.overdue_now,
        f.resolved,
        f.resolved_on_time,
        f.transfers,
        f.followups,
        f.satisfied,
        f.unreachable,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'stats.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    db = Database(url)
    db.migrate()
    people = make_users(db)
    with db.session() as s:
        seeded_history(s, [people.op1.user_id, people.op2.user_id, people.sup.user_id])
    yield db
    db.engine.dispose()


def periods() -> list[stats.Period]:
    tz = load_rules().tz
    days = [date(2025, 5, 1) + timedelta(days=i) for i in range(31)]
    out = [stats.period_of("day", d, tz) for d in days]
    out += [stats.period_of("week", date(2025, 4, 7) + timedelta(weeks=i), tz) for i in range(10)]
    out += [stats.period_of("month", date(2025, m, 1), tz) for m in (3, 4, 5, 6)]
    return out


def test_every_figure_matches_a_recount(database):
    compared = medians = 0
    with database.session() as s:
        for period in periods():
            for grouping in stats.Grouping:
                report = stats.dashboard(s, period, grouping, NOW)
                got = {row.key: figures(row) for row in report.rows} | {"": figures(report.total)}
                assert got == recount(s, period, grouping, NOW), (period.label, grouping)
                assert [r.key for r in report.rows] == [
                    r.key for r in sorted(report.rows, key=lambda r: (-r.received, r.label))
                ]
                compared += 1
                medians += sum(1 for row in report.rows if row.first_response_median_s is not None)
    assert compared == 45 * 4 and medians > 300  # the history does reach the medians
