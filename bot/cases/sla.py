"""Due times (时限) from bot/cases/sla.yml; working days; overdue detection.

Working days: the official calendar (State Council holidays and 调休, chinese-calendar),
sla.yml's local days on top, sla.yml's `years:` for a year the package lacks. A due time in
a year neither covers is estimated Mon–Fri, with a warning; `python -m bot.cases.admin check-calendar`
tells a deployer in advance.

All datetimes stored and passed around are naive UTC; local (China) time is
only used to find day boundaries and working days.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar  # type: ignore[import-untyped]  # no py.typed in 1.11.0
import yaml

from bot.cases.model import OPEN_STATUSES, CaseType, Priority, Status

SLA_FILE = Path(__file__).with_name("sla.yml")
OFFICIAL_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
CHECK_SLACK_DAYS = (
    11  # check-calendar horizon beyond N working days × 7/5: the longest break (春节, 9 days) and a margin
)

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class CalendarYearNotCovered(LookupError):
    """Neither chinese-calendar nor sla.yml's `years:` has this year's holidays and 调休."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"{year}年的法定节假日和调休安排未配置：chinese-calendar {chinese_calendar.__version__} "
            f"只覆盖 {OFFICIAL_YEARS[0]}–{OFFICIAL_YEARS[-1]} 年。请按国务院办公厅公布的{year}年节假日安排，"
            f"在 bot/cases/sla.yml 的 years: 下添加 {year}（holidays 和 extra_working_days），"
            f"或升级 chinese-calendar 到包含{year}年的版本。"
        )


@dataclass(frozen=True)
class Limit:
    same_day: bool = False
    working_days: int | None = None
    hours: float | None = None

    def describe(self) -> str:
        if self.same_day:
            return "当日办结"
        if self.working_days is not None:
            return f"{self.working_days}个工作日"
        return f"{self.hours:g}小时"


@dataclass(frozen=True)
class YearCalendar:
    """One year from sla.yml's `years:`: weekdays off, and weekend days worked (调休)."""

    holidays: frozenset[date]
    extra_working_days: frozenset[date]


