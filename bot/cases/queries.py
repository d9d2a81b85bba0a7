"""Reading the case desk: one case, the queues and their counts, a reporter's own cases,
the audit log, the resident's status lookup and a conversation's cases. Nothing here changes a case."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from bot.case_codes import normalize_case_number, normalize_check_code
from bot.cases.actors import BOT, Actor
from bot.cases.context import DeskContext, get_case
from bot.cases.listing import LIMIT_MAX, OFFSET_MAX, PAGE_SIZE, CasePage, filter_clauses, page_query, search_clause
from bot.cases.model import ACTIVE_STATUSES, OPEN_STATUSES, QUEUE_STATUSES, CaseError, NotFound, Priority, Status
from bot.cases.search import CaseFilters, SearchTerm
from bot.cases.store import Case, CaseEvent
from bot.cases.views import conversation_case_view, event_view, resident_view

QUEUES = ("unassigned", "mine", "urgent", "overdue", "followup", "all")
QUEUE_LABELS = {
    "unassigned": "待领取",
    "mine": "我的工单",
    "urgent": "急难",
    "overdue": "已超时",
    "followup": "待回访",
    "all": "全部",
}


def queue_filter(queue: str, viewer: Actor, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause of a queue, as `viewer` sees it at `now`."""
    if queue == "unassigned":
        return and_(Case.status.in_(list(QUEUE_STATUSES)), Case.assignee_id.is_(None))
    if queue == "mine":
        return and_(Case.assignee_id == viewer.user_id, Case.status.in_(list(ACTIVE_STATUSES | {Status.resolved})))
    if queue == "urgent":
        return and_(Case.priority == Priority.urgent, Case.status.in_(list(ACTIVE_STATUSES)))
    if queue == "overdue":
        return and_(Case.status.in_(list(OPEN_STATUSES)), Case.due_at < now)
    if queue == "followup":
        return and_(Case.status == Status.resolved, Case.followup_at.is_(None))
    if queue == "all":
        return Case.id.is_not(None)
    raise CaseError(f"没有这个队列：{queue}")


class CaseQueries:
    def __init__(self, ctx: DeskContext):
        self.ctx = ctx

    def get(self, number: str, viewer: Actor) -> dict[str, Any]:
        with self.ctx.read() as s:
            return self.ctx.view(s, get_case(s, number), viewer, full=True)

    def case_record(self, number: str) -> Case:
        with self.ctx.read() as s:
            return get_case(s, number)

    def list_queue(self, queue: str, viewer: Actor, limit: int = 100) -> list[dict[str, Any]]:
        return self.page_queue(queue, viewer, limit=limit).cases

    def page_queue(
        self,
        queue: str,
        viewer: Actor,
        filters: CaseFilters | None = None,
        search: SearchTerm | None = None,
        limit: int = PAGE_SIZE,
        offset: int = 0,
    ) -> CasePage:
        """One page of a queue (bot/cases/listing.py), filtered and searched, as `viewer` sees it."""
        filters = filters or CaseFilters()
        limit, offset = max(1, min(limit, LIMIT_MAX)), max(0, min(offset, OFFSET_MAX))
        now = self.ctx.clock()
        with self.ctx.read() as s:
            where = [queue_filter(queue, viewer, now), *filter_clauses(filters, now)]
            if search is not None:
                where.append(search_clause(s, search))
            rows, total = page_query(s, where, queue, limit, offset)
            views = [self.ctx.view(s, c, viewer) for c in rows]
        return CasePage(views, total, limit, offset, search, filters)

    def list_reported(self, reporter: Actor, limit: int = 50) -> list[dict[str, Any]]:
        """Cases the actor reported (a volunteer's own reports), newest first."""
        with self.ctx.read() as s:
            q = select(Case).where(Case.created_by == reporter.name).order_by(Case.created_at.desc())
            return [self.ctx.view(s, c, reporter) for c in s.scalars(q.limit(limit))]

    def counts(self, viewer: Actor) -> dict[str, int]:
        now = self.ctx.clock()
        out: dict[str, int] = {}
        with self.ctx.read() as s:
            for queue in QUEUES:
                if queue == "all":
                    continue
                out[queue] = s.scalar(select(func.count(Case.id)).where(queue_filter(queue, viewer, now))) or 0
        return out

    def change_marker(self) -> tuple[int, str, int]:
        """What moves when a case is made, changed or removed: the newest case id, the latest
        change time and how many cases there are. One cheap query for a live page to poll."""
        with self.ctx.read() as s:
            newest, changed, total = s.execute(
                select(func.max(Case.id), func.max(Case.updated_at), func.count(Case.id))
            ).one()
            return int(newest or 0), changed.isoformat() if changed else "", int(total or 0)

    def case_marker(self, number: str) -> tuple[int, str] | None:
        """What moves when one case changes (its version and last change: a new message, a
        note, a status); None when there is no such case. What a live case page polls."""
        with self.ctx.read() as s:
            row = s.execute(select(Case.version, Case.updated_at).where(Case.number == number)).first()
            return (int(row[0]), row[1].isoformat() if row[1] else "") if row else None

    def cases_since(self, after_id: int, viewer: Actor, limit: int = 20) -> list[tuple[int, dict[str, Any]]]:
        """Cases made after the case with id `after_id`, oldest first, each with its id and its
        queue row as `viewer` sees it (a title masked for who does not handle the case)."""
        with self.ctx.read() as s:
            q = select(Case).where(Case.id > after_id).order_by(Case.id).limit(max(1, min(limit, 100)))
            return [(c.id, self.ctx.view(s, c, viewer)) for c in s.scalars(q)]

    def audit_log(self, number: str) -> list[dict[str, Any]]:
        with self.ctx.read() as s:
            case = get_case(s, number)
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
            return [event_view(e) for e in events]

    def lookup(self, number: str, check_code: str) -> dict[str, Any]:
        """What a resident may know about their case, given the number and check code.

        NotFound for a wrong pair. How often one may try is the caller's throttle
        (bot/throttle: per client and overall, never per case number, which would let
        anyone lock a resident out of their own case)."""
        number = normalize_case_number(number)
        code = normalize_check_code(check_code).encode()
        with self.ctx.read() as s:
            case = s.scalar(select(Case).where(Case.number == number))
            # Compared even when there is no such case, so both cost the same.
            expected = case.check_code.upper().encode() if case is not None else b"-" * len(code)
            ok = secrets.compare_digest(expected, code)
            if not ok or case is None:
                raise NotFound("工单号或查询码不正确")
            return resident_view(case)

    def conversation_cases(self, sender_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The cases the bot made from this conversation (我的工单 in the web chat), newest
        first: number, type and status in the resident's words, last change. Nothing else of
        the case (the caller proved it holds the conversation, not that it handles the case)."""
        if not sender_id:
            return []
        with self.ctx.read() as s:
            cases = s.scalars(
                select(Case)
                .where(Case.sender_id == sender_id, Case.created_by == BOT.name)
                .order_by(Case.id.desc())
                .limit(limit)
            )
            return [conversation_case_view(c) for c in cases]
