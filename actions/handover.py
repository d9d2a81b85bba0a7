"""Handing the conversation to the 12345 / 12349 queue, case lookups, complaints, volunteers' reports."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.cases import NOT_STORED, SpoolError, case_payload, due_text, submit_case
from actions.conversation import idempotency_key, resident_questions, summary_line
from actions.policy import answer_text
from actions.replies import HANDOVER_BUTTONS
from actions.urgent import where_and_contact
from bot.cases.codes import find_case_number, find_check_code
from bot.places import find_place_in_text
from bot.programs import PROGRAMS
from bot.text import looks_like_question

SPOOLED = ("系统这会儿有点忙，您的请求已经先记下了，恢复后会马上转给工作人员，不会丢。"
           "着急的话请直接拨打 12345 政务服务便民热线或 12349 民政服务热线。")


def handover_summary(tracker: Tracker) -> str:
    """A few lines an operator reads first: questions, facts told, the screen result."""
    parts = []
    questions = resident_questions(tracker, limit=3)
    if questions:
        parts.append("咨询：" + "；".join(summary_line(q) for q in questions))
    facts = {k: v for k, v in (tracker.get_slot("screen_facts") or {}).items() if not k.startswith("_")}
    if facts:
        parts.append("已了解：" + "，".join(f"{k}={v}" for k, v in facts.items()))
    screen = tracker.get_slot("screen_result") or {}
    for r in screen.get("results", [])[:3]:
        parts.append(f"初筛 {PROGRAMS.get(r['program'], r['program'])}：{r['status']}")
    if not parts:
        last = tracker.latest_message.get("text") or ""
        parts.append("居民原话：" + summary_line(last))
    return "\n".join(parts)


HOTLINE_WORDS = re.compile(r"热线|12345|12349|人工|电话")


class ActionHandover(Action):
    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        if looks_like_question(text) and HOTLINE_WORDS.search(text) and not re.search(r"转|帮我|给我|我要|找", text):
            # A question about the hotline ("哪些情况可以打12345?") is answered, not transferred.
            try:
                answer, _ = await answer_text(text, tracker.get_slot("jurisdiction"))
                dispatcher.utter_message(text=answer)
                dispatcher.utter_message(text="需要的话，我也可以直接帮您转给工作人员。", buttons=HANDOVER_BUTTONS)
                return []
            except (ServiceUnavailable, ServiceRefused):
                pass  # can't answer: hand over, which is what a person would do
        case_type = "eligibility_followup" if tracker.get_slot("screen_result") else "consultation"
        title = "资格复核：初筛后请工作人员核实" if case_type == "eligibility_followup" else "居民请求人工服务"
        payload = case_payload(tracker, case_type, title, handover_summary(tracker))
        try:
            case = await submit_case(payload, idempotency_key(tracker, "handover"))
        except SpoolError:
            dispatcher.utter_message(text=NOT_STORED)
            return []
        if case is None:
            dispatcher.utter_message(text=SPOOLED)
            return []
        dispatcher.utter_message(
            text=f"已帮您转给 {case.get('hotline', '12345')} 热线的工作人员，工单号 {case['number']}，查询码 {case['check_code']}。"
                 f"工作人员会在{due_text(case.get('due_at'))}答复您，回复会显示在这个对话里。"
                 f"这期间您也可以继续问我，或直接拨打 {case.get('hotline', '12345')} 热线。")
        return []


class ActionCheckCase(Action):
    def name(self) -> str:
        return "action_check_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        # Old (GD + date + sequence, 6-digit code) and new (GD + date + 6 letters/digits,
        # 8-character code) numbers alike; full-width and lower case typing too.
        number = find_case_number(text)
        code = find_check_code(text)
        if not number or not code:
            dispatcher.utter_message(text="请把工单号和查询码一起发给我，比如“工单号 GD20261122K7M3QX 查询码 AB3D5F7G”。"
                                          "登记时我都告诉过您；找不到的话可以拨打 12345 热线查询。")
            return []
        try:
            case = await ServiceClient().lookup_case(number, code, conversation=tracker.sender_id)
        except ServiceRefused as exc:
            if exc.status == 429:
                dispatcher.utter_message(text="查询失败的次数太多了，请过一会儿再试，或拨打 12345 热线查询。")
            else:
                dispatcher.utter_message(text="没有查到这个工单，请核对一下工单号和查询码。多次输错要等一会儿才能再查。")
            return []
        except ServiceUnavailable:
            dispatcher.utter_message(text="查询系统暂时连不上，请稍后再试，或拨打 12345 热线查询。")
            return []
        status = case.get("status_label") or case.get("status", "")
        line = f"工单 {number} 现在的状态是：{status}。"
        if case.get("due_at"):
            line += f"办理时限：{due_text(case['due_at'])}。"
        if case.get("resolution"):
            line += f"\n办理结果：{case['resolution']}"
        dispatcher.utter_message(text=line)
        return []


class ActionComplaint(Action):
    """A complaint (关系保、人情保、吃拿卡要…) is registered for the supervision channel at once."""

    def name(self) -> str:
        return "action_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        place = tracker.get_slot("jurisdiction") or find_place_in_text(text)
        payload = case_payload(tracker, "complaint", f"投诉举报：{summary_line(text)[:40]}",
                               f"投诉举报：{summary_line(text)}")
        if place:
            payload["jurisdiction"] = place
        try:
            case = await submit_case(payload, idempotency_key(tracker, "complaint"))
        except SpoolError:
            dispatcher.utter_message(text=NOT_STORED)
        else:
            if case is None:
                dispatcher.utter_message(text=SPOOLED)
            else:
                dispatcher.utter_message(
                    text=f"您反映的情况已登记为投诉举报，工单号 {case['number']}，查询码 {case['check_code']}。"
                         f"会转给监督部门核查，一般在{due_text(case.get('due_at'))}答复；您的个人信息会保密。")
        try:
            # The resident's own words find the rules their complaint is about.
            answer, _ = await answer_text(f"{text} 监督 举报", place)
            dispatcher.utter_message(text="相关规定供您参考：\n" + answer)
        except (ServiceUnavailable, ServiceRefused):
            pass
        return [SlotSet("jurisdiction", place)] if place and not tracker.get_slot("jurisdiction") else []


class ValidateDiscoveryForm(Action):
    """A volunteer's report: the situation from the first message, then where and a contact."""

    def name(self) -> str:
        return "validate_discovery_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        expecting = tracker.get_slot("requested_slot")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        events: list[dict[str, Any]] = []
        if not tracker.get_slot("discovery_what"):
            events.append(SlotSet("discovery_what", text))
        events += where_and_contact(tracker, text, expecting, "discovery_where", "discovery_contact")
        if not events and intent in ("stop", "report_danger", "ask_policy"):
            return []
        return events


