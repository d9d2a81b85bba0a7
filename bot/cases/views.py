"""How the case desk shows its records: the dicts the console, the API and the resident see.

Who sees what is decided here: full personal data only for the case's handler and
supervisors (`sees_contact`); everyone else gets numbers, names and addresses masked
(bot/privacy.py). A resident sees only their own case's status, in their words.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.actors import Actor
from bot.cases.model import (
    CHANNEL_LABELS,
    PRIORITY_LABELS,
    RESIDENT_STATUS_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    CaseType,
    Channel,
    Priority,
    Role,
    Satisfaction,
    Status,
)
from bot.cases.sla import SlaRules, is_overdue
from bot.cases.store import Case, CaseEvent, CaseNote, CaseReply, User
from bot.hotlines import IN_DANGER, hotline_name
from bot.privacy import mask_address, mask_contact, mask_personal_text, mask_phone


def iso(dt: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its zone."""
    return dt.replace(tzinfo=UTC).isoformat() if dt else None


def sees_contact(case: Case, viewer: Actor) -> bool:
    """Full personal data only for supervisors and the operator handling the case."""
    if viewer.role == Role.supervisor:
        return True
    return viewer.role == Role.operator and viewer.user_id is not None and case.assignee_id == viewer.user_id


def acknowledgement(case: Case) -> str:
    """What the bot tells the resident once the case is stored."""
    hotline = hotline_name(case.hotline)
    if case.type == CaseType.urgent:
        head = "您的急难求助已登记，工作人员会尽快联系您。"
    else:
        head = "您的诉求已登记，工作人员会在办理时限内答复您。"
    return f"{head}工单号 {case.number}，查询码 {case.check_code}，请记好。也可以拨打 {hotline} 查询。{IN_DANGER}"


def case_view(
    s: Session,
    case: Case,
    viewer: Actor,
    rules: SlaRules,
    now: datetime,
    full: bool = False,
    with_check_code: bool = False,
) -> dict[str, Any]:
    """A case for the desk: the queue row, or with `full` the case page (transcript, notes, replies)."""
    sees = sees_contact(case, viewer)
    # Not the handler: numbers, names and addresses masked (bot/privacy.py), the case's own name too.
    masked = functools.partial(mask_personal_text, names=[(case.contact or {}).get("name") or ""])
    assignee = s.get(User, case.assignee_id) if case.assignee_id else None
    phone = str((case.contact or {}).get("phone") or "")
    view: dict[str, Any] = {
        "number": case.number,
        "type": case.type,
        "type_label": TYPE_LABELS[CaseType(case.type)],
        "channel": case.channel,
        "channel_label": CHANNEL_LABELS[Channel(case.channel)],
        "sender_id": case.sender_id,
        "jurisdiction": case.jurisdiction,
        "hotline": case.hotline,
        "priority": case.priority,
        "priority_label": PRIORITY_LABELS[Priority(case.priority)],
        "status": case.status,
        "status_label": STATUS_LABELS[Status(case.status)],
        "title": case.title if sees else masked(case.title),
        "assignee": assignee.username if assignee else None,
        "assignee_name": (assignee.display_name or assignee.username) if assignee else None,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "due_at": iso(case.due_at),
        "overdue": is_overdue(case.status, case.due_at, now),
        "seconds_left": int((case.due_at - now).total_seconds()) if case.due_at else None,
        "sla": rules.limit_for(case.type, case.priority).describe(),
        "escalated": case.escalated,
        "transferred_to": case.transferred_to,
        "contact_masked": not sees,
        # The contact's phone in the queue row: whole only for who may see the contact.
        "phone": (phone if sees else mask_phone(phone)) or None,
        "version": case.version,
    }
    if with_check_code:
        view["check_code"] = case.check_code
        view["acknowledgement"] = acknowledgement(case)
    if full:
        text = (lambda t: t) if sees else masked
        undelivered = undelivered_reasons(s, case.id)
        view.update(
            {
                "summary": text(case.summary),
                "transcript": [dict(m, text=text(m.get("text", ""))) for m in (case.transcript or [])],
                "questions": [text(q) for q in case.questions or []],
                "programs": case.programs or [],
                "eligibility": case.eligibility,
                "visit": _visit_view(case.visit, sees),
                "contact": case.contact if sees else mask_contact(case.contact),
                "resolution": case.resolution,
                "assigned_at": iso(case.assigned_at),
                "first_response_at": iso(case.first_response_at),
                "resolved_at": iso(case.resolved_at),
                "closed_at": iso(case.closed_at),
                "followup": {
                    "due_at": iso(case.followup_due_at),
                    "at": iso(case.followup_at),
                    "satisfaction": case.satisfaction,
                    "satisfaction_label": SATISFACTION_LABELS[Satisfaction(case.satisfaction)]
                    if case.satisfaction
                    else None,
                    "note": case.followup_note,
                },
                "notes": [
                    note_view(n, text)
                    for n in s.scalars(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id))
                ],
                "replies": [
                    reply_view(r, case.number, undelivered.get(r.id))
                    for r in s.scalars(select(CaseReply).where(CaseReply.case_id == case.id).order_by(CaseReply.id))
                ],
            }
        )
        if not sees:
            for r in view["replies"]:
                r["text"] = masked(r["text"])
    return view


