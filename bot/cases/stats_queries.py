"""The aggregate queries behind the supervisor's figures (bot/cases/stats.py): received (with the
first-response median and p90, one sort on PostgreSQL), resolved and followed up (one scan with
FILTER counts), and transfers. Each returns {group key: the row's figures}."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from bot.cases.model import OPEN_STATUSES, Satisfaction
from bot.cases.stats_periods import Grouping, Period
from bot.cases.store import Case, CaseEvent


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """later − earlier in seconds, computed by the database."""
    if dialect == "sqlite":
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)
    return func.date_part("epoch", later - earlier)  # double precision: sorts faster than numeric


def group_column(grouping: Grouping) -> ColumnElement[Any]:
    columns: dict[Grouping, ColumnElement[Any]] = {
        Grouping.hotline: Case.hotline.expression,
        Grouping.jurisdiction: Case.jurisdiction.expression,
        Grouping.type: Case.type.expression,
        Grouping.operator: Case.assignee_id.expression,
    }
    return columns[grouping]


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _rows(s: Session, keys: list[ColumnElement[Any]], query: Select[Any]) -> dict[Any, Any]:
    """{group key: the row's figures}."""
    if keys:
        query = query.group_by(*keys)
    return {(row[0] if keys else None): row[len(keys) :] for row in s.execute(query)}


@dataclass
class Received:
    """What the received query gives: per group (received, responded, overdue now, median,
    p90), and the total's median and p90 (medians do not add up)."""

    groups: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    total: tuple[Any, Any] = (None, None)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Case.status.in_([str(x) for x in OPEN_STATUSES]), Case.due_at < now)


def count_received(s: Session, keys: list[ColumnElement[Any]], period: Period, now: datetime) -> Received:
    """Received, replied to and overdue now, with the first-response median and p90 of each
    group and of the total, in one scan of the period's cases."""
    if s.get_bind().dialect.name == "postgresql":
        return _count_received_ordered(s, keys, period, now)
    return _count_received_ranked(s, keys, period, now)


# percentile_disc(f) is the ceil(f·n)-th smallest value. 0.5 is the lower middle, (n + 1) // 2;
# just over 0.5 the upper one, (n + 2) // 2, while 1e-9·n < 0.5 (n under 500 million); 0.9 the
# nearest-rank p90, ceil(0.9·n). One aggregate, so one sort for the three.
FRACTIONS = (0.5, 0.5 + 1e-9, 0.9)


def _count_received_ordered(s: Session, keys: list[ColumnElement[Any]], period: Period, now: datetime) -> Received:
    """PostgreSQL: an ordered-set aggregate over ROLLUP(group), so the groups and the total come
    from one sort of the cases by group, the aggregate sorting only each group's reply times
    (window ranks cost a sort of whole rows per group and another one overall); nulls (no
    reply yet) are left out as in the ranks."""
    took = _seconds(Case.first_response_at, Case.created_at, "postgresql")
    q = select(
        *keys,
        *[func.grouping(k) for k in keys],
        func.count(),
        func.count(Case.first_response_at),  # = count(took), one date_part less a case
        func.count(case((_overdue(now), 1))),
        func.percentile_disc(postgresql.array(FRACTIONS)).within_group(took),
    ).where(_in(Case.created_at, period))
    if keys:
        q = q.group_by(func.rollup(*keys))
    out = Received()
    for row in s.execute(q):
        key, is_total = (row[0], bool(row[len(keys)])) if keys else (None, True)
        received, responded, overdue, values = row[2 * len(keys) :]
        median = p90 = None
        if values is not None:  # None: no reply in the group yet
            low, high, p90 = values
            # (a + b) / 2 in double precision: the number avg() of the two middle values gives
            median = (float(low) + float(high)) / 2
        if is_total:
            out.total = (median, p90)
        if not is_total or not keys:
            out.groups[key] = (received, responded, overdue, median, p90)
    return out


