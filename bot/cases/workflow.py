"""The case workflow: every change to an existing case (claim, assign, transfer, status,
notes, replies, the resident's later messages, follow-up, escalation).

Each change checks who may make it, moves the status only along bot/cases/model.py's
TRANSITIONS and writes its audit event in the same transaction as the change itself.
"""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.case_limits import TEXT_MAX, trimmed
from bot.cases.actors import BOT, Actor
from bot.cases.context import DeskContext, get_case
from bot.cases.model import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    PRIORITY_RANK,
    QUEUE_STATUSES,
    STATUS_LABELS,
    CaseError,
    Conflict,
    Hotline,
    NotAllowed,
    Role,
    Satisfaction,
    Status,
    check_transition,
    escalated_priority,
)
from bot.cases.store import Case, CaseEvent, CaseNote, CaseReply, User
from bot.cases.views import iso, note_view, queued_reply_view

# A claim retries while other claimers hold every candidate row (SKIP LOCKED finds none), each
# time after a short, growing, random pause; twenty operators pressing 领取 at once all get one.
CLAIM_ATTEMPTS = 10


class CaseWorkflow:
    def __init__(self, ctx: DeskContext):
        self.ctx = ctx

    # ------------------------------------------------------------------ rules shared by the steps
    @staticmethod
    def _require_handler(case: Case, actor: Actor) -> None:
        """Only the assignee (or a supervisor) works on a case."""
        if actor.is_supervisor:
            return
        if actor.role == Role.operator and case.assignee_id == actor.user_id:
            return
        raise NotAllowed("这张工单不在您名下，请先领取或请班长分派")

    def _set_status(self, s: Session, case: Case, target: Status, actor: Actor, **detail: Any) -> None:
        old = case.status
        check_transition(old, target)
        now = self.ctx.clock()
        rules = self.ctx.rules
        case.status = target
        case.updated_at = now
        if target == Status.resolved:
            case.resolved_at = now
            case.followup_due_at = rules.followup_due(now)
        elif target == Status.closed:
            case.closed_at = now
        elif target == Status.reopened:
            case.assignee_id = None
            case.assigned_at = None
            case.resolved_at = None
            case.closed_at = None
            case.due_at = rules.due_at(case.type, case.priority, now)
        elif target == Status.new:
            case.assignee_id = None
            case.assigned_at = None
        self.ctx.audit(s, case, actor, "status", old=old, new=str(target), **detail)

    # ------------------------------------------------------------------ queue operations
    def claim_next(self, actor: Actor) -> dict[str, Any] | None:
        """Gives the actor the most urgent, then oldest, unclaimed case; None if the queue is empty.

        One UPDATE picks and takes the case. On PostgreSQL the pick is
        `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's row;
        on SQLite the write lock (BEGIN IMMEDIATE) serializes claimers and the
        `status/assignee` condition is re-checked by the UPDATE itself.
        """
        if actor.role not in (Role.operator, Role.supervisor):
            raise NotAllowed("只有话务员和班长可以领取工单")
        for attempt in range(CLAIM_ATTEMPTS):
            if attempt:  # every candidate was locked by other claimers: let them commit first
                time.sleep(random.uniform(0.005, 0.03) * attempt)
            now = self.ctx.clock()
            with self.ctx.write() as s:
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
                    .values(
                        status=Status.assigned,
                        assignee_id=actor.user_id,
                        assigned_at=now,
                        updated_at=now,
                        version=Case.version + 1,
                    )
                    .returning(Case.id)
                    .execution_options(synchronize_session=False)
                ).first()
                if row is None:
                    empty = (
                        s.scalar(
                            select(func.count(Case.id)).where(
                                Case.status.in_(list(QUEUE_STATUSES)), Case.assignee_id.is_(None)
                            )
                        )
                        == 0
                    )
                    if empty:
                        return None
                    continue  # someone else took the candidate between pick and update; try again
                case = s.get(Case, row[0], populate_existing=True)
                assert case is not None  # just claimed by the UPDATE above, in this transaction
                s.add(
                    CaseEvent(
                        case_id=case.id, at=now, actor=actor.name, action="claimed", detail={"assignee": actor.name}
                    )
                )
                s.flush()
                return self.ctx.view(s, case, actor, full=True)
        raise Conflict("领取的人太多，请再试一次")

    def assign(self, number: str, username: str, actor: Actor) -> dict[str, Any]:
        if not actor.is_supervisor:
            raise NotAllowed("只有班长可以分派工单")
        with self.ctx.write() as s:
            case = get_case(s, number)
            from bot.cases.users import find_user  # (argon2 setup only where users are handled)

            user = find_user(s, username)
            if user is not None and not user.active:
                user = None
            if user is None or user.role not in (Role.operator, Role.supervisor):
                raise CaseError(f"不能分派给 {username}：没有这个话务员")
            assignee = s.get(User, case.assignee_id) if case.assignee_id else None
            old = assignee.username if assignee else None
            if case.status in (Status.new, Status.reopened):
                self._set_status(s, case, Status.assigned, actor, reason="分派")
            elif Status(case.status) not in ACTIVE_STATUSES:
                raise CaseError(f"“{STATUS_LABELS[Status(case.status)]}”的工单不能再分派")
            now = self.ctx.clock()
            case.assignee_id = user.id
            case.assigned_at = now
            case.updated_at = now
            self.ctx.audit(s, case, actor, "assigned", old=old, new=user.username)
            s.flush()
            return self.ctx.view(s, case, actor, full=True)

    def transfer(
        self, number: str, actor: Actor, hotline: str | None = None, department: str | None = None, reason: str = ""
    ) -> dict[str, Any]:
        """Hands the case over: to the other hotline (12345 <-> 12349) or to a department."""
        if not (hotline or department):
            raise CaseError("请写明转给哪条热线或哪个部门")
        with self.ctx.write() as s:
            case = get_case(s, number)
            self._require_handler(case, actor)
            target = (f"{Hotline(hotline)}热线" if hotline else "") + (department or "").strip()
            old_hotline = case.hotline
            self._set_status(s, case, Status.transferred, actor, reason=trimmed(reason, 500))
            if hotline:
                case.hotline = Hotline(hotline)
            case.transferred_to = trimmed(target, 80)
            self.ctx.audit(
                s,
                case,
                actor,
                "transferred",
                to=case.transferred_to,
                old_hotline=old_hotline,
                new_hotline=case.hotline,
                reason=trimmed(reason, 500),
            )
            s.flush()
            return self.ctx.view(s, case, actor, full=True)

    def change_status(
        self, number: str, target: str, actor: Actor, reason: str = "", resolution: str = ""
    ) -> dict[str, Any]:
        target = Status(target)
        if target in (Status.assigned, Status.transferred):
            raise CaseError("领取、分派和转办请用对应的操作")
        with self.ctx.write() as s:
            case = get_case(s, number)
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
            self._set_status(s, case, target, actor, reason=trimmed(reason, 500))
            if resolution:
                case.resolution = trimmed(resolution, TEXT_MAX)
            s.flush()
            return self.ctx.view(s, case, actor, full=True)

    def add_note(self, number: str, text: str, actor: Actor) -> dict[str, Any]:
        text = trimmed(text, TEXT_MAX)
        if not text:
            raise CaseError("备注不能为空")
        with self.ctx.write() as s:
            case = get_case(s, number)
            self._require_handler(case, actor)  # the same rule as replies
            note = CaseNote(case_id=case.id, at=self.ctx.clock(), author=actor.name, text=text)
            s.add(note)
            s.flush()
            case.updated_at = note.at
            self.ctx.audit(s, case, actor, "note", note_id=note.id, length=len(text))
            return note_view(note)

    # ------------------------------------------------------------------ the resident's conversation
    def reply(self, number: str, text: str, actor: Actor) -> dict[str, Any]:
        """Queues a reply to the resident in the case's channel and adds it to the transcript."""
        text = trimmed(text, TEXT_MAX)
        if not text:
            raise CaseError("回复不能为空")
        with self.ctx.write() as s:
            case = get_case(s, number)
            self._require_handler(case, actor)
            if case.status in (Status.closed, Status.transferred):
                raise CaseError("工单已归档或已转办，不能再回复")
            now = self.ctx.clock()
            reply = CaseReply(
                case_id=case.id,
                channel=case.channel,
                sender_id=_conversation_of(case),
                author=actor.name,
                text=text,
                created_at=now,
            )
            s.add(reply)
            s.flush()
            case.transcript = list(case.transcript or []) + [
                {"role": "operator", "text": text, "at": iso(now), "author": actor.display_name}
            ]
            if case.first_response_at is None:
                case.first_response_at = now
            if case.status == Status.assigned:
                self._set_status(s, case, Status.in_progress, actor, reason="已回复群众")
            case.updated_at = now
            self.ctx.audit(
                s,
                case,
                actor,
                "reply",
                reply_id=reply.id,
                channel=case.channel,
                deliverable=bool(reply.sender_id),
                length=len(text),
            )
            return queued_reply_view(reply, case.number)

    def add_resident_message(
        self, sender_id: str, text: str, channel: str | None = None, message_id: str | None = None
    ) -> str | None:
        """What a resident writes after the handover joins their open case (the operator sees it).

        Returns the case number, or None when the conversation has no active case. A case
        waiting for the resident goes back to in progress. A message whose `message_id` the
        transcript already holds is not added again: gateways send the note while Rasa answers
        the same message, and the case that message creates already has it.
        """
        text = trimmed(text, TEXT_MAX)
        if not sender_id or not text:
            return None
        q = select(Case).where(
            Case.sender_id == sender_id, Case.status.in_(list(ACTIVE_STATUSES)), Case.created_by == BOT.name
        )  # only the bot links a case to a chat
        if channel:
            q = q.where(Case.channel == channel)
        # Most messages belong to no case: a read finds that without taking SQLite's write lock,
        # which would queue every message behind whatever else is being written (each web chat
        # answer's reload history, for one).
        with self.ctx.read() as s:
            if s.scalar(q.with_only_columns(Case.id).limit(1)) is None:
                return None
        with self.ctx.write() as s:
            case = s.scalars(q.order_by(Case.id.desc())).first()
            if case is None:
                return None
            if message_id and any(t.get("message_id") == message_id for t in case.transcript or []):
                return case.number
            now = self.ctx.clock()
            turn = {"role": "resident", "text": text, "at": iso(now)}
            if message_id:
                turn["message_id"] = message_id
            case.transcript = list(case.transcript or []) + [turn]
            if case.status == Status.waiting_resident:
                self._set_status(s, case, Status.in_progress, BOT, reason="群众已补充情况")
            case.updated_at = now
            self.ctx.audit(s, case, BOT, "resident_message", channel=channel, length=len(text))
            return case.number

    # ------------------------------------------------------------------ after resolution, and overdue
    def record_followup(self, number: str, satisfaction: str, note: str, actor: Actor) -> dict[str, Any]:
        """回访: the resident's satisfaction after resolution."""
        satisfaction = Satisfaction(satisfaction)
        with self.ctx.write() as s:
            case = get_case(s, number)
            if actor.role == Role.operator and case.assignee_id not in (None, actor.user_id):
                raise NotAllowed("回访由办理人或班长进行")
            if case.status not in (Status.resolved, Status.closed):
                raise CaseError("工单办结后才能回访")
            now = self.ctx.clock()
            case.followup_at = now
            case.satisfaction = satisfaction
            case.followup_note = trimmed(note, TEXT_MAX)
            case.updated_at = now
            self.ctx.audit(s, case, actor, "followup", satisfaction=str(satisfaction))
            s.flush()
            return self.ctx.view(s, case, actor, full=True)

    def escalate_overdue(self, actor: Actor) -> list[str]:
        """Raises the priority of overdue open cases once and flags them for the supervisor."""
        if not actor.is_supervisor:
            raise NotAllowed("只有班长可以升级超时工单")
        now = self.ctx.clock()
        done: list[str] = []
        with self.ctx.write() as s:
            cases = s.scalars(
                select(Case).where(Case.status.in_(list(OPEN_STATUSES)), Case.due_at < now, Case.escalated.is_(False))
            ).all()
            for case in cases:
                old = case.priority
                new = escalated_priority(old)
                case.priority = new
                case.priority_rank = PRIORITY_RANK[new]
                case.escalated = True
                case.escalated_at = now
                case.updated_at = now
                self.ctx.audit(
                    s, case, actor, "escalated", old_priority=old, new_priority=str(new), due_at=iso(case.due_at)
                )
                done.append(case.number or "")  # every case has its number from intake on
        return done


def _conversation_of(case: Case) -> str | None:
    """The conversation a case answers to: only one the bot linked it to."""
    return case.sender_id if case.created_by == BOT.name else None
