"""The case desk: creating cases, queues, the workflow, replies and the audit log.

Plain Python over a SQLAlchemy session; routers and the CLI call these
functions with an `Actor`. Every change writes an audit event in the same
transaction as the change itself.

`CaseDesk` is the front everyone calls; the work is done by one part per concern,
sharing a DeskContext (bot/cases/context.py: database, SLA rules, clock):

- intake.py    creating a case (who may say what, its number, report time, idempotency)
- workflow.py  every change to a case: claim, assign, transfer, status, notes, replies…
- queries.py   reading: one case, queues and counts, the audit log, the resident's lookup
- listing.py   a page of a queue: filters, search (search.py reads what was typed), order, count
- outbox.py    operator replies waiting for a conversation, and their delivery
- views.py     how a case is shown, and who sees its personal data
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.case_limits import TEXT_MAX
from bot.cases.actors import BOT, SYSTEM, Actor
from bot.cases.context import DeskContext
from bot.cases.intake import (
    CONVERSATION_CHANNELS,
    DESK_CHANNELS,
    KEY_TAKEN,
    MAX_REPORT_AGE,
    CaseIntake,
    NewCase,
    report_time,
)
from bot.cases.listing import PAGE_SIZE, CasePage
from bot.cases.outbox import ReplyOutbox
from bot.cases.queries import QUEUE_LABELS, QUEUES, CaseQueries
from bot.cases.search import CaseFilters, SearchTerm
from bot.cases.sla import SlaRules, load_rules, utcnow
from bot.cases.store import Case
from bot.cases.views import acknowledgement, sees_contact
from bot.cases.workflow import CaseWorkflow
from bot.db import Database

__all__ = [
    "BOT",
    "CONVERSATION_CHANNELS",
    "DESK_CHANNELS",
    "KEY_TAKEN",
    "MAX_REPORT_AGE",
    "MAX_TEXT",
    "QUEUES",
    "QUEUE_LABELS",
    "SYSTEM",
    "Actor",
    "CaseDesk",
    "NewCase",
    "acknowledgement",
    "report_time",
    "sees_contact",
]

MAX_TEXT = TEXT_MAX


class CaseDesk:
    """The case desk's front: each method hands the call to the part that does it."""

    def __init__(self, db: Database, rules: SlaRules | None = None, clock: Callable[[], datetime] = utcnow):
        self.context = DeskContext(db, rules or load_rules(), clock)
        self.intake = CaseIntake(self.context)
        self.workflow = CaseWorkflow(self.context)
        self.queries = CaseQueries(self.context)
        self.outbox = ReplyOutbox(self.context)

    # What callers (dead letters, tests) read off the desk; the parts see the same values.
    @property
    def db(self) -> Database:
        return self.context.db

    @property
    def rules(self) -> SlaRules:
        return self.context.rules

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.context.clock

    # ------------------------------------------------------------------ create
    def create_case(
        self, data: NewCase, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        return self.intake.create_case(data, actor, idempotency_key)

    # ------------------------------------------------------------------ read
    def get(self, number: str, viewer: Actor) -> dict[str, Any]:
        return self.queries.get(number, viewer)

    def case_record(self, number: str) -> Case:
        return self.queries.case_record(number)

    def list_queue(self, queue: str, viewer: Actor, limit: int = 100) -> list[dict[str, Any]]:
        return self.queries.list_queue(queue, viewer, limit)

    def page_queue(
        self,
        queue: str,
        viewer: Actor,
        filters: CaseFilters | None = None,
        search: SearchTerm | None = None,
        limit: int = PAGE_SIZE,
        offset: int = 0,
    ) -> CasePage:
        return self.queries.page_queue(queue, viewer, filters, search, limit, offset)

    def list_reported(self, reporter: Actor, limit: int = 50) -> list[dict[str, Any]]:
        return self.queries.list_reported(reporter, limit)

    def counts(self, viewer: Actor) -> dict[str, int]:
        return self.queries.counts(viewer)

    def change_marker(self) -> tuple[int, str, int]:
        return self.queries.change_marker()

    def case_marker(self, number: str) -> tuple[int, str] | None:
        return self.queries.case_marker(number)

    def cases_since(self, after_id: int, viewer: Actor, limit: int = 20) -> list[tuple[int, dict[str, Any]]]:
        return self.queries.cases_since(after_id, viewer, limit)

    def audit_log(self, number: str) -> list[dict[str, Any]]:
        return self.queries.audit_log(number)

    def lookup(self, number: str, check_code: str) -> dict[str, Any]:
        return self.queries.lookup(number, check_code)

    def conversation_cases(self, sender_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return self.queries.conversation_cases(sender_id, limit)

    # ------------------------------------------------------------------ workflow
    def claim_next(self, actor: Actor) -> dict[str, Any] | None:
        return self.workflow.claim_next(actor)

    def assign(self, number: str, username: str, actor: Actor) -> dict[str, Any]:
        return self.workflow.assign(number, username, actor)

    def transfer(
        self, number: str, actor: Actor, hotline: str | None = None, department: str | None = None, reason: str = ""
    ) -> dict[str, Any]:
        return self.workflow.transfer(number, actor, hotline=hotline, department=department, reason=reason)

    def change_status(
        self, number: str, target: str, actor: Actor, reason: str = "", resolution: str = ""
    ) -> dict[str, Any]:
        return self.workflow.change_status(number, target, actor, reason=reason, resolution=resolution)

    def add_note(self, number: str, text: str, actor: Actor) -> dict[str, Any]:
        return self.workflow.add_note(number, text, actor)

    def reply(self, number: str, text: str, actor: Actor) -> dict[str, Any]:
        return self.workflow.reply(number, text, actor)

    def add_resident_message(
        self, sender_id: str, text: str, channel: str | None = None, message_id: str | None = None
    ) -> str | None:
        return self.workflow.add_resident_message(sender_id, text, channel, message_id)

    def record_followup(self, number: str, satisfaction: str, note: str, actor: Actor) -> dict[str, Any]:
        return self.workflow.record_followup(number, satisfaction, note, actor)

    def escalate_overdue(self, actor: Actor) -> list[str]:
        return self.workflow.escalate_overdue(actor)

    # ------------------------------------------------------------------ outbox
    def pending_replies(self, sender_id: str, channel: str | None = None) -> list[dict[str, Any]]:
        return self.outbox.pending_replies(sender_id, channel)

    def waiting_senders(self, channel: str, limit: int = 1000) -> list[str]:
        return self.outbox.waiting_senders(channel, limit)

    def mark_delivered(self, reply_ids: list[int], sender_id: str | None = None) -> list[int]:
        return self.outbox.mark_delivered(reply_ids, sender_id)

    def mark_undeliverable(self, reply_ids: list[int], sender_id: str, reason: str) -> list[int]:
        return self.outbox.mark_undeliverable(reply_ids, sender_id, reason)

    def consume_replies(self, sender_id: str, channel: str | None = None) -> list[dict[str, Any]]:
        return self.outbox.consume_replies(sender_id, channel)
