"""Actions against the real service (uvicorn on loopback): screening, urgent reports, handover."""

import asyncio
import re

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import spool
from actions.handover import ActionHandOver, ActionRegisterComplaint
from actions.screening import ActionShowScreenResult, ValidateScreenForm
from actions.urgent import ActionReportEmergency, ActionSubmitUrgent
from bot.cases.store import Case
from bot.config import settings
from tests.actions.conftest import domain, rendered, responses
from tests.conftest import free_port


def run(action, tracker, sent=None):
    """(the texts the resident reads, the slots set); `sent` collects the messages as sent."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain()))
    if sent is not None:
        sent.extend(dispatcher.messages)
    return [rendered(m) for m in dispatcher.messages], {
        e["name"]: e["value"] for e in events if e.get("event") == "slot"
    }


def test_screening_reads_several_facts_and_asks_what_the_service_still_needs(service_env, tracker_for):
    tracker = tracker_for(
        "渠县农村的，屋头三口人，一年收入一万二",
        intent="inform",
        slots={"requested_slot": "household_size", "screen_facts": {}},
    )
    _, slots = run(ValidateScreenForm(), tracker)
    assert slots["household_size"] == 3
    assert slots["monthly_income"] == 1000
    assert slots["hukou"] == "rural" and slots["jurisdiction"] == "渠县"
    # 渠县 has no sourced 低保标准 and property is unknown: the service says what to ask next.
    assert slots["requested_slot"] in ("property_ok", "local_standard")


def test_a_correction_is_confirmed(service_env, tracker_for):
    known = {"jurisdiction": "渠县", "household_size": 2, "monthly_income": 1000}
    sent = []
    messages, slots = run(
        ValidateScreenForm(),
        tracker_for("不对，是三口人", intent="inform", slots={"requested_slot": "property_ok", "screen_facts": known}),
        sent,
    )
    assert slots["household_size"] == 3
    assert any("改过来了" in m and "3 口人" in m for m in messages)
    assert "utter_screen_corrected" in responses(sent)


def test_a_policy_question_mid_form_is_left_to_the_rules(service_env, tracker_for):
    tracker = tracker_for(
        "低保要准备啥子材料",
        intent="ask_policy",
        slots={"requested_slot": "household_size", "screen_facts": {"jurisdiction": "渠县"}},
    )
    assert run(ValidateScreenForm(), tracker) == ([], {})


def test_screen_result_is_plain_chinese_with_clauses_and_the_disclaimer(service_env, tracker_for):
    facts = {
        "jurisdiction": "会宁县",
        "hukou": "urban",
        "household_size": 2,
        "monthly_income": 600,
        "property_ok": True,
        "local_standard": 700,
    }
    messages, slots = run(
        ActionShowScreenResult(), tracker_for("", slots={"screen_facts": facts, "screen_program": "dibao"})
    )
    text = "\n".join(messages)
    assert "【最低生活保障（低保）】初步看：可能符合" in text
    assert "依据：《" in text and "条" in text
    assert "审核确认" in text
    assert slots["screen_result"]["results"]


def test_danger_gets_the_emergency_number_before_anything_else(service_env, tracker_for):
    sent = []
    messages, slots = run(ActionReportEmergency(), tracker_for("我妈晕倒了叫不醒", intent="report_danger"), sent)
    assert messages[0].startswith("您现在有危险，请马上拨打 120")
    assert responses(sent) == [None, "utter_urgent_after_call"]
    assert slots["urgent_what"] == "我妈晕倒了叫不醒"


def stored_case(service, key):
    with service.app.state.db.session() as s:
        return s.scalar(select(Case).where(Case.idempotency_key == key))


def urgent_tracker(tracker_for, key="urgent-test-key-1"):
    return tracker_for(
        "可以",
        intent="affirm",
        slots={
            "urgent_what": "屋头断粮好几天了",
            "urgent_where": "渠县三汇镇",
            "urgent_contact": "13812345678",
            "urgent_consent": True,
            "urgent_key": key,
        },
    )


def test_urgent_report_is_stored_once_however_often_it_is_retried(service_env, tracker_for):
    sent = []
    first, _ = run(ActionSubmitUrgent(), urgent_tracker(tracker_for, "urgent-retry-1"), sent)
    assert responses(sent) == ["utter_urgent_registered"]
    again, _ = run(ActionSubmitUrgent(), urgent_tracker(tracker_for, "urgent-retry-1"))
    number = re.search(r"GD[0-9A-Z]+", first[0])[0]
    assert number in again[0]
    assert "110" in first[0]
    case = stored_case(service_env, "urgent-retry-1")
    assert case.number == number
    assert case.type == "urgent" and case.priority == "urgent" and case.hotline == "12345"


def test_urgent_report_survives_the_service_being_down(service_env, tracker_for, monkeypatch):
    monkeypatch.setenv("JZ_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("JZ_SERVICE_TIMEOUT", "0.5")
    settings.cache_clear()
    sent = []
    messages, _ = run(ActionSubmitUrgent(), urgent_tracker(tracker_for, "urgent-outage-1"), sent)
    assert "不会丢" in messages[0] and "12345" in messages[0]
    assert responses(sent) == ["utter_urgent_kept"]
    assert [key for key, _ in spool.pending()] == ["urgent-outage-1"]
    # The service is back: the next case-creating action sends the spooled report first.
    monkeypatch.setenv("JZ_SERVICE_URL", service_env.url)
    settings.cache_clear()
    run(ActionHandOver(), tracker_for("转人工", intent="request_human"))
    assert spool.pending() == []
    assert stored_case(service_env, "urgent-outage-1").type == "urgent"


def test_handover_tells_the_case_number_and_when(service_env, tracker_for):
    sent = []
    messages, _ = run(ActionHandOver(), tracker_for("我要找工作人员", intent="request_human"), sent)
    assert re.search(r"工单号 GD[0-9A-Z]+，查询码 [0-9A-Z]{8}", messages[0])
    assert "答复您" in messages[0]
    assert responses(sent) == ["utter_case_created"] and sent[0]["case_number"].startswith("GD")


def test_a_resident_checks_their_case_in_the_chat(service_env, tracker_for):
    from actions.handover import ActionCheckCase

    messages, _ = run(ActionHandOver(), tracker_for("我要找工作人员", intent="request_human", sender="checker-1"))
    number, code = re.search(r"工单号 (GD[0-9A-Z]+)，查询码 ([0-9A-Z]{8})", messages[0]).groups()
    typed = (
        f"查一下工单 {number.lower()} 查询码 {''.join(chr(ord(c) + 0xFEE0) for c in code)}"  # lower case, full width
    )
    found, _ = run(ActionCheckCase(), tracker_for(typed, intent="check_case", sender="checker-1"))
    assert f"工单 {number} 现在的状态是" in found[0]
    # one chat user guessing is stopped (counted by conversation) without stopping the others
    for _ in range(10):
        sent = []
        wrong, _ = run(
            ActionCheckCase(), tracker_for(f"工单{number}查询码ZZZZ2222", intent="check_case", sender="guesser-1"), sent
        )
        assert "没有查到" in wrong[0] and responses(sent) == ["utter_case_not_found"]
    sent = []
    stopped, _ = run(ActionCheckCase(), tracker_for(typed, intent="check_case", sender="guesser-1"), sent)
    assert "次数太多" in stopped[0] and responses(sent) == ["utter_case_lookup_throttled"]
    again, _ = run(ActionCheckCase(), tracker_for(typed, intent="check_case", sender="checker-1"))
    assert "现在的状态是" in again[0]


def test_complaint_is_registered_for_supervision(service_env, tracker_for):
    sent = []
    messages, _ = run(
        ActionRegisterComplaint(), tracker_for("村干部把低保给他亲戚吃，这是关系保", intent="complain"), sent
    )
    assert "投诉举报" in messages[0] and re.search(r"GD[0-9A-Z]+", messages[0])
    assert responses(sent)[0] == "utter_complaint_registered"


def test_a_question_about_the_rules_is_answered_before_the_screen_starts(service_env, tracker_for):
    from actions.screening import ActionStartScreen

    messages, slots = run(ActionStartScreen(), tracker_for("家里有残疾人是否可以申请低保?", intent="start_screen"))
    assert "依据" in messages[0]
    assert slots["screen_program"] == "dibao"
    sent = []
    plain, _ = run(ActionStartScreen(), tracker_for("帮我看看能不能吃低保", intent="start_screen"), sent)
    assert "依据" not in plain[0] and responses(sent) == ["utter_screen_intro"]


def test_a_question_about_the_hotline_is_answered_not_transferred(service_env, tracker_for):
    messages, _ = run(ActionHandOver(), tracker_for("12349热线是管什么的?", intent="request_human"))
    assert "工单号" not in "".join(messages) and "依据" in messages[0]
    asked, _ = run(ActionHandOver(), tracker_for("帮我转人工", intent="request_human"))
    assert "工单号" in asked[0]
