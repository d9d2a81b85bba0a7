"""Danger and urgent hardship: the emergency numbers first, then a 急难 case that is never lost."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.cases import case_payload, due_text, register_case
from actions.contact import contact_from, message, phone_in, where_from, where_in
from actions.conversation import idempotency_key, latest_intent, latest_text, reported_at, summary_line
from actions.forms import FormValidation
from bot.facts import extract_facts
from bot.places import find_place_in_text
from bot.safety import LIFE, danger_level, emergency_reply

YES = re.compile(r"^(?:可以|好|行|要得|同意|嗯|是|对|马上|快|转吧|赶紧|麻烦)")
NO = re.compile(r"^(?:不用|不要|先不|不了|算了|别)")


class ActionReportEmergency(Action):
    """The first reply to danger or urgent hardship, before any question."""

    def name(self) -> str:
        return "action_report_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if latest_intent(tracker) == "report_danger" or danger_level(text) == LIFE:
            dispatcher.utter_message(text=emergency_reply(text))  # which numbers depends on the words
            dispatcher.utter_message(response="utter_urgent_after_call")
        else:
            dispatcher.utter_message(response="utter_urgent_registering")
        events = [
            SlotSet("urgent_what", text),
            SlotSet("urgent_key", idempotency_key(tracker, "urgent")),
            SlotSet("urgent_consent", None),
        ]
        where = where_in(text)
        events.append(SlotSet("urgent_where", where))
        events.append(SlotSet("urgent_contact", phone_in(text)))
        return events


class ValidateUrgentForm(FormValidation):
    """Reads where, a phone number and consent from any message, so few turns are needed."""

    interruptions = frozenset({"stop", "report_danger", "ask_policy", "request_human"})

    def name(self) -> str:
        return "validate_urgent_form"

    def extract_urgent_where(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return where_from(tracker, "urgent_where")

    def extract_urgent_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return contact_from(tracker, "urgent_contact")

    def extract_urgent_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != "urgent_consent":
            return {}
        text, intent = message(tracker), latest_intent(tracker)
        if intent == "affirm" or YES.search(text):
            return {"urgent_consent": True}
        if intent == "deny" or NO.search(text):
            return {"urgent_consent": False}
        return {}


class ActionSubmitUrgent(Action):
    """Persists the urgent case (or spools it) before acknowledging anything."""

    def name(self) -> str:
        return "action_submit_urgent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reset = [SlotSet(s, None) for s in ("urgent_what", "urgent_where", "urgent_contact", "urgent_consent")]
        if tracker.get_slot("urgent_consent") is not True:
            dispatcher.utter_message(response="utter_urgent_not_registered")
            return reset
        what = tracker.get_slot("urgent_what") or ""
        where = tracker.get_slot("urgent_where") or ""
        phone = tracker.get_slot("urgent_contact")
        place = tracker.get_slot("jurisdiction") or find_place_in_text(f"{what} {where}")
        kind = extract_facts(what).get("emergency_type")
        summary = f"急难求助：{summary_line(what)}；地点：{summary_line(where)}" + (f"；类型：{kind}" if kind else "")
        payload = case_payload(
            tracker,
            "urgent",
            f"急难求助：{summary_line(what)[:40]}",
            summary,
            questions=[what],
            contact={"phone": phone if phone not in (None, "none") else None, "address": where or None},
            priority="urgent",
        )
        if place:
            payload["jurisdiction"] = place
        payload["contact"] = {k: v for k, v in payload["contact"].items() if v}
        payload["reported_at"] = reported_at(tracker, what)  # the SLA runs from the first words
        key = tracker.get_slot("urgent_key") or idempotency_key(tracker, "urgent")
        case = await register_case(dispatcher, payload, key, kept_response="utter_urgent_kept")
        if case is None:
            return reset
        told = dict(
            case_number=case["number"],
            check_code=case["check_code"],
            due=due_text(case.get("due_at")),
            hotline=case.get("hotline", "12345"),
        )
        if phone not in (None, "none"):
            dispatcher.utter_message(response="utter_urgent_registered", **told)  # 工作人员会打电话联系您
        else:
            dispatcher.utter_message(response="utter_urgent_registered_no_phone", **told)  # …会在这里回复您
        return reset