@dataclass
class SlaRules:
    tz: timezone
    workday_end: time
    min_hours_same_day: float
    weekend: frozenset[int]
    holidays: frozenset[date]
    extra_working_days: frozenset[date]
    followup_working_days: int
    limits: dict[str, dict[str, Limit]] = field(default_factory=dict)
    years: dict[int, YearCalendar] = field(default_factory=dict)
    _warned_years: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaRules:
        hh, mm = (int(x) for x in str(data.get("workday_end", "17:30")).split(":"))
        limits: dict[str, dict[str, Limit]] = {}
        for case_type, by_priority in (data.get("limits") or {}).items():
            CaseType(case_type)  # unknown ids are an error in the file
            limits[case_type] = {}
            for prio, spec in by_priority.items():
                if prio != "default":
                    Priority(prio)
                limits[case_type][prio] = Limit(
                    same_day=bool(spec.get("same_day", False)),
                    working_days=spec.get("working_days"),
                    hours=spec.get("hours"),
                )
        return cls(
            tz=timezone(timedelta(hours=float(data.get("timezone_offset_hours", 8)))),
            workday_end=time(hh, mm),
            min_hours_same_day=float(data.get("min_hours_same_day", 4)),
            weekend=frozenset(data.get("weekend", [5, 6])),
            holidays=_dates(data.get("holidays")),
            extra_working_days=_dates(data.get("extra_working_days")),
            followup_working_days=int((data.get("followup") or {}).get("working_days", 5)),
            limits=limits,
            years={int(y): _year(int(y), spec) for y, spec in (data.get("years") or {}).items()},
        )

    # -- calendar -------------------------------------------------------
    def covers(self, year: int) -> bool:
        return year in self.years or year in OFFICIAL_YEARS

    def is_working_day(self, d: date) -> bool:
        """sla.yml's local days first, then its `years:` entry, then the official calendar.

        Raises CalendarYearNotCovered for a year neither `years:` nor chinese-calendar has.
        """
        if d in self.extra_working_days:
            return True
        if d in self.holidays:
            return False
        local_year = self.years.get(d.year)
        if local_year is not None:  # the office's entry wins over the package
            return d in local_year.extra_working_days or (
                d.weekday() not in self.weekend and d not in local_year.holidays
            )
        if d.year in OFFICIAL_YEARS:
            return bool(chinese_calendar.is_workday(d))
        raise CalendarYearNotCovered(d.year)

    def _is_working_day_or_estimate(self, d: date) -> bool:
        """As is_working_day, but an uncovered year counts Mon–Fri (and the local days):
        conservative, as its holidays are not skipped. Warns once per year."""
        try:
            return self.is_working_day(d)
        except CalendarYearNotCovered as exc:
            if exc.year not in self._warned_years:
                self._warned_years.add(exc.year)
                log.warning("%s 在此之前，%d年内的工单时限按周一至周五估算（不扣除节假日）。", exc, exc.year)
            return d.weekday() not in self.weekend

    def add_working_days(self, start: date, n: int, estimate: bool = False) -> date:
        """The Nth working day after `start` (start itself is not counted).

        An uncovered year raises CalendarYearNotCovered, or with `estimate` counts Mon–Fri.
        """
        working = self._is_working_day_or_estimate if estimate else self.is_working_day
        d = start
        counted = 0
        while counted < n:
            d += timedelta(days=1)
            if working(d):
                counted += 1
        return d

    def to_local(self, utc_naive: datetime) -> datetime:
        return utc_naive.replace(tzinfo=UTC).astimezone(self.tz)

    def to_utc(self, local: datetime) -> datetime:
        return local.astimezone(UTC).replace(tzinfo=None)

    # -- limits ---------------------------------------------------------
    def limit_for(self, case_type: str, priority: str) -> Limit:
        by_priority = self.limits.get(str(case_type)) or {}
        limit = by_priority.get(str(priority)) or by_priority.get("default")
        if limit is None:
            raise KeyError(f"sla.yml has no limit for {case_type}/{priority}")
        return limit

    def due_at(self, case_type: str, priority: str, created_at: datetime) -> datetime:
        return self.apply(self.limit_for(case_type, priority), created_at)

    def apply(self, limit: Limit, start_utc: datetime) -> datetime:
        """The due time of a case: never refused for an uncovered year (estimated, warned)."""
        local = self.to_local(start_utc)
        if limit.same_day:
            end = datetime.combine(local.date(), time(23, 59, 59), tzinfo=self.tz)
            floor = local + timedelta(hours=self.min_hours_same_day)
            return self.to_utc(max(end, floor))
        if limit.working_days is not None:
            day = self.add_working_days(local.date(), int(limit.working_days), estimate=True)
            return self.to_utc(datetime.combine(day, self.workday_end, tzinfo=self.tz))
        return start_utc + timedelta(hours=float(limit.hours or 0))

    def followup_due(self, resolved_at: datetime) -> datetime:
        return self.apply(Limit(working_days=self.followup_working_days), resolved_at)

    # -- deployment check -----------------------------------------------
    def check_horizon_days(self) -> int:
        """Calendar days a limit can reach: the longest working-day limit × 7/5, plus slack."""
        most = max(
            [self.followup_working_days]
            + [lim.working_days for by in self.limits.values() for lim in by.values() if lim.working_days]
        )
        return math.ceil(most * 7 / 5) + CHECK_SLACK_DAYS

    def check(self, today: date) -> str:
        """What check-calendar prints; raises CalendarYearNotCovered for today's year or the horizon's."""
        until = today + timedelta(days=self.check_horizon_days())
        for year in sorted({today.year, until.year}):
            if not self.covers(year):
                raise CalendarYearNotCovered(year)
        local = "、".join(str(y) for y in sorted(self.years)) or "无"
        return (
            f"节假日日历：chinese-calendar {chinese_calendar.__version__} 覆盖 "
            f"{OFFICIAL_YEARS[0]}–{OFFICIAL_YEARS[-1]} 年；sla.yml years: {local}。"
            f"{today} 至 {until}（{self.check_horizon_days()} 天）的工单时限均可按日历计算。"
        )


def _to_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dates(values: list[object] | None) -> frozenset[date]:
    return frozenset(_to_date(d) for d in values or [])


def _year(year: int, spec: dict[str, Any] | None) -> YearCalendar:
    spec = spec or {}
    entry = YearCalendar(_dates(spec.get("holidays")), _dates(spec.get("extra_working_days")))
    if not entry.holidays:
        raise ValueError(f"sla.yml years: {year} lists no holidays (fill in the State Council's schedule)")
    stray = sorted(d for d in entry.holidays | entry.extra_working_days if d.year != year)
    if stray:
        raise ValueError(f"sla.yml years: {year} lists dates of another year: {stray}")
    return entry


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> SlaRules:
    with open(path or SLA_FILE, encoding="utf-8") as fh:
        return SlaRules.from_dict(yaml.safe_load(fh))


def is_overdue(status: str, due_at: datetime | None, now: datetime | None = None) -> bool:
    """Overdue = the desk still owes an answer and the time limit has passed.

    The clock stops while waiting for the resident and once resolved/closed/transferred.
    """
    if due_at is None or Status(status) not in OPEN_STATUSES:
        return False
    return (now or utcnow()) > due_at


def check_calendar(today: date | None = None, path: str | None = None) -> int:
    """`python -m bot.cases.admin check-calendar`: 0 when today's year and the year the longest
    limit reaches are covered, 1 (with what to do) otherwise."""
    rules = load_rules(path)
    try:
        print(rules.check(today or rules.to_local(utcnow()).date()))
    except CalendarYearNotCovered as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0
