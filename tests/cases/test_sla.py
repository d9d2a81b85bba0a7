"""Due times by type and priority (working days on the official holiday and 调休 calendar),
overdue detection and escalation, years the calendar does not cover, and `check-calendar`."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.cases.desk import BOT, CaseDesk
from bot.cases.sla import SLA_FILE, CalendarYearNotCovered, SlaRules, is_overdue, load_rules
from tests.cases.conftest import new_case

ROOT = Path(__file__).resolve().parents[2]

MONDAY_10 = datetime(2025, 5, 19, 2, 0)  # 10:00 China time
FRIDAY_16 = datetime(2025, 5, 23, 8, 0)  # 16:00 China time


def local(rules: SlaRules, utc: datetime) -> str:
    return rules.to_local(utc).strftime("%a %Y-%m-%d %H:%M")


def test_urgent_same_day():
    r = load_rules()
    assert local(r, r.due_at("urgent", "urgent", MONDAY_10)) == "Mon 2025-05-19 23:59"
    late = datetime(2025, 5, 19, 14, 30)  # 22:30 local: at least 4 hours
    assert local(r, r.due_at("urgent", "urgent", late)) == "Tue 2025-05-20 02:30"


def test_consultation_three_working_days_skip_the_weekend():
    r = load_rules()
    assert local(r, r.due_at("consultation", "normal", MONDAY_10)) == "Thu 2025-05-22 17:30"
    assert local(r, r.due_at("consultation", "normal", FRIDAY_16)) == "Wed 2025-05-28 17:30"
    assert local(r, r.due_at("consultation", "urgent", FRIDAY_16)) == "Fri 2025-05-23 23:59"


def test_complaint_thirteen_working_days():
    r = load_rules()
    # Monday 2 June 2025 is 端午 (31 May - 2 June off): the 13th working day is Friday, not Thursday.
    assert not r.is_working_day(date(2025, 6, 2))
    assert local(r, r.due_at("complaint", "normal", MONDAY_10)) == "Fri 2025-06-06 17:30"


def test_holidays_and_adjusted_working_days_come_from_parameters():
    data = {
        "limits": {"consultation": {"default": {"working_days": 3}}},
        "holidays": ["2025-05-20", "2025-05-21"],
        "extra_working_days": ["2025-05-24"],
    }
    r = SlaRules.from_dict(data)
    assert not r.is_working_day(date(2025, 5, 20)) and r.is_working_day(date(2025, 5, 24))
    # Mon -> Thu(1), Fri(2), Sat 调休(3)
    assert local(r, r.due_at("consultation", "normal", MONDAY_10)) == "Sat 2025-05-24 17:30"


def test_every_type_and_priority_has_a_limit():
    r = load_rules()
    for t in ("consultation", "eligibility_followup", "urgent", "discovery", "complaint"):
        for p in ("urgent", "high", "normal", "low"):
            assert r.limit_for(t, p).describe()


def test_overdue_only_while_the_desk_owes_an_answer():
    due = datetime(2025, 5, 19, 10)
    after = datetime(2025, 5, 19, 11)
    assert is_overdue("new", due, after) and is_overdue("in_progress", due, after)
    assert not is_overdue("waiting_resident", due, after)
    assert not is_overdue("resolved", due, after) and not is_overdue("transferred", due, after)
    assert not is_overdue("new", due, datetime(2025, 5, 19, 9))


def test_overdue_queue_and_escalation(desk, people, clock):
    urgent = desk.create_case(new_case(type="urgent"), BOT)[0]["number"]
    consult = desk.create_case(new_case(priority="low"), BOT)[0]["number"]
    assert desk.counts(people.sup)["overdue"] == 0
    clock.advance(hours=15)  # past midnight local: the urgent case is overdue
    assert [c["number"] for c in desk.list_queue("overdue", people.sup)] == [urgent]
    assert desk.get(urgent, people.sup)["overdue"] is True
    assert desk.escalate_overdue(people.sup) == [urgent]
    clock.advance(days=10)
    assert desk.escalate_overdue(people.sup) == [consult]  # each case once
    v = desk.get(consult, people.sup)
    assert v["priority"] == "normal" and v["escalated"]
    assert desk.escalate_overdue(people.sup) == []
    assert any(e["action"] == "escalated" for e in desk.audit_log(consult))


# ---------------------------------------------------------------- the official calendar (2026)
def china(y: int, mo: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A China-time moment as the naive UTC the desk stores."""
    return datetime(y, mo, d, hh, mm) - timedelta(hours=8)


