"""Dead letters: reports the service refused as sent, kept so that none is lost.

Why this design (and not only a banner, or only a case):

1. The action server writes a refused report to its own dead-letter table first
   (actions/spool.py, SQLite, committed) — before anything else and before the resident
   is answered — and keeps it there until the service has acknowledged it. Nothing
   the service does can lose it; the spool drainer re-sends the dead letter every few
   seconds until the acknowledgement comes.
2. The service stores the dead letter (`record`), idempotent on the report's key, and
   in the same call makes a minimal *case of last resort* from whatever of the report
   is usable (`last_resort_case`): built in Python and passed to the desk directly, so
   the schema that refused the report cannot refuse it. An urgent report is then in the
   urgent queue with its SLA clock started at the time the resident reported it, and
   the resident gets a case number like any other.
3. Every unresolved dead letter is counted in a banner on the console queue page
   (operators and supervisors) until a supervisor marks it dealt with, so a report
   that could not even become a case (the last resort failed too) is still in front
   of a person.

The case of last resort takes the report's idempotency key, so the report can never
become two cases, whichever path gets there first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.case_limits import clip, fit_case
from bot.cases.actors import BOT, Actor
from bot.cases.desk import CaseDesk
from bot.cases.intake import NewCase, report_time
from bot.cases.model import CaseType, Channel, NotAllowed, NotFound, Priority, Role
from bot.cases.store import DeadLetter
from bot.cases.views import iso
from bot.places import UnknownPlace, normalize_place
from bot.privacy import mask_personal_text

log = logging.getLogger(__name__)
E = TypeVar("E")
D = TypeVar("D")

ERROR_MAX = 2000
LAST_RESORT_PREFIX = "【未能自动登记】"


def _enum(value: Any, enum: Callable[[Any], E], default: D) -> E | D:
    try:
        return enum(value)
    except (ValueError, TypeError):
        return default


def _place(value: Any) -> str | None:
    if not value:
        return None
    try:
        return normalize_place(str(value))
    except (UnknownPlace, ValueError):
        return None


def last_resort_case(payload: dict[str, Any], error: str, dead_letter_id: int, minimal: bool = False) -> NewCase:
    """A case the desk will take, from a refused report: every field coerced to what the
    desk accepts; `minimal` keeps only the type, the words and the contact."""
    p = fit_case(payload if isinstance(payload, dict) else {})
    case_type = _enum(p.get("type"), CaseType, CaseType.consultation)
    note = (
        f"系统提示：这份{'急难求助' if case_type == CaseType.urgent else '工单'}按原样提交时被服务拒绝"
        f"（{clip(error, 300)}），已按能用的内容登记，请核对（死信 #{dead_letter_id}）。"
    )
    summary = clip(f"{note}\n{p.get('summary') or ''}", 4000)
    contact = {k: v for k, v in (p.get("contact") or {}).items() if isinstance(v, str)}
    words = [str(t.get("text", "")) for t in p.get("transcript") or [] if t.get("role") in ("resident", "user")]
    base: dict[str, Any] = dict(
        type=case_type,
        channel=_enum(p.get("channel"), Channel, Channel.web),
        sender_id=str(p["sender_id"]) if p.get("sender_id") else None,
        title=clip(LAST_RESORT_PREFIX + str(p.get("title") or ""), 200),
        summary=summary,
        contact=contact,
        reported_at=p.get("reported_at"),
    )
    if minimal:
        base["transcript"] = [{"role": "resident", "text": clip(w, 4000)} for w in words[:1]]
        return NewCase(**base)
    return NewCase(
        **base,
        jurisdiction=_place(p.get("jurisdiction")),
        priority=_enum(p.get("priority"), Priority, None),
        transcript=[t for t in p.get("transcript") or [] if isinstance(t.get("text"), str)],
        questions=[q for q in p.get("questions") or [] if isinstance(q, str)],
        programs=[x for x in p.get("programs") or [] if isinstance(x, str)],
        eligibility=p.get("eligibility") if isinstance(p.get("eligibility"), dict) else None,
    )


def record(
    desk: CaseDesk, key: str, payload: dict[str, Any], error: str, actor: Actor = BOT
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Stores a dead letter (once per key) and makes its case of last resort.

    Returns (dead letter view, case view with check code or None). Safe to repeat:
    a repeat returns the same dead letter, and makes the case if an earlier try could not.
    """
    key = (key or "").strip()[:128]
    if not key:
        raise ValueError("a dead letter needs its report's idempotency key")
    payload = payload if isinstance(payload, dict) else {"raw": str(payload)}
    now = desk.clock()
    with desk.db.session() as s:
        letter = s.scalar(select(DeadLetter).where(DeadLetter.idempotency_key == key))
        if letter is None:
            letter = DeadLetter(
                idempotency_key=key,
                case_type=str(payload.get("type") or "")[:32],
                sender_id=(str(payload["sender_id"])[:128] if payload.get("sender_id") else None),
                error=clip(error, ERROR_MAX),
                payload=payload,
                reported_at=report_time(payload.get("reported_at"), now),
                received_at=now,
                resolution="",
            )
            s.add(letter)
            try:
                s.commit()
            except IntegrityError:  # the same dead letter arrived twice at once
                s.rollback()
                letter = s.scalar(select(DeadLetter).where(DeadLetter.idempotency_key == key))
        assert letter is not None  # found above, or stored by whoever won the race
        letter_id = letter.id
        case_number = letter.case_number
    log.error("dead letter #%s (%s): %s", letter_id, key, clip(error, 300))

    case = None
    for minimal in (False, True):
        try:
            case, _created = desk.create_case(last_resort_case(payload, error, letter_id, minimal), actor, key)
            break
        except Exception:  # noqa: BLE001 — the dead letter is stored; the banner still shows it
            log.exception("dead letter #%s: case of last resort failed (minimal=%s)", letter_id, minimal)
    if case is not None and case_number != case["number"]:
        with desk.db.session() as s:
            row = s.get(DeadLetter, letter_id)
            assert row is not None  # dead letters are never deleted
            row.case_number = case["number"]
            s.commit()
    return view(desk, letter_id, actor), case


