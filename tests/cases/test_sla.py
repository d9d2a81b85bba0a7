"""Due times by type and priority (working days), overdue detection and escalation."""
from __future__ import annotations

from datetime import date, datetime

from bot.cases.desk import BOT
from bot.cases.sla import SlaRules, is_overdue, load_rules
from tests.cases.conftest import new_case

MONDAY_10 = datetime(2025, 5, 19, 2, 0)   # 10:00 China time
FRIDAY_16 = datetime(2025, 5, 23, 8, 0)   # 16:00 China time


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
    assert local(r, r.due_at("complaint", "normal", MONDAY_10)) == "Thu 2025-06-05 17:30"


def test_holidays_and_adjusted_working_days_come_from_parameters():
    data = {"limits": {"consultation": {"default": {"working_days": 3}}},
            "holidays": ["2025-05-20", "2025-05-21"], "extra_working_days": ["2025-05-24"]}
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
