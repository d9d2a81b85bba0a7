"""Trackers for action tests, built the way Rasa sends them to the action server, and the
texts residents see, rendered from the domain's responses the way Rasa renders them."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest
import yaml
from rasa_sdk import Tracker

from bot.config import PROJECT_ROOT


def make_tracker(
    text: str,
    intent: str = "ask_policy",
    slots: dict | None = None,
    sender: str = "test-user",
    active_loop: str | None = None,
) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []},
        events=[{"event": "user", "text": text}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():
    return make_tracker


@lru_cache(maxsize=1)
def domain() -> dict:
    """domain/*.yml merged, as Rasa sends it to the action server (forms, slots, responses…)."""
    merged: dict = {"intents": [], "entities": [], "slots": {}, "responses": {}, "forms": {}, "actions": []}
    for path in sorted((PROJECT_ROOT / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if isinstance(merged.get(key), list):
                merged[key] += value
            elif isinstance(merged.get(key), dict):
                merged[key].update(value)
    return merged


def rendered(message: dict) -> str:
    """What the resident reads for one message the action sent: its text, or its domain
    response with the message's variables filled in (a missing variable fails the test)."""
    if not message.get("response"):
        return message.get("text") or ""
    [variant] = domain()["responses"][message["response"]]
    return re.sub(r"{([^\n{}]+?)}", lambda m: str(message[m[1]]), variant["text"])


def responses(messages: list[dict]) -> list[str | None]:
    """The response names of the messages (None for a text built from a service answer)."""
    return [m.get("response") for m in messages]
