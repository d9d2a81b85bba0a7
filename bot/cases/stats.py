"""The supervisor's figures (工单统计) for a day, a week or a month, grouped by hotline, place,
case type or handler: what hotline reports under GB/T 33358 are built from.

Every figure is counted by the database (aggregate queries with GROUP BY: one for the cases
received, one for those resolved or followed up, one for the transfers), never by looping over
cases here.
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
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import Session

from bot.cases.model import TYPE_LABELS, CaseType
from bot.cases.stats_periods import (
    GROUPING_LABELS,
    PERIOD_LABELS,
    TOTAL_LABEL,
    UNASSIGNED_LABEL,
    Grouping,
    Period,
    PeriodKind,
    period_of,
)
from bot.cases.stats_queries import Received, count_outcomes, count_received, count_transfers, group_column
from bot.cases.store import User


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


def _set_received(f: Figures, values: Any) -> None:
    received, responded, overdue, median, p90 = values
    f.received, f.responded, f.overdue_now = int(received), int(responded), int(overdue)
    f.first_response_median_s = None if median is None else float(median)
    f.first_response_p90_s = None if p90 is None else float(p90)


def _figures(
    s: Session, keys: list[ColumnElement[Any]], period: Period, now: datetime
) -> tuple[dict[Any, Figures], Received]:
    """The figures per group, and the received query's result (for the total's median and p90)."""
    out: dict[Any, Figures] = {}

    def row(key: Any) -> Figures:
        if key not in out:
            out[key] = Figures("" if key is None else str(key), TOTAL_LABEL)
        return out[key]

    if s.get_bind().dialect.name == "postgresql":
        # Keeps the sort of a month's cases in memory: the default 4MB is full at about 35 000
        # cases, past that it spills to disk (this transaction only).
        s.execute(text("SET LOCAL work_mem = '32MB'"))
    received = count_received(s, keys, period, now)
    for key, values in received.groups.items():
        _set_received(row(key), values)
    for key, (resolved, on_time, done, happy, unreachable) in count_outcomes(s, keys, period).items():
        f = row(key)
        f.resolved, f.resolved_on_time = int(resolved), int(on_time)
        f.followups, f.satisfied, f.unreachable = int(done), int(happy), int(unreachable)
    for key, (transfers,) in count_transfers(s, keys, period).items():
        row(key).transfers = int(transfers)
    return out, received


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
    the same received query, over all the period's cases (medians do not add up)."""
    grouping = Grouping(grouping)
    by_group, received = _figures(s, [group_column(grouping)], period, now)
    labels = _labels(s, grouping, list(by_group))
    for key, f in by_group.items():
        f.label = labels[key]
        f.key = "" if key is None else str(key)
    total = Figures("", TOTAL_LABEL)
    for name in SUMMED:
        setattr(total, name, sum(getattr(f, name) for f in by_group.values()))
    median, p90 = received.total
    total.first_response_median_s = None if median is None else float(median)
    total.first_response_p90_s = None if p90 is None else float(p90)
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
