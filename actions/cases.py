"""Creating cases on the hotline desk from the conversation (shared by every flow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import delivery, spool
from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.conversation import channel_of, reported_at, resident_questions, transcript
from actions.spool import SpoolError
from bot.case_limits import fit_case, fit_key


def case_payload(
    tracker: Tracker,
    case_type: str,
    title: str,
    summary: str,
    contact: dict[str, Any] | None = None,
    priority: str | None = None,
    questions: list[str] | None = None,
) -> dict[str, Any]:
    """A case for the desk; `questions` (default: the resident's policy questions) feed the
    operator's suggested answers."""
    facts = tracker.get_slot("screen_facts") or {}
    payload: dict[str, Any] = {
        "type": case_type,
        "channel": channel_of(tracker),
        "sender_id": tracker.sender_id,
        "jurisdiction": tracker.get_slot("jurisdiction") or facts.get("jurisdiction"),
        "title": title,  # fitted to the service's limits by submit_case
        "summary": summary,
        "transcript": transcript(tracker),
        "questions": questions or resident_questions(tracker),
        "eligibility": tracker.get_slot("screen_result"),
        "contact": contact or {},
        "reported_at": reported_at(tracker),
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
        due = due.replace(tzinfo=UTC)
    due = due.astimezone(BEIJING)
    now = (now or datetime.now(UTC)).astimezone(BEIJING)
    if due.date() == now.date():
        return f"今天 {due:%H:%M} 前"
    return f"{due.month}月{due.day}日 {due:%H:%M} 前"


async def submit_case(payload: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The created case (for a refused report: its case of last resort), or None when the
    report is kept in the spool for the service to take later (then it is never lost).

    Raises SpoolError when the report could not be kept anywhere: the action must then
    tell the resident to call the hotline now, never that it is registered.
    The report is first fitted to the service's limits, and keeps the time it was made.
    """
    client = ServiceClient()
    key = fit_key(key)
    payload = fit_case({**payload, "reported_at": payload.get("reported_at") or now_iso()})
    # Kept before it is sent: if this process dies while sending (the service slow or down,
    # the retries under way), the drainer sends it when the action server starts again.
    kept = _write_ahead(key, payload)
    try:
        case = await delivery.send(client, payload, key)
    except (ServiceUnavailable, ServiceRefused) as exc:
        if delivery.disposition(exc) == "bury":
            return await delivery.give_up(client, key, payload, str(exc))
        spool.save(key, payload)  # SpoolError propagates: not stored
        return None
    if kept:
        try:
            spool.done(key)  # the service has it
        except SpoolError:
            pass  # still in the spool: the drainer finds the case there already (same key)
    await delivery.kick(client)  # the service is up: older spooled reports go now
    return case


async def register_case(
    dispatcher: CollectingDispatcher, payload: dict[str, Any], key: str, kept_response: str
) -> dict[str, Any] | None:
    """The created case, for the caller to tell its number; or None once the resident has
    been told the report is kept for later (`kept_response`) or must go to 12345 now
    (`utter_report_not_stored`: kept nowhere, never "已登记")."""
    try:
        case = await submit_case(payload, key)
    except SpoolError:
        dispatcher.utter_message(response="utter_report_not_stored")
        return None
    if case is None:
        dispatcher.utter_message(response=kept_response)
    return case


def _write_ahead(key: str, payload: dict[str, Any]) -> bool:
    """False when the spool cannot be written: no reason not to try the service."""
    try:
        spool.save(key, payload)
        return True
    except SpoolError:
        return False


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
