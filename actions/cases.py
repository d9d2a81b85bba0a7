"""Creating cases on the hotline desk from the conversation (shared by every flow)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Tracker

from actions import spool
from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.conversation import channel_of, resident_questions, transcript


def case_payload(tracker: Tracker, case_type: str, title: str, summary: str,
                 contact: dict[str, Any] | None = None, priority: str | None = None,
                 questions: list[str] | None = None) -> dict[str, Any]:
    """A case for the desk; `questions` (default: the resident's policy questions) feed the
    operator's suggested answers."""
    facts = tracker.get_slot("screen_facts") or {}
    payload: dict[str, Any] = {
        "type": case_type,
        "channel": channel_of(tracker),
        "sender_id": tracker.sender_id,
        "jurisdiction": tracker.get_slot("jurisdiction") or facts.get("jurisdiction"),
        "title": title[:200],
        "summary": summary[:4000],
        "transcript": transcript(tracker),
        "questions": questions or resident_questions(tracker),
        "eligibility": tracker.get_slot("screen_result"),
        "contact": contact or {},
    }
    if priority:
        payload["priority"] = priority
    return {k: v for k, v in payload.items() if v is not None}


# Residents read times in Beijing time (no daylight saving, so a fixed offset is exact).
BEIJING = timezone(timedelta(hours=8))


def due_text(due_at: str | None, now: datetime | None = None) -> str:
    """'今天 23:59 前' / '11月25日 17:30 前' in Beijing time, from the case's due time (ISO, UTC)."""
    if not due_at:
        return "办理时限内"
    try:
        due = datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    except ValueError:
        return "办理时限内"
    if due.tzinfo is None:
        due = due.replace(tzinfo=timezone.utc)
    due = due.astimezone(BEIJING)
    now = (now or datetime.now(timezone.utc)).astimezone(BEIJING)
    if due.date() == now.date():
        return f"今天 {due:%H:%M} 前"
    return f"{due.month}月{due.day}日 {due:%H:%M} 前"


async def submit_case(payload: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The created case, or None when the service stayed down (then it is spooled, never lost).

    Spooled cases from earlier outages are re-sent first.
    """
    client = ServiceClient()
    try:
        await spool.flush(client)
        return await client.create_case(payload, key)
    except ServiceUnavailable:
        spool.save(key, payload)
        return None
    except ServiceRefused:
        # The payload itself was refused (e.g. an unknown place): keep the report without it.
        payload = {k: v for k, v in payload.items() if k != "jurisdiction"}
        try:
            return await client.create_case(payload, key)
        except (ServiceUnavailable, ServiceRefused):
            spool.save(key, payload)
            return None