def fresh_rules(**changes: object) -> SlaRules:
    """The shipped sla.yml, not the cached instance (its warn-once memory is per instance)."""
    data = yaml.safe_load(SLA_FILE.read_text(encoding="utf-8"))
    data.update(changes)
    return SlaRules.from_dict(data)


def test_consultation_across_national_day_2026():
    r = load_rules()
    # Wed 30 Sep; 1-7 Oct off; Thu 8 (1), Fri 9 (2), Sat 10 Oct is a 调休 working day (3).
    assert local(r, r.due_at("consultation", "normal", china(2026, 9, 30))) == "Sat 2026-10-10 17:30"
    # Received during the holiday: the count starts after it.
    assert local(r, r.due_at("consultation", "normal", china(2026, 10, 3))) == "Sat 2026-10-10 17:30"
    assert local(r, r.due_at("consultation", "high", china(2026, 10, 5))) == "Thu 2026-10-08 17:30"
    due = r.due_at("consultation", "normal", china(2026, 9, 30))
    assert not is_overdue("new", due, china(2026, 10, 5, 20))
    assert not is_overdue("new", due, china(2026, 10, 9, 20))
    assert is_overdue("new", due, china(2026, 10, 10, 18))


def test_a_case_received_before_national_day_is_not_overdue_during_it(desk, people, clock):
    clock.now = china(2026, 9, 30)
    number = desk.create_case(new_case(), BOT)[0]["number"]
    clock.now = china(2026, 10, 5, 20)
    assert desk.counts(people.sup)["overdue"] == 0
    assert desk.get(number, people.sup)["overdue"] is False
    clock.now = china(2026, 10, 10, 18)
    assert [c["number"] for c in desk.list_queue("overdue", people.sup)] == [number]


def test_tiaoxiu_weekend_days_are_working_days():
    r = load_rules()
    for d in (date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)):
        assert d.weekday() in (5, 6) and r.is_working_day(d), d
    assert not r.is_working_day(date(2026, 10, 17))  # a plain Saturday
    assert not r.is_working_day(date(2026, 2, 16)) and not r.is_working_day(date(2026, 2, 23))  # 春节, Mon
    # Fri 13 Feb 2026, 1 working day: Saturday 14 Feb (调休 before 春节).
    assert local(r, r.due_at("consultation", "high", china(2026, 2, 13))) == "Sat 2026-02-14 17:30"
    # Fri 13 Feb, 5 working days: Sat 14, then 15-23 off, Tue 24, Wed 25, Thu 26, Fri 27.
    assert local(r, r.due_at("consultation", "low", china(2026, 2, 13))) == "Fri 2026-02-27 17:30"


def test_local_holidays_and_working_days_on_top_of_the_official_calendar():
    r = fresh_rules(holidays=["2026-10-09"], extra_working_days=["2026-10-07"])
    assert not r.is_working_day(date(2026, 10, 9)) and r.is_working_day(date(2026, 10, 7))
    # Wed 30 Sep: Wed 7 Oct worked locally (1), Thu 8 (2), Fri 9 off locally, Sat 10 调休 (3).
    assert local(r, r.due_at("consultation", "normal", china(2026, 9, 30))) == "Sat 2026-10-10 17:30"
    r = fresh_rules(holidays=["2026-10-09"])
    assert local(r, r.due_at("consultation", "normal", china(2026, 9, 30))) == "Mon 2026-10-12 17:30"


# ---------------------------------------------------------------- years the package does not cover
# Made-up dates for the tests, not the State Council's 2027 schedule.
YEAR_2027 = {2027: {"holidays": ["2027-03-01", "2027-03-02", "2027-03-03"], "extra_working_days": ["2027-03-06"]}}


def test_an_uncovered_year_is_a_clear_error():
    r = fresh_rules()
    assert r.covers(2026) and not r.covers(2027) and not r.covers(2003)
    with pytest.raises(CalendarYearNotCovered) as err:
        r.is_working_day(date(2027, 1, 4))
    assert err.value.year == 2027
    message = str(err.value)
    for part in ("2027", "2004–2026", "chinese-calendar", "bot/cases/sla.yml", "years:", "升级"):
        assert part in message, part
    with pytest.raises(CalendarYearNotCovered, match="2027"):
        r.add_working_days(date(2026, 12, 30), 3)  # runs into 2027
    assert r.add_working_days(date(2026, 12, 28), 3) == date(2026, 12, 31)  # stays in 2026