def note_view(note: CaseNote, text: Callable[[str], str] = lambda t: t) -> dict[str, Any]:
    """An internal note; `text` masks it for a viewer who is not the handler."""
    return {"id": note.id, "at": iso(note.at), "author": note.author, "text": text(note.text)}


def reply_view(r: CaseReply, number: str | None, undeliverable: str | None = None) -> dict[str, Any]:
    """An operator reply as the outbox and the case page show it."""
    out = {
        "id": r.id,
        "case": number,
        "channel": r.channel,
        "sender_id": r.sender_id,
        "text": r.text,
        "created_at": iso(r.created_at),
        "delivered": r.delivered_at is not None,
    }
    if undeliverable and r.delivered_at is None:  # the channel said why it could not deliver (yet)
        out["undeliverable"] = undeliverable
    return out


def queued_reply_view(r: CaseReply, number: str | None) -> dict[str, Any]:
    """What the operator who just wrote a reply gets back (the text is theirs already)."""
    return {
        "id": r.id,
        "case": number,
        "channel": r.channel,
        "sender_id": r.sender_id,
        "created_at": iso(r.created_at),
        "delivered": False,
    }


def undelivered_reasons(s: Session, case_id: int) -> dict[int, str]:
    """reply id → the reason a channel gave for not delivering it (ReplyOutbox.mark_undeliverable)."""
    events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "reply_undeliverable"))
    return {int(e.detail["reply_id"]): e.detail.get("reason") or "" for e in events if e.detail}


def event_view(e: CaseEvent) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}


def resident_view(case: Case) -> dict[str, Any]:
    """What a resident may know about their case (the status lookup): no names, no notes."""
    return {
        "number": case.number,
        "type": case.type,
        "type_label": TYPE_LABELS[CaseType(case.type)],
        "status": case.status,
        "status_label": RESIDENT_STATUS_LABELS[Status(case.status)],
        "hotline": case.hotline,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "due_at": iso(case.due_at),
        "resolution": case.resolution if case.status in (Status.resolved, Status.closed) else "",
    }


def conversation_case_view(c: Case) -> dict[str, Any]:
    """A case in the web chat's 我的工单: number, type and status in the resident's words, last change."""
    return {
        "number": c.number,
        "type": c.type,
        "type_label": TYPE_LABELS[CaseType(c.type)],
        "status": c.status,
        "status_label": RESIDENT_STATUS_LABELS[Status(c.status)],
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def _visit_view(visit: dict[str, Any] | None, sees: bool) -> dict[str, Any] | None:
    """A volunteer's visit on the case page: the house address and notes masked like the contact."""
    if not visit or sees:
        return visit
    place = dict(visit.get("place") or {}, address=mask_address((visit.get("place") or {}).get("address")))
    return dict(visit, place=place, seen=mask_personal_text(visit.get("seen", "")))
