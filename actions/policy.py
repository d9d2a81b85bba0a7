"""Answers policy questions from the knowledge base, with the clauses they rest on.

The asker's place is asked once when it matters (a local rule exists) and then
remembered in the `jurisdiction` slot; telling it re-answers the last question.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.conversation import last_policy_question, latest_intent, latest_text
from actions.replies import (
    HANDOVER_BUTTONS,
    PLACE_BUTTONS,
    SCREEN_OFFER_BUTTONS,
    SOURCES_BUTTON,
    chat_answer,
    place_intro,
    sources_text,
)
from bot.facts import extract_facts, merge_facts
from bot.places import find_place_in_text
from bot.screening import program_in_text

# Programs whose rules differ by place: worth knowing where the asker lives.
LOCAL_TOPICS = {
    "dibao",
    "dibao_single",
    "dibao_edge",
    "tekun",
    "temporary_assistance",
    "medical_assistance",
    "rigid_expense",
    "housing_assistance",
    "disability_subsidies",
    "children",
    "application",
    "hotline",
}
# Programs the eligibility screen can look at: a resident asking about their own case is offered it.
SCREENABLE = {"dibao", "dibao_single", "dibao_edge", "tekun", "temporary_assistance", "rigid_expense"}
MAX_SOURCES = 20  # as many provisions as GET /v1/kb/provisions gives at once


async def answer_result(question: str, place: str | None) -> dict[str, Any]:
    """The knowledge base's answer (short answer, basis, citations…); raises ServiceUnavailable."""
    client = ServiceClient()
    try:
        return await client.answer(question, place)
    except ServiceRefused:  # e.g. a place the knowledge base does not know: answer nationally
        return await client.answer(question, None)


async def answer_text(question: str, place: str | None) -> tuple[str, list[str]]:
    """(the answer with its basis line, its topics); raises ServiceUnavailable."""
    result = await answer_result(question, place)
    return chat_answer(result), result.get("topics", [])


def answer_buttons(result: dict[str, Any]) -> list[dict[str, str]]:
    """看原文 for every cited answer; a person to ask when no card surely answered."""
    buttons = [SOURCES_BUTTON] if result.get("citations") else []
    if result.get("match") != "card" or not result.get("sure", True):
        buttons.append(HANDOVER_BUTTONS[0])
    return buttons


def _place_matters(result: dict[str, Any]) -> bool:
    """A card with local answers, or clauses on a program whose rules differ by place."""
    if result.get("match") == "card":
        return bool(result.get("local_places"))
    return bool(LOCAL_TOPICS.intersection(result.get("topics") or []))


class ActionAnswerPolicy(Action):
    """A policy question answered from the knowledge base, for the asker's place when known."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        place = tracker.get_slot("jurisdiction") or find_place_in_text(text)
        events: list[dict[str, Any]] = []
        if place and place != tracker.get_slot("jurisdiction"):
            events.append(SlotSet("jurisdiction", place))

        if intent == "tell_place":
            if not place:
                dispatcher.utter_message(response="utter_place_unknown")
                return events
            question = last_policy_question(tracker)
            if not question:
                dispatcher.utter_message(response="utter_place_remembered", place=place)
                return events
            text = question
        try:
            result = await answer_result(text, place)
        except (ServiceUnavailable, ServiceRefused):
            dispatcher.utter_message(response="utter_policy_unavailable")
            return events
        answer, topics = chat_answer(result), result.get("topics", [])
        events.append(SlotSet("last_sources", source_ids(result) or None))
        if intent == "tell_place":  # the service's answer, introduced (one message)
            answer = f"{place_intro(place, result.get('rule_place'))}\n{answer}"
        dispatcher.utter_message(text=answer, buttons=answer_buttons(result))
        if not place and not tracker.get_slot("place_asked") and _place_matters(result):
            dispatcher.utter_message(response="utter_which_place", buttons=PLACE_BUTTONS)
            return events + [SlotSet("place_asked", True)]
        if result.get("personal") and SCREENABLE.intersection(topics) and not tracker.active_loop.get("name"):
            # Their own situation: offer the screen, with what this message already says.
            facts = merge_facts(tracker.get_slot("screen_facts") or {}, extract_facts(text))
            program = program_in_text(text) or next(t for t in topics if t in SCREENABLE)
            dispatcher.utter_message(response="utter_offer_screen", buttons=SCREEN_OFFER_BUTTONS)
            events += [SlotSet("screen_facts", facts), SlotSet("screen_program", program)]
        return events


def source_ids(result: dict[str, Any]) -> list[str]:
    """The cited provisions' ids, each once, in the answer's order: what 看原文 fetches again."""
    return list(dict.fromkeys(c["id"] for c in result.get("citations") or [] if c.get("id")))


class ActionShowSources(Action):
    """看原文: the clauses the last answer rests on, quoted (fetched again by their ids)."""

    def name(self) -> str:
        return "action_show_sources"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        sources = tracker.get_slot("last_sources")
        if isinstance(sources, str) and sources:  # kept as text by an earlier version
            dispatcher.utter_message(text=f"政策原文：\n{sources}")
            return []
        ids = [i for i in sources if isinstance(i, str)] if isinstance(sources, list) else []
        quoted = ""
        if ids:
            try:
                found = await ServiceClient().provisions(ids[:MAX_SOURCES])
            except (ServiceUnavailable, ServiceRefused):
                dispatcher.utter_message(response="utter_sources_unavailable")
                return []
            quoted = sources_text({"citations": found.get("provisions") or []})
        if quoted:
            dispatcher.utter_message(text=f"政策原文：\n{quoted}")  # the service's clauses, quoted
        else:
            dispatcher.utter_message(response="utter_no_sources")
        return []
