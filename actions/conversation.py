"""What the actions need from a conversation: transcript, questions, a stable key."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker

from bot.privacy import mask_text


def transcript(tracker: Tracker, limit: int = 60) -> list[dict[str, Any]]:
    """The conversation so far, as the case desk stores it."""
    turns = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text") and not event["text"].startswith("/"):
            turn = {"role": "resident", "text": event["text"], "at": _iso(event.get("timestamp"))}
            message_id = (event.get("metadata") or {}).get("message_id")
            if isinstance(message_id, str) and message_id:
                turn["message_id"] = message_id  # the gateway's note of it is then not added twice
            turns.append(turn)
        elif event.get("event") == "bot" and event.get("text"):
            turns.append({"role": "bot", "text": event["text"], "at": _iso(event.get("timestamp"))})
    return turns[-limit:]


def resident_questions(tracker: Tracker, limit: int = 5) -> list[str]:
    """The resident's policy questions, for the operator's suggested answers."""
    questions = []
    for event in tracker.events:
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == "ask_policy"
        ):
            questions.append(event.get("text", ""))
    return [q for q in questions if q][-limit:]


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the resident's latest message."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def last_policy_question(tracker: Tracker) -> str | None:
    questions = resident_questions(tracker, limit=1)
    return questions[-1] if questions else None


def idempotency_key(tracker: Tracker, purpose: str) -> str:
    """Same conversation + same triggering message → same key, however often it is retried."""
    anchor = ""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            anchor = f"{event.get('timestamp')}|{event.get('text')}"
            break
    digest = hashlib.sha256(f"{tracker.sender_id}|{purpose}|{anchor}".encode()).hexdigest()[:32]
    return f"{purpose}-{digest}"


def reported_at(tracker: Tracker, text: str | None = None) -> str:
    """When the resident made the report (ISO 8601, UTC): the time of their message `text`
    (e.g. the urgent report that started the form), else of their latest message, else now."""
    latest = None
    # Earlier messages come back from the tracker store masked (rasa_channels/tracker_store.py),
    # `text` from a slot whole: compare them masked.
    wanted = mask_text(text) if text is not None else None
    for event in reversed(tracker.events):
        if event.get("event") != "user" or not event.get("timestamp"):
            continue
        if latest is None:
            latest = event["timestamp"]
        if wanted is None or mask_text(event.get("text") or "") == wanted:
            return _iso(event["timestamp"])
    return _iso(latest or datetime.now(UTC).timestamp())


def channel_of(tracker: Tracker) -> str:
    """The resident's channel: front ends on the REST channel say which in the message metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata.get("channel") if metadata.get("channel") in ("web", "telegram", "wechat", "rest") else "web"


def summary_line(text: str) -> str:
    return mask_text(text)[:120]


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds") if ts else None