def test_a_years_entry_makes_2027_computable():
    r = fresh_rules(years=YEAR_2027)
    assert r.covers(2027)
    assert not r.is_working_day(date(2027, 3, 2)) and r.is_working_day(date(2027, 3, 6))
    assert not r.is_working_day(date(2027, 3, 7)) and r.is_working_day(date(2027, 3, 8))
    # Fri 26 Feb: 1-3 Mar off, Thu 4 (1), Fri 5 (2), Sat 6 worked (3).
    assert r.add_working_days(date(2027, 2, 26), 3) == date(2027, 3, 6)
    # Across the new year: Wed 30 Dec 2026 -> Thu 31 (official), Fri 1, Mon 4 Jan (2027 entry).
    assert r.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 4)


def test_a_years_entry_must_be_filled_in_with_its_own_dates():
    with pytest.raises(ValueError, match="no holidays"):
        fresh_rules(years={2027: {"holidays": [], "extra_working_days": []}})
    with pytest.raises(ValueError, match="another year"):
        fresh_rules(years={2027: {"holidays": ["2026-10-01"]}})


def test_new_cases_in_an_uncovered_year_get_a_mon_fri_estimate_and_one_warning(caplog):
    r = fresh_rules()
    with caplog.at_level(logging.WARNING, logger="bot.cases.sla"):
        # Wed 30 Dec 2026: Thu 31 (official), then 2027 counted Mon-Fri: Fri 1 Jan, Mon 4 Jan.
        assert local(r, r.due_at("consultation", "normal", china(2026, 12, 30))) == "Mon 2027-01-04 17:30"
        assert local(r, r.due_at("consultation", "normal", china(2027, 1, 8))) == "Wed 2027-01-13 17:30"
        assert local(r, r.followup_due(china(2027, 1, 8))) == "Fri 2027-01-15 17:30"
    warnings = [rec for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2027" in warnings[0].getMessage()
    assert "years:" in warnings[0].getMessage()


def test_the_desk_takes_and_resolves_cases_in_an_uncovered_year(db, people, clock, caplog):
    clock.now = china(2027, 1, 8)  # a Friday
    desk = CaseDesk(db, rules=fresh_rules(), clock=clock)
    with caplog.at_level(logging.WARNING, logger="bot.cases.sla"):
        view, created = desk.create_case(new_case(), BOT)
    assert (
        created
        and local(desk.rules, datetime.fromisoformat(view["due_at"]).replace(tzinfo=None)) == "Wed 2027-01-13 17:30"
    )
    assert any("2027" in rec.getMessage() for rec in caplog.records)
    n = view["number"]
    assert desk.claim_next(people.op1)["number"] == n
    v = desk.change_status(n, "resolved", people.op1, resolution="已告知申请流程")
    assert v["status"] == "resolved" and v["followup"]["due_at"]


# ---------------------------------------------------------------- python -m bot.cases.admin check-calendar
def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cases.admin", "check-calendar", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_passes_when_today_and_the_longest_limit_are_covered():
    assert load_rules().check_horizon_days() == 30  # 13 working days × 7/5, plus 11
    done = run_check("--today", "2026-05-19")
    assert done.returncode == 0, done.stderr
    assert "2004–2026" in done.stdout and "2026-06-18" in done.stdout


def test_check_fails_when_the_horizon_reaches_an_uncovered_year(tmp_path):
    done = run_check("--today", "2026-12-10")  # + 30 days is January 2027
    assert done.returncode == 1
    assert "2027" in done.stderr and "years:" in done.stderr and "2004–2026" in done.stderr
    assert run_check("--today", "2026-12-01").returncode == 0  # + 30 days is still 2026
    filled = yaml.safe_load(SLA_FILE.read_text(encoding="utf-8")) | {"years": YEAR_2027}
    (tmp_path / "sla.yml").write_text(yaml.safe_dump(filled, allow_unicode=True), encoding="utf-8")
    done = run_check("--today", "2026-12-10", "--file", str(tmp_path / "sla.yml"))
    assert done.returncode == 0, done.stderr
    assert "2027" in done.stdout
