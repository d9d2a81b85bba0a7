"""Request and response bodies of the case desk's JSON API (bot/service/routers/cases.py,
case_workflow.py, conversations.py).

Responses mirror the dicts bot/cases/views.py makes, field for field and in the same order.
A field with a default is a key the desk leaves out where it does not apply (a reply's
`undeliverable`, a dead letter's `payload`); routes returning one set
`response_model_exclude_unset=True`, so a key the desk left out stays out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.case_limits import (
    CONTACT_MAX,
    ID_MAX,
    JURISDICTION_MAX,
    LIST_MAX,
    ROW_ID_MAX,
    TEXT_MAX,
    TIMESTAMP_MAX,
    TITLE_MAX,
    TRANSCRIPT_MAX_TURNS,
)
from bot.cases.intake import MAX_REPORT_AGE
from bot.cases.model import CaseType, Channel, Hotline, Priority, Satisfaction

# ------------------------------------------------------------------ requests


# The gateway's id of a resident's message, also in Rasa's metadata: a transcript holding it is not added to again.
MESSAGE_ID = Field(None, max_length=ID_MAX, description="The gateway's id of the message (not added twice)")


class Turn(BaseModel):
    role: Literal["resident", "bot", "operator", "user"] = "resident"
    text: str = Field(max_length=TEXT_MAX)
    at: str | None = None
    message_id: str | None = MESSAGE_ID


class Contact(BaseModel):
    name: str | None = Field(None, max_length=CONTACT_MAX["name"])
    phone: str | None = Field(None, max_length=CONTACT_MAX["phone"])
    id_number: str | None = Field(
        None, max_length=CONTACT_MAX["id_number"], description="身份证号; masked for roles that don't need it"
    )
    address: str | None = Field(None, max_length=CONTACT_MAX["address"])
    preferred_time: str | None = Field(None, max_length=CONTACT_MAX["preferred_time"])


class CaseIn(BaseModel):
    type: CaseType
    channel: Channel | None = Field(
        None,
        description="Default: web for the bot token, phone for desk users, "
        "console for volunteers. Desk users: phone or console only",
    )
    sender_id: str | None = Field(
        None, max_length=ID_MAX, description="Conversation id (Rasa sender id) replies go back to. Bot token only"
    )
    jurisdiction: str | None = Field(
        None, max_length=JURISDICTION_MAX, description="渠县, 达州市…; decides 12345 or 12349"
    )
    priority: Priority | None = Field(None, description="Default by type; urgent cases are always urgent")
    title: str = Field("", max_length=TITLE_MAX)
    summary: str = Field("", max_length=TEXT_MAX, description="Handoff summary written by the bot")
    transcript: list[Turn] = Field(
        default_factory=list, max_length=TRANSCRIPT_MAX_TURNS, description="The bot conversation. Bot token only"
    )
    questions: list[str] = Field(
        default_factory=list, max_length=LIST_MAX, description="The resident's questions, for suggested answers"
    )
    programs: list[str] = Field(default_factory=list, max_length=LIST_MAX)
    eligibility: dict[str, Any] | None = Field(
        None, description="The eligibility screen result, as returned by /v1/screen"
    )
    contact: Contact = Field(default_factory=Contact)
    idempotency_key: str | None = Field(None, max_length=ID_MAX, description="Or the Idempotency-Key header")
    reported_at: str | None = Field(
        None,
        max_length=TIMESTAMP_MAX,
        description="When the resident reported it (ISO 8601). From the bot token only: the case keeps this "
        "time for created_at and the SLA if it is not in the future and not older than "
        f"{MAX_REPORT_AGE.days} days; otherwise (or unparseable) the time of arrival is used",
    )


class StatusIn(BaseModel):
    status: Literal["in_progress", "waiting_resident", "resolved", "closed", "reopened", "new"]
    reason: str = Field("", max_length=500)
    resolution: str = Field("", max_length=4000, description="Required when resolving")


class AssignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)


class TransferIn(BaseModel):
    hotline: Hotline | None = None
    department: str | None = Field(None, max_length=60)
    reason: str = Field("", max_length=500)


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class FollowupIn(BaseModel):
    satisfaction: Satisfaction
    note: str = Field("", max_length=4000)


class LookupIn(BaseModel):
    number: str = Field(
        min_length=4, max_length=32, description="GD…; case, spaces and full-width digits do not matter"
    )
    check_code: str = Field(min_length=4, max_length=16, description="8 characters (older cases: 6 digits)")


RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]


class DeliveredIn(BaseModel):
    ids: list[RowId] = Field(max_length=500)


class UndeliverableIn(DeliveredIn):
    reason: str = Field(
        min_length=1, max_length=200, description="Why the channel cannot deliver them, for the operator"
    )


class ResidentMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    channel: Channel | None = None
    message_id: str | None = MESSAGE_ID


class DeadLetterIn(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=ID_MAX, description="The refused report's key")
    error: str = Field("", description="Why the service refused the report (kept up to 2000 characters)")
    payload: dict[str, Any] = Field(default_factory=dict, description="The report as the action server sent it")


class DeadLetterResolveIn(BaseModel):
    note: str = Field("", max_length=1000, description="What was done (e.g. entered by hand as GD…)")


# ------------------------------------------------------------------ responses: a case


class CaseCreated(BaseModel):
    number: str
    check_code: str = Field(description="Given to the resident with the number, for the status lookup")
    status: str
    priority: str
    hotline: str
    due_at: str
    acknowledgement: str = Field(description="Chinese text the bot can show the resident (includes emergency numbers)")
    created: bool

    model_config = {"extra": "allow"}


class CaseSummary(BaseModel):
    """A case as a queue lists it."""

    number: str
    type: str
    type_label: str
    channel: str
    channel_label: str
    sender_id: str | None = Field(description="The conversation replies go back to (cases the bot made)")
    jurisdiction: str
    hotline: str
    priority: str
    priority_label: str
    status: str
    status_label: str
    title: str = Field(description="Names and numbers masked unless the caller handles the case")
    assignee: str | None
    assignee_name: str | None
    created_at: str
    updated_at: str
    due_at: str | None
    overdue: bool
    seconds_left: int | None
    sla: str = Field(description="The time limit in words (当日办结, 3个工作日 …)")
    escalated: bool
    transferred_to: str | None
    contact_masked: bool
    version: int


class RegisteredCase(CaseSummary):
    """A case just registered (or replayed), with what the resident is told."""

    check_code: str
    acknowledgement: str


class TranscriptTurn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    text: str
    at: str | None = None
    author: str | None = Field(None, description="Operator turns: who replied")


class FollowupOut(BaseModel):
    due_at: str | None
    at: str | None
    satisfaction: str | None
    satisfaction_label: str | None
    note: str


class NoteOut(BaseModel):
    id: int
    at: str
    author: str
    text: str


class ReplyOut(BaseModel):
    id: int
    case: str
    channel: str
    sender_id: str | None = Field(description="None: the case has no conversation, so the reply is only on record")
    text: str
    created_at: str
    delivered: bool
    undeliverable: str | None = Field(None, description="Why the channel could not deliver it yet (while undelivered)")


class QueuedReply(BaseModel):
    id: int
    case: str
    channel: str
    sender_id: str | None
    created_at: str
    delivered: bool


class CaseView(CaseSummary):
    """The whole case, as its page shows it; personal data masked unless the caller handles it."""

    summary: str
    transcript: list[TranscriptTurn]
    questions: list[str]
    programs: list[str]
    eligibility: dict[str, Any] | None
    contact: dict[str, Any]
    resolution: str
    assigned_at: str | None
    first_response_at: str | None
    resolved_at: str | None
    closed_at: str | None
    followup: FollowupOut
    notes: list[NoteOut]
    replies: list[ReplyOut]


class ResidentStatus(BaseModel):
    """What the resident's lookup tells: no names, no notes."""

    number: str
    type: str
    type_label: str
    status: str
    status_label: str = Field(description="The status in the resident's words")
    hotline: str
    created_at: str
    updated_at: str
    due_at: str | None
    resolution: str = Field(description="Only once the case is resolved or closed")


