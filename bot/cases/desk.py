"""The case desk: creating cases, queues, the workflow, replies and the audit log.

Plain Python over a SQLAlchemy session; routers and the CLI call these
functions with an `Actor`. Every change writes an audit event in the same
transaction as the change itself.
"""
from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.cases.model import (
    ACTIVE_STATUSES, CHANNEL_LABELS, DEFAULT_PRIORITY, OPEN_STATUSES, PRIORITY_LABELS,
    PRIORITY_RANK, QUEUE_STATUSES, RESIDENT_STATUS_LABELS, SATISFACTION_LABELS, STATUS_LABELS,
    TYPE_LABELS, CaseError, CaseType, Channel, Conflict, Hotline, NotAllowed, NotFound, Priority,
    Role, Satisfaction, Status, check_transition, escalated_priority,
)
from bot.cases.codes import new_case_number, new_check_code, normalize_case_number, normalize_check_code
from bot.cases.limits import TEXT_MAX
from bot.cases.routing import route_for
from bot.cases.sla import SlaRules, is_overdue, load_rules, utcnow
from bot.cases.store import Case, CaseEvent, CaseNote, CaseReply, User
from bot.db import Database
from bot.places import normalize_place
from bot.privacy import mask_contact, mask_personal_text

QUEUES = ("unassigned", "mine", "urgent", "overdue", "followup", "all")
QUEUE_LABELS = {
    "unassigned": "待领取", "mine": "我的工单", "urgent": "急难", "overdue": "已超时",
    "followup": "待回访", "all": "全部",
}
EMERGENCY_NUMBERS = "遇到危险请立即拨打 110（报警）、120（急救）或 119（火警）。"
MAX_TEXT = TEXT_MAX
# A report older than this when it arrives is not believed (a broken clock): it gets the arrival time.
MAX_REPORT_AGE = timedelta(days=30)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a desk user, the bot (service token) or the system (CLI, scheduler)."""

    name: str                 # "user:alice", "bot", "system"
    role: str | None = None   # a Role for users
    user_id: int | None = None
    display_name: str = ""

    @classmethod
    def user(cls, user: User) -> "Actor":
        return cls(f"user:{user.username}", user.role, user.id, user.display_name or user.username)

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.supervisor, Role.admin) or self.name == "system"


BOT = Actor("bot", None, None, "智能助手")
SYSTEM = Actor("system", None, None, "系统")

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
    transcript: list[dict] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    eligibility: dict | None = None
    contact: dict = field(default_factory=dict)
    # When the resident reported it (ISO 8601 string or datetime), e.g. a report the action
    # server spooled during an outage; see report_time().
    reported_at: str | datetime | None = None


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
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    if when > now:
        return now
    if now - when > MAX_REPORT_AGE:
        return None
    return when


class CaseDesk:
    def __init__(self, db: Database, rules: SlaRules | None = None, clock=utcnow):
        self.db = db
        self.rules = rules or load_rules()
        self.clock = clock

    # ------------------------------------------------------------------ sessions
    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction. On SQLite it takes the write lock up front
        (BEGIN IMMEDIATE) so concurrent writers queue instead of failing."""
        with self.db.session() as s:
            if self.db.is_sqlite:
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield s
                s.commit()
            except StaleDataError as exc:
                s.rollback()
                raise Conflict("工单刚被其他人修改，请刷新后再试") from exc
            except Exception:
                s.rollback()
                raise

    def _read(self):
        return self.db.session()

    # ------------------------------------------------------------------ helpers
    def _audit(self, s: Session, case: Case, actor: Actor, action: str, **detail) -> None:
        s.add(CaseEvent(case_id=case.id, at=self.clock(), actor=actor.name, action=action, detail=detail))

    @staticmethod
    def _get(s: Session, number: str) -> Case:
        case = s.scalar(select(Case).where(Case.number == number))
        if case is None:
            raise NotFound(f"没有找到工单 {number}")
        return case

    @staticmethod
    def _require_handler(case: Case, actor: Actor) -> None:
        """Only the assignee (or a supervisor) works on a case."""
        if actor.is_supervisor:
            return
        if actor.role == Role.operator and case.assignee_id == actor.user_id:
            return
        raise NotAllowed("这张工单不在您名下，请先领取或请班长分派")

    def _set_status(self, s: Session, case: Case, target: Status, actor: Actor, **detail) -> None:
        old = case.status
        check_transition(old, target)
        now = self.clock()
        case.status = target
        case.updated_at = now
        if target == Status.resolved:
            case.resolved_at = now
            case.followup_due_at = self.rules.followup_due(now)
        elif target == Status.closed:
            case.closed_at = now
        elif target == Status.reopened:
            case.assignee_id = None
            case.assigned_at = None
            case.resolved_at = None
            case.closed_at = None
            case.due_at = self.rules.due_at(case.type, case.priority, now)
        elif target == Status.new:
            case.assignee_id = None
            case.assigned_at = None
        self._audit(s, case, actor, "status", old=old, new=str(target), **detail)

    # ------------------------------------------------------------------ create
    def create_case(self, data: NewCase, actor: Actor, idempotency_key: str | None = None) -> tuple[dict, bool]:
        """Creates a case and commits it before returning; (view, created).

        With an idempotency key, a retry returns the case created the first
        time (created=False) instead of a duplicate.
        """
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
            with self._write() as s:
                if key is not None:
                    found = s.scalar(select(Case).where(Case.idempotency_key == key))
                    if found is not None:
                        return self._replay(s, found, actor), False
                now = self.clock()
                created = report_time(data.reported_at, now) or now
                case = Case(
                    number=self._free_number(s, self.rules.to_local(created).date()),
                    check_code=new_check_code(), idempotency_key=key,
                    type=case_type, channel=channel, sender_id=data.sender_id, jurisdiction=jurisdiction,
                    hotline=route.hotline, priority=priority, priority_rank=PRIORITY_RANK[priority],
                    status=Status.new, title=_clip(data.title, 200) or TYPE_LABELS[case_type],
                    summary=_clip(data.summary, MAX_TEXT), transcript=_clean_transcript(data.transcript),
                    questions=[_clip(q, 500) for q in data.questions if q and q.strip()][:20],
                    programs=list(data.programs)[:20], eligibility=data.eligibility,
                    contact=_clean_contact(data.contact), created_by=actor.name, escalated=False,
                    created_at=created, updated_at=now, due_at=self.rules.due_at(case_type, priority, created),
                    resolution="", followup_note="",
                )
                s.add(case)
                s.flush()
                timing = {}
                if data.reported_at is not None:  # what was claimed, and when it really arrived
                    timing = {"reported_at": str(data.reported_at)[:64], "received_at": _iso(now),
                              "report_time_used": created != now}
                self._audit(
                    s, case, actor, "created", type=str(case_type), channel=str(channel),
                    priority=str(priority), jurisdiction=jurisdiction, hotline=str(route.hotline),
                    route_place=route.matched_place, idempotency_key=key, **timing,
                )
                s.flush()
                view = self._view(s, case, actor, with_check_code=True)
        except IntegrityError:
            # Two requests with the same key raced (PostgreSQL): the other one won.
            existing = self._by_key(key, actor) if key else None
            if existing is None:
                raise
            return existing, False
        return view, True

    @staticmethod
    def _free_number(s: Session, local_day) -> str:
        """A random case number of that day not yet taken (a clash is one in 729 million)."""
        for _ in range(20):
            number = new_case_number(local_day)
            if s.scalar(select(Case.id).where(Case.number == number)) is None:
                return number
        raise Conflict("暂时无法生成工单号，请再试一次")

    def _by_key(self, key: str, actor: Actor) -> dict | None:
        with self._read() as s:
            found = s.scalar(select(Case).where(Case.idempotency_key == key))
            return self._replay(s, found, actor) if found else None

    def _replay(self, s: Session, found: Case, actor: Actor) -> dict:
        """A retry gets the case it created (with its check code); anyone else who sends
        the same key gets Conflict and learns nothing about that case."""
        if found.created_by != actor.name:
            raise Conflict(KEY_TAKEN)
        return self._view(s, found, actor, with_check_code=True)

    # ------------------------------------------------------------------ read
    def get(self, number: str, viewer: Actor) -> dict:
        with self._read() as s:
            return self._view(s, self._get(s, number), viewer, full=True)

    def case_record(self, number: str) -> Case:
        with self._read() as s:
            return self._get(s, number)

    def _queue_filter(self, queue: str, viewer: Actor, now: datetime):
        if queue == "unassigned":
            return and_(Case.status.in_(list(QUEUE_STATUSES)), Case.assignee_id.is_(None))
        if queue == "mine":
            return and_(Case.assignee_id == viewer.user_id,
                        Case.status.in_(list(ACTIVE_STATUSES | {Status.resolved})))
        if queue == "urgent":
            return and_(Case.priority == Priority.urgent, Case.status.in_(list(ACTIVE_STATUSES)))
        if queue == "overdue":
            return and_(Case.status.in_(list(OPEN_STATUSES)), Case.due_at < now)
        if queue == "followup":
            return and_(Case.status == Status.resolved, Case.followup_at.is_(None))
        if queue == "all":
            return Case.id.is_not(None)
        raise CaseError(f"没有这个队列：{queue}")

    def list_queue(self, queue: str, viewer: Actor, limit: int = 100) -> list[dict]:
        now = self.clock()
        with self._read() as s:
            q = select(Case).where(self._queue_filter(queue, viewer, now))
            if queue == "all":
                q = q.order_by(Case.created_at.desc())
            else:
                q = q.order_by(Case.priority_rank, Case.created_at, Case.id)
            return [self._view(s, c, viewer) for c in s.scalars(q.limit(limit))]

    def list_reported(self, reporter: Actor, limit: int = 50) -> list[dict]:
        """Cases the actor reported (a volunteer's own reports), newest first."""
        with self._read() as s:
            q = select(Case).where(Case.created_by == reporter.name).order_by(Case.created_at.desc())
            return [self._view(s, c, reporter) for c in s.scalars(q.limit(limit))]

    def counts(self, viewer: Actor) -> dict[str, int]:
        now = self.clock()
        out = {}
        with self._read() as s:
            for queue in QUEUES:
                if queue == "all":
                    continue
                out[queue] = s.scalar(select(func.count(Case.id)).where(self._queue_filter(queue, viewer, now)))
        return out

    def audit_log(self, number: str) -> list[dict]:
        with self._read() as s:
            case = self._get(s, number)
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
            return [
                {"id": e.id, "at": _iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}
                for e in events
            ]

    def lookup(self, number: str, check_code: str) -> dict:
        """What a resident may know about their case, given the number and check code.

        NotFound for a wrong pair. How often one may try is the caller's throttle
        (bot/throttle: per client and overall, never per case number, which would let
        anyone lock a resident out of their own case)."""
        number = normalize_case_number(number)
        code = normalize_check_code(check_code).encode()
        with self._read() as s:
            case = s.scalar(select(Case).where(Case.number == number))
            # Compared even when there is no such case, so both cost the same.
            expected = case.check_code.upper().encode() if case is not None else b"-" * len(code)
            ok = secrets.compare_digest(expected, code) and case is not None
            if not ok:
                raise NotFound("工单号或查询码不正确")
            return {
                "number": case.number,
                "type": case.type,
                "type_label": TYPE_LABELS[CaseType(case.type)],
                "status": case.status,
                "status_label": RESIDENT_STATUS_LABELS[Status(case.status)],
                "hotline": case.hotline,
                "created_at": _iso(case.created_at),
                "updated_at": _iso(case.updated_at),
                "due_at": _iso(case.due_at),
                "resolution": case.resolution if case.status in (Status.resolved, Status.closed) else "",
            }

    # ------------------------------------------------------------------ queue operations
    def claim_next(self, actor: Actor) -> dict | None:
        """Gives the actor the most urgent, then oldest, unclaimed case; None if the queue is empty.

        One UPDATE picks and takes the case. On PostgreSQL the pick is
        `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's row;
        on SQLite the write lock (BEGIN IMMEDIATE) serializes claimers and the
        `status/assignee` condition is re-checked by the UPDATE itself.
        """
        if actor.role not in (Role.operator, Role.supervisor):
            raise NotAllowed("只有话务员和班长可以领取工单")
        for _attempt in range(5):
            now = self.clock()
            with self._write() as s:
                pick = (
                    select(Case.id)
                    .where(Case.status.in_(list(QUEUE_STATUSES)), Case.assignee_id.is_(None))
                    .order_by(Case.priority_rank, Case.created_at, Case.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
                row = s.execute(
                    update(Case)
                    .where(Case.id == pick, Case.status.in_(list(QUEUE_STATUSES)), Case.assignee_id.is_(None))
                    .values(status=Status.assigned, assignee_id=actor.user_id, assigned_at=now,
                            updated_at=now, version=Case.version + 1)
                    .returning(Case.id)
                    .execution_options(synchronize_session=False)
                ).first()
                if row is None:
                    empty = s.scalar(
                        select(func.count(Case.id)).where(
                            Case.status.in_(list(QUEUE_STATUSES)), Case.assignee_id.is_(None))
                    ) == 0
                    if empty:
                        return None
                    continue  # someone else took the candidate between pick and update; try again
                case = s.get(Case, row[0], populate_existing=True)
                s.add(CaseEvent(case_id=case.id, at=now, actor=actor.name, action="claimed",
                                detail={"assignee": actor.name}))
                s.flush()
                return self._view(s, case, actor, full=True)
        raise Conflict("领取的人太多，请再试一次")

    def assign(self, number: str, username: str, actor: Actor) -> dict:
        if not actor.is_supervisor:
            raise NotAllowed("只有班长可以分派工单")
        with self._write() as s:
            case = self._get(s, number)
            from bot.cases.users import find_user  # (argon2 setup only where users are handled)

            user = find_user(s, username)
            if user is not None and not user.active:
                user = None
            if user is None or user.role not in (Role.operator, Role.supervisor):
                raise CaseError(f"不能分派给 {username}：没有这个话务员")
            old = s.get(User, case.assignee_id).username if case.assignee_id else None
            if case.status in (Status.new, Status.reopened):
                self._set_status(s, case, Status.assigned, actor, reason="分派")
            elif Status(case.status) not in ACTIVE_STATUSES:
                raise CaseError(f"“{STATUS_LABELS[Status(case.status)]}”的工单不能再分派")
            now = self.clock()
            case.assignee_id = user.id
            case.assigned_at = now
            case.updated_at = now
            self._audit(s, case, actor, "assigned", old=old, new=user.username)
            s.flush()
            return self._view(s, case, actor, full=True)

    def transfer(self, number: str, actor: Actor, hotline: str | None = None,
                 department: str | None = None, reason: str = "") -> dict:
        """Hands the case over: to the other hotline (12345 <-> 12349) or to a department."""
        if not (hotline or department):
            raise CaseError("请写明转给哪条热线或哪个部门")
        with self._write() as s:
            case = self._get(s, number)
            self._require_handler(case, actor)
            target = (f"{Hotline(hotline)}热线" if hotline else "") + (department or "").strip()
            old_hotline = case.hotline
            self._set_status(s, case, Status.transferred, actor, reason=_clip(reason, 500))
            if hotline:
                case.hotline = Hotline(hotline)
            case.transferred_to = _clip(target, 80)
            self._audit(s, case, actor, "transferred", to=case.transferred_to,
                        old_hotline=old_hotline, new_hotline=case.hotline, reason=_clip(reason, 500))
            s.flush()
            return self._view(s, case, actor, full=True)

    def change_status(self, number: str, target: str, actor: Actor, reason: str = "",
                      resolution: str = "") -> dict:
        target = Status(target)
        if target in (Status.assigned, Status.transferred):
            raise CaseError("领取、分派和转办请用对应的操作")
        with self._write() as s:
            case = self._get(s, number)
            if target == Status.reopened:
                was_handler = case.assignee_id is not None and case.assignee_id == actor.user_id
                if not (actor.is_supervisor or was_handler or actor.role == Role.operator):
                    raise NotAllowed("没有权限重新打开工单")
            elif target == Status.closed and case.status == Status.new:
                if not actor.is_supervisor:
                    raise NotAllowed("未处理的工单只能由班长关闭")
            else:
                self._require_handler(case, actor)
            if target == Status.resolved and not (resolution or "").strip():
                raise CaseError("办结前请写明办理结果")
            self._set_status(s, case, target, actor, reason=_clip(reason, 500))
            if resolution:
                case.resolution = _clip(resolution, MAX_TEXT)
            s.flush()
            return self._view(s, case, actor, full=True)

    def add_note(self, number: str, text: str, actor: Actor) -> dict:
        text = _clip(text, MAX_TEXT)
        if not text:
            raise CaseError("备注不能为空")
        with self._write() as s:
            case = self._get(s, number)
            self._require_handler(case, actor)  # the same rule as replies
            note = CaseNote(case_id=case.id, at=self.clock(), author=actor.name, text=text)
            s.add(note)
            s.flush()
            case.updated_at = note.at
            self._audit(s, case, actor, "note", note_id=note.id, length=len(text))
            return {"id": note.id, "at": _iso(note.at), "author": note.author, "text": note.text}

    def reply(self, number: str, text: str, actor: Actor) -> dict:
        """Queues a reply to the resident in the case's channel and adds it to the transcript."""
        text = _clip(text, MAX_TEXT)
        if not text:
            raise CaseError("回复不能为空")
        with self._write() as s:
            case = self._get(s, number)
            self._require_handler(case, actor)
            if case.status in (Status.closed, Status.transferred):
                raise CaseError("工单已归档或已转办，不能再回复")
            now = self.clock()
            reply = CaseReply(case_id=case.id, channel=case.channel, sender_id=_conversation_of(case),
                              author=actor.name, text=text, created_at=now)
            s.add(reply)
            s.flush()
            case.transcript = list(case.transcript or []) + [
                {"role": "operator", "text": text, "at": _iso(now), "author": actor.display_name}
            ]
            if case.first_response_at is None:
                case.first_response_at = now
            if case.status == Status.assigned:
                self._set_status(s, case, Status.in_progress, actor, reason="已回复群众")
            case.updated_at = now
            self._audit(s, case, actor, "reply", reply_id=reply.id, channel=case.channel,
                        deliverable=bool(reply.sender_id), length=len(text))
            return {"id": reply.id, "case": case.number, "channel": reply.channel,
                    "sender_id": reply.sender_id, "created_at": _iso(now), "delivered": False}

    def add_resident_message(self, sender_id: str, text: str, channel: str | None = None) -> str | None:
        """What a resident writes after the handover joins their open case (the operator sees it).

        Returns the case number, or None when the conversation has no active case. A case
        waiting for the resident goes back to in progress.
        """
        text = _clip(text, MAX_TEXT)
        if not sender_id or not text:
            return None
        with self._write() as s:
            q = select(Case).where(Case.sender_id == sender_id, Case.status.in_(list(ACTIVE_STATUSES)),
                                   Case.created_by == BOT.name)  # only the bot links a case to a chat
            if channel:
                q = q.where(Case.channel == channel)
            case = s.scalars(q.order_by(Case.id.desc())).first()
            if case is None:
                return None
            now = self.clock()
            case.transcript = list(case.transcript or []) + [{"role": "resident", "text": text, "at": _iso(now)}]
            if case.status == Status.waiting_resident:
                self._set_status(s, case, Status.in_progress, BOT, reason="群众已补充情况")
            case.updated_at = now
            self._audit(s, case, BOT, "resident_message", channel=channel, length=len(text))
            return case.number

    def record_followup(self, number: str, satisfaction: str, note: str, actor: Actor) -> dict:
        """回访: the resident's satisfaction after resolution."""
        satisfaction = Satisfaction(satisfaction)
        with self._write() as s:
            case = self._get(s, number)
            if actor.role == Role.operator and not (case.assignee_id == actor.user_id):
                if case.assignee_id is not None:
                    raise NotAllowed("回访由办理人或班长进行")
            if case.status not in (Status.resolved, Status.closed):
                raise CaseError("工单办结后才能回访")
            now = self.clock()
            case.followup_at = now
            case.satisfaction = satisfaction
            case.followup_note = _clip(note, MAX_TEXT)
            case.updated_at = now
            self._audit(s, case, actor, "followup", satisfaction=str(satisfaction))
            s.flush()
            return self._view(s, case, actor, full=True)

    def escalate_overdue(self, actor: Actor) -> list[str]:
        """Raises the priority of overdue open cases once and flags them for the supervisor."""
        if not actor.is_supervisor:
            raise NotAllowed("只有班长可以升级超时工单")
        now = self.clock()
        done = []
        with self._write() as s:
            cases = s.scalars(
                select(Case).where(Case.status.in_(list(OPEN_STATUSES)), Case.due_at < now,
                                   Case.escalated.is_(False))
            ).all()
            for case in cases:
                old = case.priority
                new = escalated_priority(old)
                case.priority = new
                case.priority_rank = PRIORITY_RANK[new]
                case.escalated = True
                case.escalated_at = now
                case.updated_at = now
                self._audit(s, case, actor, "escalated", old_priority=old, new_priority=str(new),
                            due_at=_iso(case.due_at))
                done.append(case.number)
        return done

    def conversation_cases(self, sender_id: str, limit: int = 50) -> list[dict]:
        """The cases the bot made from this conversation (我的工单 in the web chat), newest
        first: number, type and status in the resident's words, last change. Nothing else of
        the case (the caller proved it holds the conversation, not that it handles the case)."""
        if not sender_id:
            return []
        with self._read() as s:
            cases = s.scalars(select(Case).where(Case.sender_id == sender_id, Case.created_by == BOT.name)
                              .order_by(Case.id.desc()).limit(limit))
            return [{"number": c.number, "type": c.type, "type_label": TYPE_LABELS[CaseType(c.type)],
                     "status": c.status, "status_label": RESIDENT_STATUS_LABELS[Status(c.status)],
                     "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at)} for c in cases]

    # ------------------------------------------------------------------ outbox
    def pending_replies(self, sender_id: str, channel: str | None = None) -> list[dict]:
        with self._read() as s:
            q = select(CaseReply, Case.number).join(Case, Case.id == CaseReply.case_id).where(
                CaseReply.sender_id == sender_id, CaseReply.delivered_at.is_(None))
            if channel:
                q = q.where(CaseReply.channel == channel)
            return [_reply_dict(r, number) for r, number in s.execute(q.order_by(CaseReply.id))]

    def mark_delivered(self, reply_ids: list[int], sender_id: str | None = None) -> list[int]:
        """Marks replies delivered; returns the ids this call marked (each id only once, ever)."""
        marked = []
        with self._write() as s:
            now = self.clock()
            for rid in reply_ids:
                cond = [CaseReply.id == rid, CaseReply.delivered_at.is_(None)]
                if sender_id is not None:
                    cond.append(CaseReply.sender_id == sender_id)
                res = s.execute(update(CaseReply).where(*cond).values(delivered_at=now))
                if res.rowcount == 1:
                    marked.append(rid)
                    case_id = s.scalar(select(CaseReply.case_id).where(CaseReply.id == rid))
                    s.add(CaseEvent(case_id=case_id, at=now, actor="bot", action="reply_delivered",
                                    detail={"reply_id": rid}))
        return marked

    def mark_undeliverable(self, reply_ids: list[int], sender_id: str, reason: str) -> list[int]:
        """Records that a channel could not deliver replies (e.g. WeChat's 48-hour window has
        closed): an audit event once per reply, shown on the case page. The replies stay
        pending, so a channel that can deliver later (the resident writes again) still does."""
        marked = []
        reason = _clip(reason, 200) or "渠道无法送达"
        with self._write() as s:
            now = self.clock()
            for rid in reply_ids:
                reply = s.scalar(select(CaseReply).where(CaseReply.id == rid, CaseReply.sender_id == sender_id,
                                                         CaseReply.delivered_at.is_(None)))
                if reply is None or rid in _undelivered(s, reply.case_id):
                    continue
                s.add(CaseEvent(case_id=reply.case_id, at=now, actor="bot", action="reply_undeliverable",
                                detail={"reply_id": rid, "reason": reason}))
                marked.append(rid)
        return marked

    def consume_replies(self, sender_id: str, channel: str | None = None) -> list[dict]:
        """Pending replies for a conversation, marked delivered in the same call.

        Concurrent consumers never both receive the same reply.
        """
        pending = self.pending_replies(sender_id, channel)
        if not pending:
            return []
        marked = set(self.mark_delivered([r["id"] for r in pending], sender_id))
        out = []
        for r in pending:
            if r["id"] in marked:
                r["delivered"] = True
                out.append(r)
        return out

    # ------------------------------------------------------------------ views
    def _view(self, s: Session, case: Case, viewer: Actor, full: bool = False,
              with_check_code: bool = False) -> dict:
        now = self.clock()
        sees = sees_contact(case, viewer)
        # Not the handler: numbers, names and addresses masked (bot/privacy.py), the case's own name too.
        masked = functools.partial(mask_personal_text, names=[(case.contact or {}).get("name") or ""])
        assignee = s.get(User, case.assignee_id) if case.assignee_id else None
        view = {
            "number": case.number,
            "type": case.type, "type_label": TYPE_LABELS[CaseType(case.type)],
            "channel": case.channel, "channel_label": CHANNEL_LABELS[Channel(case.channel)],
            "sender_id": case.sender_id,
            "jurisdiction": case.jurisdiction, "hotline": case.hotline,
            "priority": case.priority, "priority_label": PRIORITY_LABELS[Priority(case.priority)],
            "status": case.status, "status_label": STATUS_LABELS[Status(case.status)],
            "title": case.title if sees else masked(case.title),
            "assignee": assignee.username if assignee else None,
            "assignee_name": (assignee.display_name or assignee.username) if assignee else None,
            "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
            "due_at": _iso(case.due_at),
            "overdue": is_overdue(case.status, case.due_at, now),
            "seconds_left": int((case.due_at - now).total_seconds()) if case.due_at else None,
            "sla": self.rules.limit_for(case.type, case.priority).describe(),
            "escalated": case.escalated,
            "transferred_to": case.transferred_to,
            "contact_masked": not sees,
            "version": case.version,
        }
        if with_check_code:
            view["check_code"] = case.check_code
            view["acknowledgement"] = acknowledgement(case)
        if full:
            text = (lambda t: t) if sees else masked
            undelivered = _undelivered(s, case.id)
            view.update({
                "summary": text(case.summary),
                "transcript": [dict(m, text=text(m.get("text", ""))) for m in (case.transcript or [])],
                "questions": [text(q) for q in case.questions or []],
                "programs": case.programs or [],
                "eligibility": case.eligibility,
                "contact": case.contact if sees else mask_contact(case.contact),
                "resolution": case.resolution,
                "assigned_at": _iso(case.assigned_at), "first_response_at": _iso(case.first_response_at),
                "resolved_at": _iso(case.resolved_at), "closed_at": _iso(case.closed_at),
                "followup": {
                    "due_at": _iso(case.followup_due_at), "at": _iso(case.followup_at),
                    "satisfaction": case.satisfaction,
                    "satisfaction_label": SATISFACTION_LABELS[Satisfaction(case.satisfaction)]
                    if case.satisfaction else None,
                    "note": case.followup_note,
                },
                "notes": [
                    {"id": n.id, "at": _iso(n.at), "author": n.author, "text": text(n.text)}
                    for n in s.scalars(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id))
                ],
                "replies": [
                    _reply_dict(r, case.number, undelivered.get(r.id))
                    for r in s.scalars(select(CaseReply).where(CaseReply.case_id == case.id).order_by(CaseReply.id))
                ],
            })
            if not sees:
                for r in view["replies"]:
                    r["text"] = masked(r["text"])
        return view


def _check_desk_origin(data: NewCase, channel: Channel) -> None:
    """A desk user's case is one they took themselves (see CONVERSATION_CHANNELS)."""
    if data.sender_id:
        raise NotAllowed("人工登记的工单不能关联群众的在线对话")
    if data.transcript:
        raise NotAllowed("人工登记的工单不能附带对话记录，来电内容请写在摘要里")
    if channel not in DESK_CHANNELS:
        raise NotAllowed("人工登记的工单渠道只能是电话或控制台")


def _conversation_of(case: Case) -> str | None:
    """The conversation a case answers to: only one the bot linked it to."""
    return case.sender_id if case.created_by == BOT.name else None


def sees_contact(case: Case, viewer: Actor) -> bool:
    """Full personal data only for supervisors and the operator handling the case."""
    if viewer.role == Role.supervisor:
        return True
    return viewer.role == Role.operator and viewer.user_id is not None and case.assignee_id == viewer.user_id


def acknowledgement(case: Case) -> str:
    """What the bot tells the resident once the case is stored."""
    hotline = "12345 政务服务便民热线" if case.hotline == Hotline.h12345 else "12349 民政服务热线"
    if case.type == CaseType.urgent:
        head = "您的急难求助已登记，工作人员会尽快联系您。"
    else:
        head = "您的诉求已登记，工作人员会在办理时限内答复您。"
    return (f"{head}工单号 {case.number}，查询码 {case.check_code}，请记好。"
            f"也可以拨打 {hotline} 查询。{EMERGENCY_NUMBERS}")


def _reply_dict(r: CaseReply, number: str, undeliverable: str | None = None) -> dict:
    out = {"id": r.id, "case": number, "channel": r.channel, "sender_id": r.sender_id,
           "text": r.text, "created_at": _iso(r.created_at), "delivered": r.delivered_at is not None}
    if undeliverable and r.delivered_at is None:  # the channel said why it could not deliver (yet)
        out["undeliverable"] = undeliverable
    return out


def _undelivered(s: Session, case_id: int) -> dict[int, str]:
    """reply id → the reason a channel gave for not delivering it (mark_undeliverable)."""
    events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                               CaseEvent.action == "reply_undeliverable"))
    return {int(e.detail["reply_id"]): e.detail.get("reason") or "" for e in events if e.detail}


def _iso(dt: datetime | None) -> str | None:
    return dt.replace(tzinfo=timezone.utc).isoformat() if dt else None


def _clip(text: str | None, n: int) -> str:
    """Trimmed, at most n characters, browser form line breaks (CRLF) made plain."""
    return (text or "").replace("\r\n", "\n").strip()[:n]


def _clean_transcript(turns: list[dict]) -> list[dict]:
    out = []
    for t in (turns or [])[-200:]:
        role = str(t.get("role", "resident"))
        if role not in ("resident", "bot", "operator"):
            role = "resident" if role in ("user", "person") else "bot"
        out.append({"role": role, "text": _clip(str(t.get("text", "")), MAX_TEXT), "at": t.get("at")})
    return out


def _clean_contact(contact: dict) -> dict:
    allowed = ("name", "phone", "phone2", "id_number", "address", "preferred_time")
    return {k: _clip(str(v), 200) for k, v in (contact or {}).items() if k in allowed and v}
