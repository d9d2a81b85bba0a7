"""Two-stage fallback in Chinese: buttons naming the likely topics, then rephrase, then a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handover import ActionHandOver

INTENT_LABELS = {
    "ask_policy": "问政策",
    "start_screen": "看看能不能申请救助",
    "inform": "说说家里的情况",
    "report_urgent": "急难求助",
    "report_danger": "有危险，需要报警或急救",
    "request_human": "转人工服务",
    "check_case": "查工单进度",
    "complain": "投诉举报",
    "report_discovery": "报告困难群众线索",
    "tell_place": "告诉您我在哪里",
    "greet": "打个招呼",
    "thank": "道谢",
    "goodbye": "结束对话",
}


class ActionDefaultAskAffirmation(Action):
    """Rasa's own name (the two-stage fallback's first step): buttons naming the likely topics."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        likely = [r["name"] for r in ranking if r.get("name") in INTENT_LABELS][:2]
        buttons = [{"title": INTENT_LABELS[name], "payload": f"/{name}"} for name in likely]
        buttons.append({"title": "都不是", "payload": "/deny"})
        dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return []


class ActionDefaultFallback(ActionHandOver):
    """Rasa's own name (the fallback's last step). After two failed attempts to understand:
    hand over to a person rather than guess again."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_fallback_hand_over")
        return await super().run(dispatcher, tracker, domain)
