"""Handing the conversation to the 12345 / 12349 queue, case lookups, complaints."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.cases import case_payload, due_text, register_case
from actions.conversation import idempotency_key, latest_text, resident_questions, summary_line
from actions.policy import answer_text
from actions.replies import HANDOVER_BUTTONS
from bot.case_codes import find_case_number, find_check_code
from bot.places import find_place_in_text
from bot.programs import PROGRAMS
from bot.text import looks_like_question


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


class ActionHandOver(Action):
    """Hands the conversation to the hotline queue as a case (or answers a question about the hotline)."""

    def name(self) -> str:
        return "action_hand_over"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if looks_like_question(text) and HOTLINE_WORDS.search(text) and not re.search(r"转|帮我|给我|我要|找", text):
            # A question about the hotline ("哪些情况可以打12345?") is answered, not transferred.
            try:
                answer, _ = await answer_text(text, tracker.get_slot("jurisdiction"))
                dispatcher.utter_message(text=answer)
                dispatcher.utter_message(response="utter_offer_hand_over", buttons=HANDOVER_BUTTONS)
                return []
            except (ServiceUnavailable, ServiceRefused):
                pass  # can't answer: hand over, which is what a person would do
        case_type = "eligibility_followup" if tracker.get_slot("screen_result") else "consultation"
        title = "资格复核：初筛后请工作人员核实" if case_type == "eligibility_followup" else "居民请求人工服务"
        payload = case_payload(tracker, case_type, title, handover_summary(tracker))
        case = await register_case(
            dispatcher, payload, idempotency_key(tracker, "handover"), kept_response="utter_request_kept"
        )
        if case is not None:
            dispatcher.utter_message(
                response="utter_case_created",
                hotline=case.get("hotline", "12345"),
                case_number=case["number"],
                check_code=case["check_code"],
                due=due_text(case.get("due_at")),
            )
        return []


class ActionCheckCase(Action):
    """A resident's case lookup (number and check code from their message)."""

    def name(self) -> str:
        return "action_check_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        # Old (GD + date + sequence, 6-digit code) and new (GD + date + 6 letters/digits,
        # 8-character code) numbers alike; full-width and lower case typing too.
        number = find_case_number(text)
        code = find_check_code(text)
        if not number or not code:
            dispatcher.utter_message(response="utter_case_lookup_needs_number")
            return []
        try:
            case = await ServiceClient().lookup_case(number, code, conversation=tracker.sender_id)
        except ServiceRefused as exc:
            if exc.status == 429:
                dispatcher.utter_message(response="utter_case_lookup_throttled")
            else:
                dispatcher.utter_message(response="utter_case_not_found")
            return []
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_case_lookup_unavailable")
            return []
        status = case.get("status_label") or case.get("status", "")
        # Built from the service's answer (the due time and the result only when there are some).
        line = f"工单 {number} 现在的状态是：{status}。"
        if case.get("due_at"):
            line += f"办理时限：{due_text(case['due_at'])}。"
        if case.get("resolution"):
            line += f"\n办理结果：{case['resolution']}"
        dispatcher.utter_message(text=line)
        return []


class ActionRegisterComplaint(Action):
    """A complaint (关系保、人情保、吃拿卡要…) is registered for the supervision channel at once."""

    def name(self) -> str:
        return "action_register_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        place = tracker.get_slot("jurisdiction") or find_place_in_text(text)
        payload = case_payload(
            tracker, "complaint", f"投诉举报：{summary_line(text)[:40]}", f"投诉举报：{summary_line(text)}"
        )
        if place:
            payload["jurisdiction"] = place
        case = await register_case(
            dispatcher, payload, idempotency_key(tracker, "complaint"), kept_response="utter_request_kept"
        )
        if case is not None:
            dispatcher.utter_message(
                response="utter_complaint_registered",
                case_number=case["number"],
                check_code=case["check_code"],
                due=due_text(case.get("due_at")),
            )
        try:
            # The resident's own words find the rules their complaint is about.
            answer, _ = await answer_text(f"{text} 监督 举报", place)
            dispatcher.utter_message(text="相关规定供您参考：\n" + answer)
        except (ServiceUnavailable, ServiceRefused):
            pass
        return [SlotSet("jurisdiction", place)] if place and not tracker.get_slot("jurisdiction") else []
