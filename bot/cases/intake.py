"""Creating cases: what a new case may carry, who may say what about it, its number,
its report time and the idempotency key that makes a retry return the same case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.case_codes import new_case_number, new_check_code
from bot.case_limits import ID_MAX, TEXT_MAX, trimmed
from bot.cases.actors import Actor
from bot.cases.context import DeskContext
from bot.cases.model import (
    DEFAULT_PRIORITY,
    PRIORITY_RANK,
    TYPE_LABELS,
    CaseType,
    Channel,
    Conflict,
    NotAllowed,
    Priority,
    Role,
    Status,
)
from bot.cases.routing import route_for
from bot.cases.store import Case
from bot.cases.views import iso
from bot.places import normalize_place

# A report older than this when it arrives is not believed (a broken clock): it gets the arrival time.
MAX_REPORT_AGE = timedelta(days=30)

# Who speaks for a resident's conversation. Only the bot (the action server, holding the
# service token) writes a case from a conversation: it alone may link the case to one
# (sender_id, so later messages join the case and replies go back) and bring its
# transcript. A desk user (operator, supervisor, admin, volunteer) records what they took
# themselves: by phone or in the console, with no conversation link and no transcript
# (what the caller said goes in the summary, under the user's name as created_by).
CONVERSATION_CHANNELS = (Channel.web, Channel.rest, Channel.telegram, Channel.wechat)
DESK_CHANNELS = (Channel.phone, Channel.console)
KEY_TAKEN = "这个幂等键已被其他人用过，请换一个新的键再提交"


@dataclass
class NewCase:
    type: str
    channel: str = Channel.web
    sender_id: str | None = None
    jurisdiction: str | None = None
    priority: str | None = None
    title: str = ""
    summary: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    eligibility: dict[str, Any] | None = None
    contact: dict[str, Any] = field(default_factory=dict)
    # When the resident reported it (ISO 8601 string or datetime), e.g. a report the action
    # server spooled during an outage; see report_time().
    reported_at: str | datetime | None = None
    # A volunteer's home visit, structured (bot/cases/visits.py).
    visit: dict[str, Any] | None = None


def report_time(reported_at: str | datetime | None, now: datetime) -> datetime | None:
    """The time a case keeps as its creation (and SLA start): the resident's report time if
    it is believable, else None (use the arrival time).

    Believable: parseable, not after `now` (a clock ahead is clamped to now) and not older
    than MAX_REPORT_AGE. Naive values are UTC; the result is naive UTC like every stored time.
    """
    if reported_at is None or reported_at == "":
        return None
    if isinstance(reported_at, datetime):
        when = reported_at
    else:
        try:
            when = datetime.fromisoformat(str(reported_at).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    if when > now:
        return now
    if now - when > MAX_REPORT_AGE:
        return None
    return when


class CaseIntake:
    def __init__(self, ctx: DeskContext):
        self.ctx = ctx

    def create_case(
        self, data: NewCase, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Creates a case and commits it before returning; (view, created).

        With an idempotency key, a retry returns the case created the first
        time (created=False) instead of a duplicate.
        """
        ctx = self.ctx
        case_type = CaseType(data.type)
        channel = Channel(data.channel)
        jurisdiction = normalize_place(data.jurisdiction) if data.jurisdiction else "全国"
        priority = Priority(data.priority) if data.priority else DEFAULT_PRIORITY[case_type]
        if case_type == CaseType.urgent:
            priority = Priority.urgent
        if actor.role == Role.volunteer and case_type not in (CaseType.discovery, CaseType.urgent):
            raise NotAllowed("志愿者只能上报主动发现或急难线索")
        if actor.role is not None:  # a desk user: see CONVERSATION_CHANNELS
            _check_desk_origin(data, channel)
        key = (idempotency_key or "").strip() or None
        if key is not None:
            existing = self._by_key(key, actor)
            if existing is not None:
                return existing, False
        route = route_for(jurisdiction)
        try:
            with ctx.write() as s:
                if key is not None:
                    found = s.scalar(select(Case).where(Case.idempotency_key == key))
                    if found is not None:
                        return self._replay(s, found, actor), False
                now = ctx.clock()
                created = report_time(data.reported_at, now) or now
                case = Case(
                    number=_free_number(s, ctx.rules.to_local(created).date()),
                    check_code=new_check_code(),
                    idempotency_key=key,
                    type=case_type,
                    channel=channel,
                    sender_id=data.sender_id,
                    jurisdiction=jurisdiction,
                    hotline=route.hotline,
                    priority=priority,
                    priority_rank=PRIORITY_RANK[priority],
                    status=Status.new,
                    title=trimmed(data.title, 200) or TYPE_LABELS[case_type],
                    summary=trimmed(data.summary, TEXT_MAX),
                    transcript=_clean_transcript(data.transcript),
                    questions=[trimmed(q, 500) for q in data.questions if q and q.strip()][:20],
                    programs=list(data.programs)[:20],
                    eligibility=data.eligibility,
                    visit=data.visit,
                    contact=_clean_contact(data.contact),
                    created_by=actor.name,
                    escalated=False,
                    created_at=created,
                    updated_at=now,
                    due_at=ctx.rules.due_at(case_type, priority, created),
                    resolution="",
                    followup_note="",
                )
                s.add(case)
                s.flush()
                timing = {}
                if data.reported_at is not None:  # what was claimed, and when it really arrived
                    timing = {
                        "reported_at": str(data.reported_at)[:64],
                        "received_at": iso(now),
                        "report_time_used": created != now,
                    }
                ctx.audit(
                    s,
                    case,
                    actor,
                    "created",
                    type=str(case_type),
                    channel=str(channel),
                    priority=str(priority),
                    jurisdiction=jurisdiction,
                    hotline=str(route.hotline),
                    route_place=route.matched_place,
                    idempotency_key=key,
                    **timing,
                )
                s.flush()
                view = ctx.view(s, case, actor, with_check_code=True)
        except IntegrityError:
            # Two requests with the same key raced (PostgreSQL): the other one won.
            existing = self._by_key(key, actor) if key else None
            if existing is None:
                raise
            return existing, False
        return view, True

    def existing(self, key: str, actor: Actor) -> dict[str, Any] | None:
        """The case this actor's idempotency key already made (Conflict if someone else's), or None."""
        return self._by_key(key, actor)

    def _by_key(self, key: str, actor: Actor) -> dict[str, Any] | None:
        with self.ctx.read() as s:
            found = s.scalar(select(Case).where(Case.idempotency_key == key))
            return self._replay(s, found, actor) if found else None

    def _replay(self, s: Session, found: Case, actor: Actor) -> dict[str, Any]:
        """A retry gets the case it created (with its check code); anyone else who sends
        the same key gets Conflict and learns nothing about that case."""
        if found.created_by != actor.name:
            raise Conflict(KEY_TAKEN)
        return self.ctx.view(s, found, actor, with_check_code=True)


