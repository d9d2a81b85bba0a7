"""SQLAlchemy tables of the case desk: cases, their audit log, notes, the
reply outbox, the desk's users and their accounts' audit log. Declared on bot.orm.Base;
bot/storage_models.py lists this module among the service database's tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, event, false
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.cases.household_match import name_key
from bot.cases.search import phone_last4
from bot.orm import Base


class User(Base):
    __tablename__ = "desk_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when the password changes or sessions are revoked; sessions carry it.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Set with a temporary password (bot/cases/accounts.py): the next login asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Two-step login (bot/cases/totp.py): the TOTP secret sealed (Fernet) with a key derived from
    # the service's secret key, never in the clear; the time step of the last code accepted.
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When the user last had the console open (bot/cases/users.py mark_seen, at most once a
    # minute): who is on shift for the assign list.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Human case number, GD + local date + 6 random characters (bot/case_codes.py), e.g.
    # GD20250521K7M3QX (older cases: GD20250521000012); given to the resident with the check code.
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    check_code: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)

    type: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    # Conversation id in the channel (Rasa sender id); replies go back to it.
    sender_id: Mapped[str | None] = mapped_column(String(128), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    hotline: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))

    title: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[list[Any]] = mapped_column(JSON, default=list)
    questions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    programs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The last 4 digits of contact["phone"] (bot/cases/search.py), kept in step by the ORM below:
    # what the console's phone search looks up; no more of the number than the masked view shows.
    contact_phone_last4: Mapped[str | None] = mapped_column(String(4), nullable=True, index=True)
    # The toneless pinyin of contact["name"] (bot/cases/household_match.py), kept in step like the
    # phone digits: what a volunteer's duplicate warning compares (王小明 = 王晓明 = wangxiaoming).
    contact_name_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A volunteer's home visit (bot/cases/visits.py): place down to 村/组, consent, the checklist's
    # groups and what was seen, the facts for the rough screen, the risk level and its reasons.
    visit: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("desk_users.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    transferred_to: Mapped[str | None] = mapped_column(String(80), nullable=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)

    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")

    # 回访 (satisfaction follow-up)
    followup_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    followup_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    satisfaction: Mapped[str | None] = mapped_column(String(24), nullable=True)
    followup_note: Mapped[str] = mapped_column(Text, default="")

    # Optimistic locking: a write based on a stale read fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_queue", "status", "assignee_id", "priority_rank", "created_at"),
        Index("ix_cases_due", "status", "due_at"),
        # The supervisor's figures (bot/cases/stats.py) range over these moments.
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_resolved_at", "resolved_at"),
        Index("ix_cases_followup_at", "followup_at"),
        # A volunteer's duplicate warning looks up the reports of one place.
        Index("ix_cases_jurisdiction_name_key", "jurisdiction", "contact_name_key"),
    )


class CaseEvent(Base):
    """Append-only audit log: who did what to which case, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_case_events_action_at", "action", "at"),)  # transfers per period (stats.py)


class UserEvent(Base):
    """Append-only audit log of accounts: who changed which account, when, what (old → new).

    Never a password, a hash or a TOTP secret (bot/cases/accounts.py writes it).
    """

    __tablename__ = "desk_user_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("desk_users.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseNote(Base):
    """Internal notes: never shown to the resident."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)


class CaseReply(Base):
    """Operator replies to the resident: the outbox of a conversation.

    A channel adapter (web chat relay now, Telegram later) reads the pending
    replies of its sender ids and marks them delivered.
    """

    __tablename__ = "case_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str | None] = mapped_column(String(128))
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_case_replies_pending", "channel", "sender_id", "delivered_at"),)


class DeadLetter(Base):
    """A report the service refused as sent (e.g. a 422), as the action server gave it up.

    It stays here, counted on the console queue page, until a supervisor marks it dealt
    with; `case_number` is the minimal case-of-last-resort made from it (bot/cases/dead_letters.py).
    """

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    case_type: Mapped[str] = mapped_column(String(32), default="")
    sender_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    case_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _derive_contact_keys(_mapper: Any, _conn: Any, case: Case) -> None:
    contact = case.contact or {}
    case.contact_phone_last4 = phone_last4(contact.get("phone"))
    case.contact_name_key = name_key(contact.get("name"))


# --- the audit logs are append-only: refused by the ORM and by the database ---
# (The database triggers are made by the migrations, bot/migrations/versions/0001_baseline.py and
# 0003_accounts.py; the DDL events below make the same ones when a test builds tables with
# metadata.create_all.)

APPEND_ONLY = (CaseEvent, UserEvent)


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, APPEND_ONLY):
            raise PermissionError(f"{obj.__tablename__} is append-only")


def append_only_ddl(table: str) -> list[DDL]:
    """The triggers that refuse UPDATE and DELETE on `table`, for SQLite and PostgreSQL."""
    ddl = [
        DDL(
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        ).execute_if(dialect="sqlite")
        for op in ("UPDATE", "DELETE")
    ]
    ddl.append(
        DDL(
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"
        ).execute_if(dialect="postgresql")
    )
    ddl.append(
        DDL(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        ).execute_if(dialect="postgresql")
    )
    return ddl


for _model in APPEND_ONLY:
    for _ddl in append_only_ddl(_model.__tablename__):
        event.listen(_model.__table__, "after_create", _ddl)
