"""The queue page's live updates (GET /console/events): server-sent events for a desk user.

`counts` (the queue counts the page shows) whenever they change, and `new_case` (number, type,
priority and the title as the viewer's queue row shows it) for each case made after the stream
began, or after the Last-Event-ID an EventSource sends when it reconnects. A heartbeat comment
every 15 s keeps proxies from closing the line.

The service may run several processes on one database, so nothing here is in-memory pub/sub:
each stream polls a cheap change marker (newest case id, latest change, how many cases) every
~2 s and counts the queues again only when it moved, or every 30 s (time alone makes cases
overdue). Each poll also checks the session again: a deactivated or logged-out user, or a new
role, gets a `signed_out` event and the stream ends. Streams end by themselves after 10
minutes; EventSource reconnects and picks up from its last event id.

A case page has its own stream (GET /console/cases/{number}/events?turns=N&notes=M, N and M
what the page shows): `case` whenever the case's version or last change moves (a cheap query each poll, the whole view only then) — its status,
handler and time limit, and the transcript turns and notes added since, as the viewer may see
them — so an operator writing a reply sees the resident's new message and a colleague's change
without a reload that would lose what she typed.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse

from bot.cases.desk import CaseDesk
from bot.cases.model import CaseError
from bot.service.auth import DESK_ROLES, Principal, session_principal
from bot.service.deps import get_desk, require

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

EVENTS_INTERVAL = 2.0
EVENTS_MAX_SECONDS = 600.0
COUNTS_EVERY = 30.0  # seconds: counts are sent again at least this often if they changed
RESUME_MAX = 50  # a reconnect replays at most this many missed cases
NEW_CASE_FIELDS = ("number", "type", "type_label", "priority", "priority_label", "title", "created_at")


def _resume_after(request: Request, newest: int) -> int:
    """Where `new_case` starts: the case id of the last event the page saw, if it sent one."""
    last = request.headers.get("last-event-id", "").strip()
    if last.isdigit() and int(last) <= newest:
        return max(int(last), newest - RESUME_MAX)
    return newest


def _still_signed_in(request: Request, principal: Principal) -> bool:
    now = session_principal(request)
    return now is not None and now.actor.user_id == principal.actor.user_id and now.role in DESK_ROLES


@router.get("/events")
async def console_events(
    request: Request, principal: Principal = Depends(require(*DESK_ROLES)), desk: CaseDesk = Depends(get_desk)
):
    state = request.app.state
    interval = getattr(state, "console_events_interval", EVENTS_INTERVAL)
    until = time.monotonic() + getattr(state, "console_events_max_seconds", EVENTS_MAX_SECONDS)
    viewer = principal.actor
    newest, _, _ = await asyncio.to_thread(desk.change_marker)
    after = _resume_after(request, newest)

    async def events():
        nonlocal after
        marker: tuple[int, str, int] | None = None
        counts: dict[str, int] | None = None
        counted_at = 0.0
        # sse-starlette ends this generator when the page goes away (it listens for the disconnect).
        while True:
            if not await asyncio.to_thread(_still_signed_in, request, principal):
                yield {"event": "signed_out", "data": "{}"}
                return
            now_marker = await asyncio.to_thread(desk.change_marker)
            if now_marker != marker or time.monotonic() - counted_at >= COUNTS_EVERY:
                marker, counted_at = now_marker, time.monotonic()
                fresh = await asyncio.to_thread(desk.counts, viewer)
                if fresh != counts:
                    counts = fresh
                    # With an id, so a reconnect resumes here even before any new case.
                    yield {"event": "counts", "id": str(after), "data": json.dumps(counts)}
            if now_marker[0] > after:
                for case_id, row in await asyncio.to_thread(desk.cases_since, after, viewer):
                    after = case_id
                    yield {"event": "new_case", "id": str(case_id), "data": _new_case_data(row)}
            if time.monotonic() >= until:
                return
            await asyncio.sleep(interval)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _new_case_data(row: dict[str, Any]) -> str:
    return json.dumps({k: row.get(k) for k in NEW_CASE_FIELDS}, ensure_ascii=False)


CASE_FIELDS = ("number", "version", "status", "status_label", "assignee", "assignee_name", "due_at", "overdue")


@router.get("/cases/{number}/events")
async def case_events(
    number: str,
    request: Request,
    turns: int = Query(0, ge=0, le=10_000),
    notes: int = Query(0, ge=0, le=10_000),
    principal: Principal = Depends(require(*DESK_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    state = request.app.state
    interval = getattr(state, "console_events_interval", EVENTS_INTERVAL)
    until = time.monotonic() + getattr(state, "console_events_max_seconds", EVENTS_MAX_SECONDS)
    viewer = principal.actor
    await asyncio.to_thread(desk.get, number, viewer)  # 404 (CaseError) before the stream starts
    shown = {"turns": turns, "notes": notes}

    async def events():
        seen: tuple[int, str] | None = None
        while True:
            if not await asyncio.to_thread(_still_signed_in, request, principal):
                yield {"event": "signed_out", "data": "{}"}
                return
            # A cheap look first; the case page's whole view only once something moved (every
            # change to a case, its messages and notes too, bumps its version and updated_at).
            marker = await asyncio.to_thread(desk.case_marker, number)
            if marker is None:
                yield {"event": "gone", "data": "{}"}
                return
            if marker != seen:
                try:
                    view = await asyncio.to_thread(desk.get, number, viewer)
                except CaseError:
                    yield {"event": "gone", "data": "{}"}
                    return
                new_turns, new_notes = view["transcript"][shown["turns"] :], view["notes"][shown["notes"] :]
                if seen is not None or new_turns or new_notes:
                    shown["turns"], shown["notes"] = len(view["transcript"]), len(view["notes"])
                    data = {k: view.get(k) for k in CASE_FIELDS} | {"turns": new_turns, "notes": new_notes}
                    yield {"event": "case", "data": json.dumps(data, ensure_ascii=False, default=str)}
                seen = marker
            if time.monotonic() >= until:
                return
            await asyncio.sleep(interval)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
