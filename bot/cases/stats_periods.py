"""The periods and groupings of the supervisor's figures (bot/cases/stats.py): a day, a week or
a month from local (China) midnight to midnight, as naive UTC bounds like every stored time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum


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