def _free_number(s: Session, local_day: date) -> str:
    """A random case number of that day not yet taken (a clash is one in 729 million)."""
    for _ in range(20):
        number = new_case_number(local_day)
        if s.scalar(select(Case.id).where(Case.number == number)) is None:
            return number
    raise Conflict("暂时无法生成工单号，请再试一次")


def _check_desk_origin(data: NewCase, channel: Channel) -> None:
    """A desk user's case is one they took themselves (see CONVERSATION_CHANNELS)."""
    if data.sender_id:
        raise NotAllowed("人工登记的工单不能关联群众的在线对话")
    if data.transcript:
        raise NotAllowed("人工登记的工单不能附带对话记录，来电内容请写在摘要里")
    if channel not in DESK_CHANNELS:
        raise NotAllowed("人工登记的工单渠道只能是电话或控制台")


def _clean_transcript(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in (turns or [])[-200:]:
        role = str(t.get("role", "resident"))
        if role not in ("resident", "bot", "operator"):
            role = "resident" if role in ("user", "person") else "bot"
        turn = {"role": role, "text": trimmed(str(t.get("text", "")), TEXT_MAX), "at": t.get("at")}
        if isinstance(t.get("message_id"), str) and t["message_id"]:
            turn["message_id"] = t["message_id"][:ID_MAX]  # its later note is not added again
        out.append(turn)
    return out


def _clean_contact(contact: dict[str, Any]) -> dict[str, Any]:
    allowed = ("name", "phone", "phone2", "id_number", "address", "preferred_time")
    return {k: trimmed(str(v), 200) for k, v in (contact or {}).items() if k in allowed and v}
