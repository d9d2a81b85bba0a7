"""Answers policy questions from the knowledge base, with the clauses they rest on."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.api.service import ServiceClient, ServiceUnavailable
from actions.replies import SERVICE_DOWN


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        question = tracker.latest_message.get("text") or ""
        jurisdiction = tracker.get_slot("jurisdiction") if "jurisdiction" in tracker.slots else None
        try:
            result = await ServiceClient().answer(question, jurisdiction)
        except (ServiceUnavailable, ValueError):
            dispatcher.utter_message(text=SERVICE_DOWN)
            return []
        # The knowledge base's answer already ends with the quoted clauses.
        dispatcher.utter_message(text=result["answer"])
        return []
