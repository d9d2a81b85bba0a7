"""A volunteer's or grid worker's report of a household in difficulty (主动发现)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.cases import case_payload, due_text, register_case
from actions.contact import contact_from, message, where_from
from actions.conversation import idempotency_key, summary_line
from actions.forms import FormValidation
from bot.places import find_place_in_text


class ValidateDiscoveryForm(FormValidation):
    """The situation from the first message, then where and a contact, from any message."""

    interruptions = frozenset({"stop", "report_danger", "ask_policy", "request_human"})

    def name(self) -> str:
        return "validate_discovery_form"

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        what = [] if tracker.get_slot("discovery_what") else [SlotSet("discovery_what", message(tracker))]
        return what + await super().read(dispatcher, tracker, domain)

    def extract_discovery_where(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return where_from(tracker, "discovery_where")

    def extract_discovery_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return contact_from(tracker, "discovery_contact")


class ActionSubmitDiscovery(Action):
    """Registers the volunteer's report as a 主动发现 case for the local workers."""

    def name(self) -> str:
        return "action_submit_discovery"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        what = tracker.get_slot("discovery_what") or ""
        where = tracker.get_slot("discovery_where") or ""
        phone = tracker.get_slot("discovery_contact")
        payload = case_payload(
            tracker,
            "discovery",
            f"主动发现：{summary_line(what)[:40]}",
            f"志愿者/网格员报告：{summary_line(what)}；地点：{summary_line(where)}",
            contact={"address": where or None, "phone": phone if phone not in (None, "none") else None},
            questions=[what],
        )
        payload["contact"] = {k: v for k, v in payload["contact"].items() if v}
        place = find_place_in_text(f"{what} {where}") or tracker.get_slot("jurisdiction")
        if place:
            payload["jurisdiction"] = place
        reset = [SlotSet(s, None) for s in ("discovery_what", "discovery_where", "discovery_contact")]
        case = await register_case(
            dispatcher, payload, idempotency_key(tracker, "discovery"), kept_response="utter_request_kept"
        )
        if case is not None:
            dispatcher.utter_message(
                response="utter_discovery_registered", case_number=case["number"], due=due_text(case.get("due_at"))
            )
        return reset