class AuditEvent(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]


class AuditLog(BaseModel):
    number: str
    events: list[AuditEvent]


class SuggestedCitation(BaseModel):
    id: str | None
    title: str | None
    clause: str | None
    issuer: str | None
    date: str | None
    jurisdiction: str | None
    status: str | None
    source: str | None
    text: str | None = Field(description="At most 400 characters")


class SuggestedAnswer(BaseModel):
    question: str
    answer: str
    citations: list[SuggestedCitation]
    topics: list[str]


class ReplyTemplate(BaseModel):
    id: str
    title: str
    text: str


class Suggestions(BaseModel):
    answers: list[SuggestedAnswer]
    templates: list[ReplyTemplate]
    kb_available: bool


# ------------------------------------------------------------------ responses: queues, dead letters, outbox


class QueueOut(BaseModel):
    queue: str
    cases: list[CaseSummary]
    total: int = Field(description="Cases in the queue with these filters, on every page")
    limit: int
    offset: int


class QueueCounts(BaseModel):
    unassigned: int
    mine: int
    urgent: int
    overdue: int
    followup: int
    dead_letters: int = Field(description="Unresolved dead letters (the console's banner)")


class ClaimOut(BaseModel):
    case: CaseView | None
    message: str | None = Field(description="Set when there was nothing to claim")


class EscalatedOut(BaseModel):
    escalated: list[str] = Field(description="The numbers of the cases escalated now")


class DeadLetterOut(BaseModel):
    id: int
    idempotency_key: str
    case_type: str
    title: str
    summary: str
    error: str
    reported_at: str | None
    received_at: str
    case_number: str | None = Field(description="Its case of last resort")
    resolved_at: str | None
    resolved_by: str | None
    resolution: str
    payload: dict[str, Any] | None = Field(None, description="The report as sent: supervisors only")


class DeadLetterRecorded(BaseModel):
    dead_letter: DeadLetterOut
    case: RegisteredCase | None = Field(description="The case of last resort; None if even that failed")


class DeadLetterList(BaseModel):
    unresolved: int
    dead_letters: list[DeadLetterOut]


class ConversationReplies(BaseModel):
    sender_id: str
    replies: list[ReplyOut]


class WaitingConversations(BaseModel):
    channel: str
    sender_ids: list[str] = Field(description="conversations with replies not yet delivered, longest waiting first")


class ResidentMessageOut(BaseModel):
    case: str | None = Field(description="The open case the message joined; None if the conversation has none")


class MarkedOut(BaseModel):
    marked: list[int] = Field(description="The ids this call marked")
