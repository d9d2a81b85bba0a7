"""Trackers for action tests, built the way Rasa sends them to the action server."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker


def make_tracker(text: str, intent: str = "ask_policy", slots: dict | None = None,
                 sender: str = "test-user") -> Tracker:
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []},
        events=[{"event": "user", "text": text}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():
    return make_tracker