def _count_received_ranked(s: Session, keys: list[ColumnElement[Any]], period: Period, now: datetime) -> Received:
    """Other databases (SQLite has no percentile_disc): each reply time's rank (in its group and
    overall) by window functions, then one GROUP BY. The overall ranks give each group its
    share of the total's median (sum and count of the middle values in it) and the total's
    p90 if it lies there."""
    took = _seconds(Case.first_response_at, Case.created_at, s.get_bind().dialect.name)
    ranked = (
        select(
            *[k.label(f"k{i}") for i, k in enumerate(keys)],
            took.label("took"),
            case((_overdue(now), 1), else_=0).label("late"),
            func.row_number().over(partition_by=keys, order_by=took.asc().nulls_last()).label("rn"),
            func.count(took).over(partition_by=keys).label("n"),
            func.row_number().over(order_by=took.asc().nulls_last()).label("rn_all"),
            func.count(took).over().label("n_all"),
        )
        .where(_in(Case.created_at, period))
        .subquery()
    )
    c = ranked.c

    def middle(rn: Any, n: Any) -> ColumnElement[bool]:
        return or_(rn == (n + 1) // 2, rn == (n + 2) // 2)

    group: list[ColumnElement[Any]] = [c[f"k{i}"] for i in range(len(keys))]
    q = select(
        *group,
        func.count(),
        func.count(c.took),
        func.coalesce(func.sum(c.late), 0),
        func.avg(case((middle(c.rn, c.n), c.took))),
        func.max(case((c.rn == (c.n * 9 + 9) // 10, c.took))),
        func.sum(case((middle(c.rn_all, c.n_all), c.took))),
        func.count(case((middle(c.rn_all, c.n_all), c.took))),
        func.max(case((c.rn_all == (c.n_all * 9 + 9) // 10, c.took))),
    )
    out = Received()
    middle_sum, middle_count, total_p90 = 0.0, 0, None
    for key, values in _rows(s, group, q).items():
        out.groups[key] = tuple(values[:5])
        group_sum, group_count, group_p90 = values[5:]
        middle_sum += float(group_sum or 0)
        middle_count += int(group_count)
        total_p90 = group_p90 if group_p90 is not None else total_p90
    out.total = (middle_sum / middle_count if middle_count else None, total_p90)
    return out


def count_outcomes(s: Session, keys: list[ColumnElement[Any]], period: Period) -> dict[Any, Any]:
    """Resolved (and on time) and followed up (reached, satisfied, unreachable) in one scan of
    the cases resolved or followed up in the period (most are both), counted apart by FILTER."""
    resolved = _in(Case.resolved_at, period)
    followed = and_(_in(Case.followup_at, period), Case.satisfaction.is_not(None))
    reached = Case.satisfaction != str(Satisfaction.unreachable)
    happy = Case.satisfaction.in_([str(Satisfaction.satisfied), str(Satisfaction.basically_satisfied)])
    unreachable = Case.satisfaction == str(Satisfaction.unreachable)
    q = select(
        *keys,
        func.count().filter(resolved),
        func.count().filter(resolved, Case.resolved_at <= Case.due_at),
        func.count().filter(followed, reached),
        func.count().filter(followed, happy),
        func.count().filter(followed, unreachable),
    ).where(or_(resolved, followed))
    return _rows(s, keys, q)


def count_transfers(s: Session, keys: list[ColumnElement[Any]], period: Period) -> dict[Any, Any]:
    """The group of each transfer's case looked up by its id (case_events.case_id references
    cases, so this is the inner join): a few thousand index probes, where the planner's hash
    join of the events with every case read the whole cases table."""
    of_case = [
        select(k).where(Case.id == CaseEvent.case_id).scalar_subquery().label(f"k{i}") for i, k in enumerate(keys)
    ]
    events = (
        select(*of_case, CaseEvent.id).where(CaseEvent.action == "transferred", _in(CaseEvent.at, period)).subquery()
    )
    group: list[ColumnElement[Any]] = [events.c[f"k{i}"] for i in range(len(keys))]
    return _rows(s, group, select(*group, func.count(events.c.id)))
