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
from actions.conversation import last_policy_question
from actions.replies import PLACE_BUTTONS, SERVICE_DOWN, chat_answer
from bot.places import find_place_in_text

# Programs whose rules differ by place: worth knowing where the asker lives.
LOCAL_TOPICS = {
    "dibao", "dibao_single", "dibao_edge", "tekun", "temporary_assistance", "medical_assistance",
    "rigid_expense", "housing_assistance", "disability_subsidies", "children", "application", "hotline",
}


async def answer_text(question: str, place: str | None) -> tuple[str, list[str]]:
    """(the answer with its quoted clauses, its topics); raises ServiceUnavailable."""
    client = ServiceClient()
    try:
        result = await client.answer(question, place)
    except ServiceRefused:  # e.g. a place the knowledge base does not know: answer nationally
        result = await client.answer(question, None)
    return chat_answer(result), result.get("topics", [])


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        place = tracker.get_slot("jurisdiction") or find_place_in_text(text)
        events: list[dict[str, Any]] = []
        if place and place != tracker.get_slot("jurisdiction"):
            events.append(SlotSet("jurisdiction", place))

        if intent == "tell_place":
            if not place:
                dispatcher.utter_message(text="这个地方我还不熟悉，我先按全国的规定给您讲。当地的具体标准以当地民政部门公布的为准。")
                return events
            question = last_policy_question(tracker)
            if not question:
                dispatcher.utter_message(text=f"好的，记住了，您在{place}。想了解什么政策，直接问我就行。")
                return events
            text = question
        try:
            answer, topics = await answer_text(text, place)
        except (ServiceUnavailable, ServiceRefused):
            dispatcher.utter_message(text=SERVICE_DOWN)
            return events
        if intent == "tell_place":
            answer = f"好的，按{place}的规定再给您说一下：\n{answer}"
        if not place and not tracker.get_slot("place_asked") and LOCAL_TOPICS.intersection(topics):
            dispatcher.utter_message(text=answer)
            dispatcher.utter_message(text="各地的具体做法不太一样。您在哪个县（市、区）？告诉我，我按当地的规定再说准一点。",
                                     buttons=PLACE_BUTTONS)
            return events + [SlotSet("place_asked", True)]
        dispatcher.utter_message(text=answer)
        return events