def unresolved_count(desk: CaseDesk) -> int:
    with desk.db.session() as s:
        return s.scalar(select(func.count(DeadLetter.id)).where(DeadLetter.resolved_at.is_(None))) or 0


def _sees_all(viewer: Actor) -> bool:
    """The raw report (names, numbers) only for supervisors, as with cases (views.sees_contact)."""
    return viewer.role == Role.supervisor


def _view(letter: DeadLetter, full: bool) -> dict[str, Any]:
    payload = letter.payload or {}
    text = (lambda t: t) if full else mask_personal_text
    return {
        "id": letter.id,
        "idempotency_key": letter.idempotency_key,
        "case_type": letter.case_type,
        "title": text(str(payload.get("title") or "")),
        "summary": text(str(payload.get("summary") or "")),
        "error": text(letter.error),
        "reported_at": iso(letter.reported_at),
        "received_at": iso(letter.received_at),
        "case_number": letter.case_number,
        "resolved_at": iso(letter.resolved_at),
        "resolved_by": letter.resolved_by,
        "resolution": letter.resolution,
        **({"payload": payload} if full else {}),
    }


def view(desk: CaseDesk, letter_id: int, viewer: Actor | None = None) -> dict[str, Any]:
    with desk.db.session() as s:
        letter = s.get(DeadLetter, letter_id)
        if letter is None:
            raise NotFound(f"没有找到死信 #{letter_id}")
        return _view(letter, full=viewer is None or _sees_all(viewer))


def list_letters(
    desk: CaseDesk, viewer: Actor, include_resolved: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """Newest first; the raw report only for supervisors (others see masked text)."""
    with desk.db.session() as s:
        q = select(DeadLetter)
        if not include_resolved:
            q = q.where(DeadLetter.resolved_at.is_(None))
        rows = s.scalars(q.order_by(DeadLetter.id.desc()).limit(limit))
        return [_view(r, full=_sees_all(viewer)) for r in rows]


def resolve(desk: CaseDesk, letter_id: int, actor: Actor, note: str = "") -> dict[str, Any]:
    """A supervisor marks a dead letter dealt with (its case taken care of, or entered by hand)."""
    if not actor.is_supervisor:
        raise NotAllowed("只有班长可以处理未能自动登记的求助")
    with desk.db.session() as s:
        letter = s.get(DeadLetter, letter_id)
        if letter is None:
            raise NotFound(f"没有找到死信 #{letter_id}")
        if letter.resolved_at is None:
            letter.resolved_at = desk.clock()
            letter.resolved_by = actor.name
            letter.resolution = clip(note.strip(), 1000)
            s.commit()
        return _view(letter, full=_sees_all(actor))
