"""The eligibility screen as a Rasa form driven by the eligibility service.

validate_screen_form (a FormValidation, actions/forms.py) reads every fact a message
states (several at once, corrections included), asks the service what it still needs,
and sets the one slot to ask next; the questions themselves (with why they are asked)
are utter_ask_<slot> responses in domain/screening.yml.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.conversation import latest_text
from actions.forms import FormValidation
from actions.policy import answer_text
from actions.replies import HANDOVER_BUTTONS
from bot.facts import extract_facts, merge_facts
from bot.programs import PROGRAMS
from bot.screening import build_request, next_question, program_in_text, read_answer, slot_values
from bot.text import looks_like_question

# Intents that are not an answer to the form's question: the form steps aside for them.
INTERRUPTIONS = frozenset(
    {
        "ask_policy",
        "stop",
        "report_danger",
        "report_urgent",
        "request_human",
        "goodbye",
        "bot_challenge",
        "complain",
        "check_case",
        "report_discovery",
        "greet",
        "thank",
    }
)
# "帮我看看能不能吃低保" asks for the screen itself, not for the rules.
SCREEN_REQUEST = re.compile(r"帮我|帮忙|给我|测一?测|算一?算|看一?看")
STATUS_LABELS = {"likely": "可能符合", "unlikely": "可能不符合", "need_info": "还需要了解"}
_FACT_WORDS = {
    "household_size": lambda v: f"家里 {v} 口人",
    "monthly_income": lambda v: f"全家每月收入约 {v:g} 元",
    "hukou": lambda v: "农村户口" if v == "rural" else "城镇户口",
    "jurisdiction": lambda v: f"在{v}",
    "local_standard": lambda v: f"当地低保标准 {v:g} 元",
}


def _slot_events(tracker: Tracker, facts: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        SlotSet(slot, value)
        for slot, value in slot_values(facts).items()
        if value is not None and value != tracker.get_slot(slot)
    ]


def _corrections(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        _FACT_WORDS[k](after[k])
        for k in _FACT_WORDS
        if before.get(k) is not None and after.get(k) is not None and before[k] != after[k]
    ]


async def _screen(facts: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return await ServiceClient().screen(build_request(facts))
    except (ServiceUnavailable, ServiceRefused):
        return None


class ActionStartScreen(Action):
    """Starts (or restarts) a screening with whatever the opening message already says."""

    def name(self) -> str:
        return "action_start_screen"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        program = program_in_text(text) or tracker.get_slot("screen_program") or "dibao"
        facts = dict(tracker.get_slot("screen_facts") or {})
        if tracker.get_slot("jurisdiction"):
            facts.setdefault("jurisdiction", tracker.get_slot("jurisdiction"))
        facts = merge_facts(facts, extract_facts(text))
        facts["_asked"] = 0
        if looks_like_question(text) and not SCREEN_REQUEST.search(text):
            # "家里有残疾人是否可以申请低保?" asks about the rules too: answer them first.
            try:
                answer, _ = await answer_text(text, facts.get("jurisdiction"))
                dispatcher.utter_message(text=answer)
            except (ServiceUnavailable, ServiceRefused):
                pass
        dispatcher.utter_message(response="utter_screen_intro")
        # The form's miss counter starts again as the form starts (actions/forms.py).
        return [SlotSet("screen_program", program), SlotSet("screen_facts", facts), *_slot_events(tracker, facts)]


class ValidateScreenForm(FormValidation):
    """Every fact a message states; then the one question the service still needs answered.
    Two misses of a question in a row: the result from what is known (which offers a person)."""

    interruptions = INTERRUPTIONS

    def name(self) -> str:
        return "validate_screen_form"

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        known = dict(tracker.get_slot("screen_facts") or {})
        facts, understood = read_answer(latest_text(tracker), tracker.get_slot(REQUESTED_SLOT), known)
        return [SlotSet("screen_facts", facts)] if understood else []

    async def filled(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, events: list[EventType]
    ) -> list[EventType]:
        known = dict(tracker.get_slot("screen_facts") or {})
        facts = dict(next((e["value"] for e in events if e.get("name") == "screen_facts"), known))
        changed = _corrections(known, facts)
        if changed:
            dispatcher.utter_message(response="utter_screen_corrected", changes="，".join(changed))
        program = tracker.get_slot("screen_program") or "dibao"
        screen = await _screen(facts)
        asked = int(facts.get("_asked", 0))
        slot = next_question(facts, screen, program, asked)
        facts["_asked"] = asked + (1 if slot else 0)
        return [SlotSet("screen_facts", facts), *_slot_events(tracker, facts), SlotSet(REQUESTED_SLOT, slot)]

    async def missed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, slot: str
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_screen_not_understood")
        return [SlotSet(REQUESTED_SLOT, slot)]

    async def gave_up(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, slot: str
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_screen_gave_up")
        return [SlotSet(REQUESTED_SLOT, None)]  # the form ends: action_show_screen_result


def result_messages(screen: dict[str, Any], program: str) -> list[str]:
    """The screen result in plain Chinese: the asked-about program first, with its clauses."""
    results = {r["program"]: r for r in screen.get("results", [])}
    target = results.get(program) or results.get("dibao")
    messages = []
    if target:
        name = PROGRAMS.get(target["program"], target["program"])
        lines = [f"【{name}】初步看：{STATUS_LABELS.get(target['status'], target['status'])}。"]
        ordered = sorted(target.get("explanation", []), key=lambda e: {False: 0, None: 1, True: 2}[e.get("passed")])
        for item in ordered[:4]:
            cite = item.get("citation") or {}
            basis = f"（依据：{cite.get('title', '')}{cite.get('clause', '')}）" if cite else ""
            lines.append(f"· {item['text']}{basis}")
        estimate = target.get("estimate") or {}
        if estimate.get("formula"):
            lines.append(f"估算：{estimate['formula']}")
        messages.append("\n".join(lines))
    others = [PROGRAMS.get(p, p) for p, r in results.items() if r["status"] == "likely" and r is not target]
    if others:
        messages.append("另外，您家可能还可以申请：" + "、".join(others) + "。")
    steps = screen.get("next_steps") or []
    if steps:
        messages.append("接下来可以这样办：\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps[:4], 1)))
    messages.append(screen.get("disclaimer") or "以上只是初步判断，最终以乡镇（街道）审核确认结果为准。")
    return messages


class ActionShowScreenResult(Action):
    """The screen's result in plain Chinese, with its clauses, and a person to take it further."""

    def name(self) -> str:
        return "action_show_screen_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        facts = dict(tracker.get_slot("screen_facts") or {})
        program = tracker.get_slot("screen_program") or "dibao"
        screen = await _screen(facts)
        if screen is None:
            dispatcher.utter_message(response="utter_screen_unavailable", buttons=HANDOVER_BUTTONS)
            return []
        for message in result_messages(screen, program):  # built from the service's result
            dispatcher.utter_message(text=message)
        dispatcher.utter_message(response="utter_offer_hand_over_after_screen", buttons=HANDOVER_BUTTONS)
        return [SlotSet("screen_result", screen)]
