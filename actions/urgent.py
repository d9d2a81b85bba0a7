"""Danger and urgent hardship: the emergency numbers first, then a 急难 case that is never lost."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cases import NOT_STORED, SpoolError, case_payload, due_text, submit_case
from actions.conversation import idempotency_key, reported_at, summary_line
from actions.replies import EMERGENCY_FOOTER
from bot.facts import extract_facts
from bot.places import find_place_in_text
from bot.safety import LIFE, danger_level, emergency_reply

PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)|(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
NO_PHONE = re.compile(r"不方便|不留|没有电话|没电话|莫得电话|不想留")
YES = re.compile(r"^(?:可以|好|行|要得|同意|嗯|是|对|马上|快|转吧|赶紧|麻烦)")
NO = re.compile(r"^(?:不用|不要|先不|不了|算了|别)")


def phone_in(text: str) -> str | None:
    m = PHONE.search(text)
    return re.sub(r"[- ]", "", m[1] or m[2]) if m else None


def where_in(text: str) -> str | None:
    """The message as the place, when it names a county we serve. Otherwise the form asks
    (free text like "我们社区" names no place an operator could find)."""
    return without_phone(text)[:200] if find_place_in_text(text) else None


def without_phone(text: str) -> str:
    return re.sub(r"[，,；;\s]*(?:电话|手机|号码)?[:：]?\s*$", "", PHONE.sub("", text)).strip()


def where_and_contact(tracker: Tracker, text: str, expecting: str | None,
                      where_slot: str, contact_slot: str) -> list[dict[str, Any]]:
    """SlotSets for a place and a phone number, from whatever message states them
    (a reply to "在哪里" is the place, with any phone number taken out)."""
    events: list[dict[str, Any]] = []
    if tracker.get_slot(where_slot) is None and text and (where_in(text) or expecting == where_slot):
        events.append(SlotSet(where_slot, where_in(text) or without_phone(text)[:200]))
    phone = phone_in(text)
    if phone:
        events.append(SlotSet(contact_slot, phone))
    elif expecting == contact_slot and NO_PHONE.search(text):
        events.append(SlotSet(contact_slot, "none"))
    return events


class ActionEmergency(Action):
    """The first reply to danger or urgent hardship, before any question."""

    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "report_danger" or danger_level(text) == LIFE:
            dispatcher.utter_message(text=emergency_reply(text))
            dispatcher.utter_message(text="打完电话、安全以后，如果还需要政府帮助，我马上帮您登记急难求助。")
        else:
            dispatcher.utter_message(text=EMERGENCY_FOOTER + "听到您遇到这么急的事，我们马上帮您登记急难求助，尽快有人联系您。")
        events = [SlotSet("urgent_what", text), SlotSet("urgent_key", idempotency_key(tracker, "urgent")),
                  SlotSet("urgent_consent", None)]
        where = where_in(text)
        events.append(SlotSet("urgent_where", where))
        events.append(SlotSet("urgent_contact", phone_in(text)))
        return events


class ValidateUrgentForm(Action):
    """Reads where, a phone number and consent from any message, so few turns are needed."""

    def name(self) -> str:
        return "validate_urgent_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        expecting = tracker.get_slot("requested_slot")
        events = where_and_contact(tracker, text, expecting, "urgent_where", "urgent_contact")
        if expecting == "urgent_consent":
            if intent == "affirm" or YES.search(text):
                events.append(SlotSet("urgent_consent", True))
            elif intent == "deny" or NO.search(text):
                events.append(SlotSet("urgent_consent", False))
        if not events and expecting and intent in ("stop", "report_danger", "ask_policy", "request_human"):
            return []
        if not events and expecting:
            dispatcher.utter_message(text="不好意思，没听清楚。")
            events.append(SlotSet("urgent_key", tracker.get_slot("urgent_key")))  # keep the form going
        return events


class ActionSubmitUrgent(Action):
    """Persists the urgent case (or spools it) before acknowledging anything."""

    def name(self) -> str:
        return "action_submit_urgent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        reset = [SlotSet(s, None) for s in ("urgent_what", "urgent_where", "urgent_contact", "urgent_consent")]
        if tracker.get_slot("urgent_consent") is not True:
            dispatcher.utter_message(text="好的，先不登记。需要的时候随时告诉我，也可以直接拨打 12345 或 12349 热线。"
                                          + EMERGENCY_FOOTER)
            return reset
        what = tracker.get_slot("urgent_what") or ""
        where = tracker.get_slot("urgent_where") or ""
        phone = tracker.get_slot("urgent_contact")
        place = tracker.get_slot("jurisdiction") or find_place_in_text(f"{what} {where}")
        kind = extract_facts(what).get("emergency_type")
        summary = f"急难求助：{summary_line(what)}；地点：{summary_line(where)}" + (f"；类型：{kind}" if kind else "")
        payload = case_payload(tracker, "urgent", f"急难求助：{summary_line(what)[:40]}", summary, questions=[what],
                               contact={"phone": phone if phone not in (None, "none") else None,
                                        "address": where or None},
                               priority="urgent")
        if place:
            payload["jurisdiction"] = place
        payload["contact"] = {k: v for k, v in payload["contact"].items() if v}
        payload["reported_at"] = reported_at(tracker, what)  # the SLA runs from the first words
        key = tracker.get_slot("urgent_key") or idempotency_key(tracker, "urgent")
        try:
            case = await submit_case(payload, key)
        except SpoolError:
            dispatcher.utter_message(text=NOT_STORED)
            return reset
        if case is None:
            dispatcher.utter_message(text="系统这会儿有点忙，您的求助已经先记在这里了，恢复后会马上转给工作人员，不会丢。"
                                          "等不及的话，请立即拨打 12345 或 12349 热线。" + EMERGENCY_FOOTER)
            return reset
        call = "工作人员会打电话联系您" if phone not in (None, "none") else "工作人员会在这里回复您"
        dispatcher.utter_message(
            text=f"已登记为急难求助，工单号 {case['number']}，查询码 {case['check_code']}，请记好。"
                 f"{call}，最晚{due_text(case.get('due_at'))}；也可以拨打 {case.get('hotline', '12345')} 热线查询。"
                 + EMERGENCY_FOOTER)
        return reset