class ActionSubmitDiscovery(Action):
    def name(self) -> str:
        return "action_submit_discovery"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        what = tracker.get_slot("discovery_what") or ""
        where = tracker.get_slot("discovery_where") or ""
        phone = tracker.get_slot("discovery_contact")
        payload = case_payload(
            tracker, "discovery", f"主动发现：{summary_line(what)[:40]}",
            f"志愿者/网格员报告：{summary_line(what)}；地点：{summary_line(where)}",
            contact={"address": where or None, "phone": phone if phone not in (None, "none") else None},
            questions=[what],
        )
        payload["contact"] = {k: v for k, v in payload["contact"].items() if v}
        place = find_place_in_text(f"{what} {where}") or tracker.get_slot("jurisdiction")
        if place:
            payload["jurisdiction"] = place
        reset = [SlotSet(s, None) for s in ("discovery_what", "discovery_where", "discovery_contact")]
        try:
            case = await submit_case(payload, idempotency_key(tracker, "discovery"))
        except SpoolError:
            dispatcher.utter_message(text=NOT_STORED)
            return reset
        if case is None:
            dispatcher.utter_message(text=SPOOLED)
            return reset
        dispatcher.utter_message(
            text=f"谢谢您！已登记为主动发现线索，工单号 {case['number']}。当地工作人员会在{due_text(case.get('due_at'))}"
                 "上门核实，符合条件的会帮这户人家申请救助。如果这户人家有生命危险，请立即拨打 110 或 120。")
        return reset
