"""The supervisor's figures (工单统计) for a day, a week or a month, grouped by hotline, place,
case type or handler: what hotline reports under GB/T 33358 are built from.

Every figure is counted by the database (aggregate queries with GROUP BY, one per kind of
moment: received, resolved, followed up, transferred), never by looping over cases here.
Periods start and end at local (China) midnight; stored times are naive UTC (sla.py).

What each figure means (FIGURES holds the same in the words a supervisor reads):
- received: cases whose created_at (the report time) falls in the period.
- first response: from created_at to the first operator reply to the resident
  (Case.first_response_at, set with the first CaseReply; a claim, a note, a status change or
  a transfer does not reach the resident, so none of them counts). Median (the mean of the
  two middle values for an even count) and p90 (nearest rank: the ceil(0.9·n)-th smallest),
  over the period's received cases that have had a reply.
- on time: of the cases resolved in the period (resolved_at in it; a reopened case counts at
  its latest resolution), those with resolved_at <= due_at. Closing a case without resolving
  it (a supervisor closing an unhandled one, closing after a transfer) is not a resolution.
  The model's clock stop while waiting for the resident only silences the overdue alarm
  (sla.is_overdue); due_at is not moved, so waiting time is not deducted here either.
- overdue now: of the period's received cases, those still open (OPEN_STATUSES) past due_at
  at `now`, as the queue's 已超时 counts them (waiting for the resident is not overdue).
- transfers: transfer actions (case_events 'transferred') in the period.
- followups: 回访 recorded in the period that reached the resident (any result but
  unreachable, which is counted apart); satisfied: 满意 + 基本满意 among them.
Groups are the case's current values: a case transferred to the other hotline counts under
its new one; "operator" is the current assignee (未分派 when none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.cases.model import OPEN_STATUSES, TYPE_LABELS, CaseType, Satisfaction
from bot.cases.store import Case, CaseEvent, User


class PeriodKind(StrEnum):
    day = "day"
    week = "week"  # Monday to Sunday
    month = "month"


class Grouping(StrEnum):
    hotline = "hotline"
    jurisdiction = "jurisdiction"
    type = "type"
    operator = "operator"


PERIOD_LABELS = {PeriodKind.day: "日", PeriodKind.week: "周", PeriodKind.month: "月"}
GROUPING_LABELS = {
    Grouping.hotline: "热线",
    Grouping.jurisdiction: "属地",
    Grouping.type: "工单类型",
    Grouping.operator: "承办人",
}
UNASSIGNED_LABEL = "未分派"
TOTAL_LABEL = "合计"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first_day: date  # local
    end_day: date  # local, not included
    start: datetime  # naive UTC, included
    end: datetime  # naive UTC, not included

    @property
    def label(self) -> str:
        d = self.first_day
        if self.kind == PeriodKind.month:
            return f"{d.year}年{d.month}月"
        if self.kind == PeriodKind.week:
            last = self.end_day - timedelta(days=1)
            return f"{d.year}年{d.month}月{d.day}日至{last.month}月{last.day}日"
        return f"{d.year}年{d.month}月{d.day}日"


def period_of(kind: PeriodKind | str, day: date, tz: tzinfo) -> Period:
    """The day, week (from Monday) or month holding the local date `day`, in the timezone `tz`."""
    kind = PeriodKind(kind)
    if kind == PeriodKind.day:
        first, end = day, day + timedelta(days=1)
    elif kind == PeriodKind.week:
        first = day - timedelta(days=day.weekday())
        end = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        end = (first + timedelta(days=32)).replace(day=1)

    def utc(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)

    return Period(kind, first, end, utc(first), utc(end))


@dataclass
class Figures:
    """One row of the table: a group's figures (or the total's)."""

    key: str
    label: str
    received: int = 0
    responded: int = 0
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    resolved: int = 0
    resolved_on_time: int = 0
    overdue_now: int = 0
    transfers: int = 0
    followups: int = 0
    satisfied: int = 0
    unreachable: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.resolved_on_time / self.resolved if self.resolved else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.followups if self.followups else None

    def value(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class Figure:
    name: str  # attribute of Figures
    label: str
    definition: str
    unit: str  # "count", "minutes" (the value is seconds) or "rate"


FIGURES: tuple[Figure, ...] = (
    Figure("received", "受理量", "本期受理的工单数（按群众反映的时间，北京时间）。", "count"),
    Figure("responded", "已首次回复", "本期受理的工单中，话务员已经回复过群众的件数。", "count"),
    Figure(
        "first_response_median_s",
        "首次回复用时中位数（分钟）",
        "从受理到话务员第一次回复群众的用时，一半工单快于这个数；领取、备注、转办不算回复。",
        "minutes",
    ),
    Figure("first_response_p90_s", "首次回复用时P90（分钟）", "九成工单在这个用时内得到第一次回复。", "minutes"),
    Figure("resolved", "办结量", "本期写明办理结果办结的工单数；未办理直接关闭的、转办后关闭的不算。", "count"),
    Figure("resolved_on_time", "按时办结量", "本期办结的工单中，在办理时限内办结的件数。", "count"),
    Figure("on_time_rate", "按时办结率", "按时办结量 ÷ 办结量；等待群众补充情况的时间不从时限中扣除。", "rate"),
    Figure(
        "overdue_now", "目前超时", "本期受理的工单中，此刻仍未办结且已过办理时限的件数（等待群众回复的不算）。", "count"
    ),
    Figure("transfers", "转办次数", "本期转到另一条热线或其他部门的次数。", "count"),
    Figure("followups", "回访完成", "本期回访并联系上群众的工单数。", "count"),
    Figure("unreachable", "回访未联系上", "本期回访但没有联系上群众的工单数，不计入回访完成。", "count"),
    Figure("satisfied", "满意数", "回访完成中评价为“满意”或“基本满意”的件数。", "count"),
    Figure("satisfaction_rate", "满意率", "满意数 ÷ 回访完成。", "rate"),
)


@dataclass
class Report:
    period: Period
    grouping: Grouping
    now: datetime
    rows: list[Figures] = field(default_factory=list)
    total: Figures = field(default_factory=lambda: Figures("", TOTAL_LABEL))


# ---------------------------------------------------------------------------- the queries


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """later − earlier in seconds, computed by the database."""
    if dialect == "sqlite":
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)
    return func.date_part("epoch", later - earlier)  # double precision: sorts faster than numeric


def _group_column(grouping: Grouping) -> ColumnElement[Any]:
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


def _count_received(s: Session, keys: list[ColumnElement[Any]], period: Period, now: datetime) -> dict[Any, Any]:
    """Received, replied to and overdue now, with the first-response median and p90, in one scan
    of the period's cases: each reply time's rank (in its group and overall) by window
    functions, then one GROUP BY. The overall ranks give each group its share of the total's
    median (sum and count of the middle values in it) and the total's p90 if it lies there."""
    took = _seconds(Case.first_response_at, Case.created_at, s.get_bind().dialect.name)
    overdue = and_(Case.status.in_([str(x) for x in OPEN_STATUSES]), Case.due_at < now)
    ranked = (
        select(
            *[k.label(f"k{i}") for i, k in enumerate(keys)],
            took.label("took"),
            case((overdue, 1), else_=0).label("late"),
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
    return _rows(s, group, q)


def _count_resolved(s: Session, keys: list[ColumnElement[Any]], period: Period) -> dict[Any, Any]:
    on_time = case((Case.resolved_at <= Case.due_at, 1), else_=0)
    q = select(*keys, func.count(Case.id), func.coalesce(func.sum(on_time), 0)).where(_in(Case.resolved_at, period))
    return _rows(s, keys, q)


def _count_followups(s: Session, keys: list[ColumnElement[Any]], period: Period) -> dict[Any, Any]:
    reached = Case.satisfaction != str(Satisfaction.unreachable)
    happy = Case.satisfaction.in_([str(Satisfaction.satisfied), str(Satisfaction.basically_satisfied)])
    q = select(
        *keys,
        func.coalesce(func.sum(case((reached, 1), else_=0)), 0),
        func.coalesce(func.sum(case((happy, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Case.satisfaction == str(Satisfaction.unreachable), 1), else_=0)), 0),
    ).where(_in(Case.followup_at, period), Case.satisfaction.is_not(None))
    return _rows(s, keys, q)


def _count_transfers(s: Session, keys: list[ColumnElement[Any]], period: Period) -> dict[Any, Any]:
    q = (
        select(*keys, func.count(CaseEvent.id))
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.action == "transferred", _in(CaseEvent.at, period))
    )
    return _rows(s, keys, q)


def _set_received(f: Figures, values: Any) -> None:
    received, responded, overdue, median, p90 = values[:5]
    f.received, f.responded, f.overdue_now = int(received), int(responded), int(overdue)
    f.first_response_median_s = None if median is None else float(median)
    f.first_response_p90_s = None if p90 is None else float(p90)


def _figures(
    s: Session, keys: list[ColumnElement[Any]], period: Period, now: datetime, received: dict[Any, Any]
) -> dict[Any, Figures]:
    """The figures per group; `received` gets the raw rows of the received query."""
    out: dict[Any, Figures] = {}

    def row(key: Any) -> Figures:
        if key not in out:
            out[key] = Figures("" if key is None else str(key), TOTAL_LABEL)
        return out[key]

    received.update(_count_received(s, keys, period, now))
    for key, values in received.items():
        _set_received(row(key), values)
    for key, (resolved, on_time) in _count_resolved(s, keys, period).items():
        f = row(key)
        f.resolved, f.resolved_on_time = int(resolved), int(on_time)
    for key, (done, happy, unreachable) in _count_followups(s, keys, period).items():
        f = row(key)
        f.followups, f.satisfied, f.unreachable = int(done), int(happy), int(unreachable)
    for key, (transfers,) in _count_transfers(s, keys, period).items():
        row(key).transfers = int(transfers)
    return out


def _labels(s: Session, grouping: Grouping, keys: list[Any]) -> dict[Any, str]:
    if grouping == Grouping.hotline:
        return {k: f"{k}热线" for k in keys}
    if grouping == Grouping.type:
        return {k: TYPE_LABELS.get(CaseType(k), k) if k in set(CaseType) else str(k) for k in keys}
    if grouping == Grouping.operator:
        ids = [k for k in keys if k is not None]
        names = {u.id: u.display_name or u.username for u in s.scalars(select(User).where(User.id.in_(ids)))}
        return {k: names.get(k, f"账号{k}") if k is not None else UNASSIGNED_LABEL for k in keys}
    return {k: str(k) for k in keys}


SUMMED = (
    "received",
    "responded",
    "overdue_now",
    "resolved",
    "resolved_on_time",
    "transfers",
    "followups",
    "satisfied",
    "unreachable",
)


def dashboard(s: Session, period: Period, grouping: Grouping | str, now: datetime) -> Report:
    """The period's figures per group, largest intake first, and the total. Every case is in
    exactly one group, so the total's counts are the groups' sums; its median and p90 come from
    the overall ranks of the same query (medians do not add up)."""
    grouping = Grouping(grouping)
    received: dict[Any, Any] = {}
    by_group = _figures(s, [_group_column(grouping)], period, now, received)
    labels = _labels(s, grouping, list(by_group))
    for key, f in by_group.items():
        f.label = labels[key]
        f.key = "" if key is None else str(key)
    total = Figures("", TOTAL_LABEL)
    for name in SUMMED:
        setattr(total, name, sum(getattr(f, name) for f in by_group.values()))
    middle_sum, middle_count, p90 = 0.0, 0, None
    for _, _, _, _, _, group_sum, group_count, group_p90 in received.values():
        middle_sum += float(group_sum or 0)
        middle_count += int(group_count)
        p90 = float(group_p90) if group_p90 is not None else p90
    total.first_response_median_s = middle_sum / middle_count if middle_count else None
    total.first_response_p90_s = p90
    rows = sorted(by_group.values(), key=lambda f: (-f.received, f.label))
    return Report(period=period, grouping=grouping, now=now, rows=rows, total=total)


# ---------------------------------------------------------------------------- as a table


def cell(figure: Figure, value: Any, blank: str = "—") -> str:
    """A figure as the table and the CSV show it: counts, minutes with one decimal, percents."""
    if value is None:
        return blank
    if figure.unit == "minutes":
        return f"{value / 60:.1f}"
    if figure.unit == "rate":
        return f"{value * 100:.1f}%"
    return str(value)


def table(report: Report, blank: str = "—") -> tuple[list[str], list[list[str]]]:
    """The header and the rows (the total last) of the report, as text."""
    header = [GROUPING_LABELS[report.grouping]] + [f.label for f in FIGURES]
    rows = [[r.label] + [cell(f, r.value(f.name), blank) for f in FIGURES] for r in [*report.rows, report.total]]
    return header, rows


__all__ = [
    "FIGURES",
    "GROUPING_LABELS",
    "PERIOD_LABELS",
    "Figure",
    "Figures",
    "Grouping",
    "Period",
    "PeriodKind",
    "Report",
    "cell",
    "dashboard",
    "period_of",
    "table",
]
