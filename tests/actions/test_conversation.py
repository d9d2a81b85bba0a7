"""actions/conversation.py: what a case is given from the conversation."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.conversation import transcript


def _tracker(events: list[dict]) -> Tracker:
    return Tracker("wx-o1", {}, {}, events, False, None, {}, "action_listen")


def test_the_transcript_keeps_each_resident_message_id_from_the_gateway():
    events = [
        {"event": "user", "text": "低保怎么申请", "timestamp": 1_790_000_000, "metadata": {"message_id": "m-1"}},
        {"event": "bot", "text": "由本人向乡镇提出申请……", "timestamp": 1_790_000_001},
        {"event": "user", "text": "我要找人工", "metadata": {"channel": "web"}},
        {"event": "user", "text": "/start_screen", "metadata": {"message_id": "m-3"}},  # a button: not words
        {"event": "user", "text": "三口人", "metadata": {"message_id": 42}},  # not an id a gateway gives
    ]
    turns = transcript(_tracker(events))
    assert [t["text"] for t in turns] == ["低保怎么申请", "由本人向乡镇提出申请……", "我要找人工", "三口人"]
    assert [t.get("message_id") for t in turns] == ["m-1", None, None, None]
    assert turns[0]["at"] == "2026-09-21T14:13:20+00:00"
