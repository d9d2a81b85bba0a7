"""Due times (时限) from bot/cases/sla.yml; working days; overdue detection.

All datetimes stored and passed around are naive UTC; local (China) time is
only used to find day boundaries and working days.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.cases.model import OPEN_STATUSES, CaseType, Priority, Status

SLA_FILE = Path(__file__).with_name("sla.yml")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
            holidays=frozenset(_to_date(d) for d in data.get("holidays") or []),
            extra_working_days=frozenset(_to_date(d) for d in data.get("extra_working_days") or []),
            followup_working_days=int((data.get("followup") or {}).get("working_days", 5)),
            limits=limits,
        )

    # -- calendar -------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        if d in self.extra_working_days:
            return True
        return d.weekday() not in self.weekend and d not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The Nth working day after `start` (start itself is not counted)."""
        d = start
        counted = 0
        while counted < n:
            d += timedelta(days=1)
            if self.is_working_day(d):
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
        local = self.to_local(start_utc)
        if limit.same_day:
            end = datetime.combine(local.date(), time(23, 59, 59), tzinfo=self.tz)
            floor = local + timedelta(hours=self.min_hours_same_day)
            return self.to_utc(max(end, floor))
        if limit.working_days is not None:
            day = self.add_working_days(local.date(), int(limit.working_days))
            return self.to_utc(datetime.combine(day, self.workday_end, tzinfo=self.tz))
        return start_utc + timedelta(hours=float(limit.hours or 0))

    def followup_due(self, resolved_at: datetime) -> datetime:
        return self.apply(Limit(working_days=self.followup_working_days), resolved_at)


def _to_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


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
