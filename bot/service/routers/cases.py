"""Case desk JSON API (工单): creation by the bot, queues, workflow, replies, audit.

Thin: validates input, calls bot.cases.desk.CaseDesk with the caller as Actor,
and maps domain errors to HTTP codes. Access rules are on every route
(`require(...)`); the resident's status lookup is the only public route, and it is
throttled per client and overall (bot/throttle), never per case number.

Who may create what (bot/cases/desk.py, CONVERSATION_CHANNELS):
- The bot token (the action server, writing a case from a resident's conversation) is the
  only caller that may link a case to a conversation (`sender_id`: the resident's later
  messages join the case, operator replies go back to that chat), bring its `transcript`
  and use the conversation channels (web, rest, telegram).
- Desk users (operators taking a phone call, supervisors, admins, volunteers reporting)
  record what they took themselves: channel `phone` or `console` (the default: phone, for
  volunteers console), no `sender_id`, no `transcript`; the caller's account goes in the
  summary, under the user's name. Anything else is refused (403) rather than dropped, so a
  client never believes a case is linked to a chat when it is not.
- An idempotency-key replay returns the case only to the principal that created it
  (the bot, or the same user); anyone else gets 409 and no case data.
"""
from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from bot.cases import dead_letters
from bot.cases.desk import MAX_REPORT_AGE, QUEUES, CaseDesk, NewCase
from bot.cases.limits import (
    CONTACT_MAX, ID_MAX, JURISDICTION_MAX, LIST_MAX, ROW_ID_MAX, TEXT_MAX, TIMESTAMP_MAX, TITLE_MAX,
    TRANSCRIPT_MAX_TURNS,
)
from bot.cases.model import (
    CaseError, CaseType, Channel, Conflict, Hotline, IllegalTransition, NotAllowed, NotFound,
    Priority, Role, Satisfaction, Status,
)
from bot.cases.suggest import suggested_answers
from bot.places import UnknownPlace
from bot.throttle import Refusal
from bot.service.errors import ErrorOut, refusals
from bot.service.auth import (
    DESK_ROLES, HANDLER_ROLES, Principal, client_address, current_principal, lookup_throttle, require, too_many,
)

router = APIRouter(prefix="/v1", tags=["cases"])

_desk_lock = threading.Lock()


def get_desk(request: Request) -> CaseDesk:
    """One CaseDesk per app, built on first use from app.state.db."""
    desk = getattr(request.app.state, "case_desk", None)
    if desk is None:
        with _desk_lock:
            desk = getattr(request.app.state, "case_desk", None)
            if desk is None:
                desk = CaseDesk(request.app.state.db)
                request.app.state.case_desk = desk
    return desk


def http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(404, exc.message)
    if isinstance(exc, NotAllowed):
        return HTTPException(403, exc.message)
    if isinstance(exc, (Conflict, IllegalTransition)):
        return HTTPException(409, exc.message)
    if isinstance(exc, UnknownPlace):
        return HTTPException(422, str(exc))
    if isinstance(exc, CaseError):
        return HTTPException(400, exc.message)
    if isinstance(exc, ValueError):
        return HTTPException(422, "取值不在允许范围内")
    raise exc


def run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (CaseError, UnknownPlace, ValueError) as exc:
        raise http_error(exc) from exc


# ------------------------------------------------------------------ schemas

class Turn(BaseModel):
    role: Literal["resident", "bot", "operator", "user"] = "resident"
    text: str = Field(max_length=TEXT_MAX)
    at: str | None = None


class Contact(BaseModel):
    name: str | None = Field(None, max_length=CONTACT_MAX["name"])
    phone: str | None = Field(None, max_length=CONTACT_MAX["phone"])
    id_number: str | None = Field(None, max_length=CONTACT_MAX["id_number"],
                                  description="身份证号; masked for roles that don't need it")
    address: str | None = Field(None, max_length=CONTACT_MAX["address"])
    preferred_time: str | None = Field(None, max_length=CONTACT_MAX["preferred_time"])


class CaseIn(BaseModel):
    type: CaseType
    channel: Channel | None = Field(None, description="Default: web for the bot token, phone for desk users, "
                                                      "console for volunteers. Desk users: phone or console only")
    sender_id: str | None = Field(None, max_length=ID_MAX,
                                  description="Conversation id (Rasa sender id) replies go back to. Bot token only")
    jurisdiction: str | None = Field(None, max_length=JURISDICTION_MAX, description="渠县, 达州市…; decides 12345 or 12349")
    priority: Priority | None = Field(None, description="Default by type; urgent cases are always urgent")
    title: str = Field("", max_length=TITLE_MAX)
    summary: str = Field("", max_length=TEXT_MAX, description="Handoff summary written by the bot")
    transcript: list[Turn] = Field(default_factory=list, max_length=TRANSCRIPT_MAX_TURNS,
                                   description="The bot conversation. Bot token only")
    questions: list[str] = Field(default_factory=list, max_length=LIST_MAX, description="The resident's questions, for suggested answers")
    programs: list[str] = Field(default_factory=list, max_length=LIST_MAX)
    eligibility: dict[str, Any] | None = Field(None, description="The eligibility screen result, as returned by /v1/screen")
    contact: Contact = Field(default_factory=Contact)
    idempotency_key: str | None = Field(None, max_length=ID_MAX, description="Or the Idempotency-Key header")
    reported_at: str | None = Field(
        None, max_length=TIMESTAMP_MAX,
        description="When the resident reported it (ISO 8601). From the bot token only: the case keeps this "
                    "time for created_at and the SLA if it is not in the future and not older than "
                    f"{MAX_REPORT_AGE.days} days; otherwise (or unparseable) the time of arrival is used")


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
    number: str = Field(min_length=4, max_length=32, description="GD…; case, spaces and full-width digits do not matter")
    check_code: str = Field(min_length=4, max_length=16, description="8 characters (older cases: 6 digits)")


RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX)]


class DeliveredIn(BaseModel):
    ids: list[RowId] = Field(max_length=500)


# ------------------------------------------------------------------ creation

# What the routes refuse with (bot/service/errors.py): every route here but the lookup needs a login
# or the bot token (401 without, 403 for a wrong role or a missing X-CSRF-Token); a case route can
# miss its case (404), meet a case whose state does not allow the step (400) or a concurrent change
# (409); a body or parameter that does not fit is 422.
AUTH = refusals(401, 403, 422)
ONE_CASE = refusals(400, 401, 403, 404, 409, 422)


def default_channel(principal: Principal) -> Channel:
    if principal.kind == "bot":
        return Channel.web
    return Channel.console if principal.role == Role.volunteer else Channel.phone


@router.post(
    "/cases", status_code=201, response_model=CaseCreated,
    summary="Create a case (bot token or logged-in user); idempotent with a key",
    responses={
        **refusals(401, 409, 422),
        200: {"model": CaseCreated, "description": "Replay by its creator: the case made with this idempotency key"},
        403: {"model": ErrorOut, "description": "Not this role's to create: a volunteer's case other than a "
                                               "discovery or urgent report, or a desk user's case with a sender_id, "
                                               "a transcript or a conversation channel"},
        409: {"model": ErrorOut, "description": "Someone else already used this idempotency key (nothing of "
                                               "that case is returned)"},
    },
)
def create_case(
    body: CaseIn, response: Response,
    principal: Principal = Depends(require(*DESK_ROLES, Role.volunteer, bot=True)),
    desk: CaseDesk = Depends(get_desk),
    idempotency_key: str | None = Header(None, max_length=ID_MAX),
) -> dict:
    data = NewCase(
        type=body.type, channel=body.channel or default_channel(principal), sender_id=body.sender_id,
        jurisdiction=body.jurisdiction,
        priority=body.priority, title=body.title, summary=body.summary,
        transcript=[t.model_dump() for t in body.transcript], questions=body.questions,
        programs=body.programs, eligibility=body.eligibility,
        contact=body.contact.model_dump(exclude_none=True),
        # Only the action server (which spools reports) may say when a case was reported.
        reported_at=body.reported_at if principal.kind == "bot" else None,
    )
    view, created = run(desk.create_case, data, principal.actor, idempotency_key or body.idempotency_key)
    if not created:
        response.status_code = 200
    return {**view, "created": created}


# ------------------------------------------------------------------ queues

@router.get("/cases", summary="List a queue: unassigned, mine, urgent, overdue, followup, all", responses=AUTH)
def list_cases(
    queue: Literal["unassigned", "mine", "urgent", "overdue", "followup", "all"] = "unassigned",
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require(*DESK_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return {"queue": queue, "cases": run(desk.list_queue, queue, principal.actor, limit)}


@router.get("/cases/counts", summary="Live counts of every queue", responses=refusals(401, 403))
def queue_counts(principal: Principal = Depends(require(*DESK_ROLES)),
                 desk: CaseDesk = Depends(get_desk)) -> dict:
    return {**run(desk.counts, principal.actor), "dead_letters": dead_letters.unresolved_count(desk)}


@router.post("/cases/claim-next", summary="Take the most urgent, then oldest, unclaimed case",
             responses=refusals(401, 403, 409))
def claim_next(principal: Principal = Depends(require(*HANDLER_ROLES)),
               desk: CaseDesk = Depends(get_desk)) -> dict:
    case = run(desk.claim_next, principal.actor)
    return {"case": case, "message": None if case else "暂时没有待领取的工单"}


@router.post("/cases/escalate-overdue", summary="Raise the priority of overdue open cases (once each)",
             responses=refusals(401, 403, 409))
def escalate_overdue(principal: Principal = Depends(require(Role.supervisor, Role.admin)),
                     desk: CaseDesk = Depends(get_desk)) -> dict:
    return {"escalated": run(desk.escalate_overdue, principal.actor)}


def lookup_client(request: Request, conversation: str | None) -> str:
    """Who a lookup is counted against: the caller's address, or, for the bot token
    (the action server asks on behalf of every chat resident from one address), the
    resident's conversation, so one chat user's guessing does not block the others."""
    if conversation:
        principal = current_principal(request)
        if principal is not None and principal.kind == "bot":
            return f"conversation:{conversation}"
    return client_address(request)


@router.post(
    "/cases/lookup", summary="Resident's status lookup by case number and check code (public)",
    responses={**refusals(401, 422, _401="A bot token that is not the service's (sent with X-JZ-Conversation)"),
               404: {"model": ErrorOut, "description": "No case with this number and check code"},
               429: {**refusals(429)[429],
                     "description": "Too many failed lookups from this client, or from everyone lately; the "
                                    "Retry-After header says when to try again"}},
)
def lookup(body: LookupIn, request: Request, desk: CaseDesk = Depends(get_desk),
           x_jz_conversation: str | None = Header(
               None, max_length=ID_MAX,
               description="With the bot token: the resident's conversation id, which the lookup throttle "
                           "counts instead of the caller's address")) -> dict:
    throttle = lookup_throttle(request.app)
    attempt = throttle.begin(lookup_client(request, x_jz_conversation))
    if isinstance(attempt, Refusal):
        raise too_many(attempt)
    try:
        found = desk.lookup(body.number, body.check_code)
    except NotFound as exc:
        throttle.failed(attempt)
        raise http_error(exc) from exc
    throttle.succeeded(attempt)
    return found


# ------------------------------------------------------------------ dead letters

class DeadLetterIn(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=ID_MAX, description="The refused report's key")
    error: str = Field("", description="Why the service refused the report (kept up to 2000 characters)")
    payload: dict[str, Any] = Field(default_factory=dict, description="The report as the action server sent it")


class DeadLetterResolveIn(BaseModel):
    note: str = Field("", max_length=1000, description="What was done (e.g. entered by hand as GD…)")


@router.post("/cases/dead-letters", status_code=201,
             summary="A report the service refused (bot token): stored, made a case of last resort, shown on the console",
             responses=refusals(401, 403, 409, 422))
def report_dead_letter(body: DeadLetterIn, principal: Principal = Depends(require(bot=True)),
                       desk: CaseDesk = Depends(get_desk)) -> dict:
    letter, case = run(dead_letters.record, desk, body.idempotency_key, body.payload, body.error)
    return {"dead_letter": letter, "case": case}


@router.get("/cases/dead-letters", summary="Reports that could not be registered as sent (unresolved first)",
            responses=AUTH)
def list_dead_letters(include_resolved: bool = False, principal: Principal = Depends(require(*DESK_ROLES)),
                      desk: CaseDesk = Depends(get_desk)) -> dict:
    return {"unresolved": dead_letters.unresolved_count(desk),
            "dead_letters": run(dead_letters.list_letters, desk, principal.actor, include_resolved)}


@router.post("/cases/dead-letters/{dead_letter_id}/resolve", summary="Mark a dead letter dealt with (supervisor)",
             responses=refusals(401, 403, 404, 409, 422))
def resolve_dead_letter(dead_letter_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], body: DeadLetterResolveIn,
                        principal: Principal = Depends(require(Role.supervisor, Role.admin)),
                        desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(dead_letters.resolve, desk, dead_letter_id, principal.actor, body.note)


# ------------------------------------------------------------------ one case

@router.get("/cases/{number}", summary="A case with transcript, summary, screen result, notes and replies",
            responses=refusals(401, 403, 404, 422))
def get_case(number: str, principal: Principal = Depends(require(*DESK_ROLES)),
             desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.get, number, principal.actor)


@router.post("/cases/{number}/assign", summary="Assign or reassign to an operator (supervisor)", responses=ONE_CASE)
def assign(number: str, body: AssignIn, principal: Principal = Depends(require(Role.supervisor, Role.admin)),
           desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.assign, number, body.username, principal.actor)


@router.post("/cases/{number}/transfer", summary="Transfer to the other hotline or a department", responses=ONE_CASE)
def transfer(number: str, body: TransferIn, principal: Principal = Depends(require(*HANDLER_ROLES)),
             desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.transfer, number, principal.actor, hotline=body.hotline,
               department=body.department, reason=body.reason)


@router.post("/cases/{number}/status", summary="Move the case along the workflow", responses=ONE_CASE)
def change_status(number: str, body: StatusIn, principal: Principal = Depends(require(*HANDLER_ROLES)),
                  desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.change_status, number, Status(body.status), principal.actor,
               reason=body.reason, resolution=body.resolution)


@router.post("/cases/{number}/notes", status_code=201, summary="Add an internal note (never shown to the resident)",
             responses={**ONE_CASE,
                        403: {"model": ErrorOut, "description": "Not the case's handler: only its assignee or a "
                                                               "supervisor writes notes, as for replies"}})
def add_note(number: str, body: TextIn, principal: Principal = Depends(require(*HANDLER_ROLES)),
             desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.add_note, number, body.text, principal.actor)


@router.post("/cases/{number}/replies", status_code=201, summary="Reply to the resident in their channel",
             responses={**ONE_CASE,
                        403: {"model": ErrorOut, "description": "Not the case's handler (its assignee or a supervisor)"}})
def reply(number: str, body: TextIn, principal: Principal = Depends(require(*HANDLER_ROLES)),
          desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.reply, number, body.text, principal.actor)


@router.post("/cases/{number}/followup", summary="Record the satisfaction follow-up (回访)", responses=ONE_CASE)
def followup(number: str, body: FollowupIn, principal: Principal = Depends(require(*HANDLER_ROLES)),
             desk: CaseDesk = Depends(get_desk)) -> dict:
    return run(desk.record_followup, number, body.satisfaction, body.note, principal.actor)


@router.get("/cases/{number}/audit", summary="The case's append-only audit log",
            responses=refusals(401, 403, 404, 422))
def audit(number: str, principal: Principal = Depends(require(Role.supervisor, Role.admin)),
          desk: CaseDesk = Depends(get_desk)) -> dict:
    return {"number": number, "events": run(desk.audit_log, number)}


@router.get("/cases/{number}/suggestions", summary="Knowledge-base answers with citations, and reply templates",
            responses=refusals(401, 403, 404, 422))
def suggestions(number: str, request: Request, principal: Principal = Depends(require(*HANDLER_ROLES)),
                desk: CaseDesk = Depends(get_desk)) -> dict:
    case = run(desk.get, number, principal.actor)
    return suggested_answers(case, kb=getattr(request.app.state, "kb", None))


# ------------------------------------------------------------------ outbox for channel relays

@router.get(
    "/conversations/{sender_id}/replies", tags=["cases", "web chat"],
    summary="Operator replies waiting for a conversation (bot token); consume=true marks them delivered",
    responses=refusals(401, 403, 409, 422),
)
def conversation_replies(
    sender_id: str, consume: bool = False, channel: Channel | None = None,
    principal: Principal = Depends(require(bot=True)), desk: CaseDesk = Depends(get_desk),
) -> dict:
    if consume:
        replies = run(desk.consume_replies, sender_id, channel)
    else:
        replies = run(desk.pending_replies, sender_id, channel)
    return {"sender_id": sender_id, "replies": replies}


class ResidentMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    channel: Channel | None = None


@router.post("/conversations/{sender_id}/messages", tags=["cases", "web chat"],
             summary="A resident's message after the handover, added to their open case (bot token)",
             responses=refusals(401, 403, 409, 422))
def resident_message(sender_id: str, body: ResidentMessageIn, principal: Principal = Depends(require(bot=True)),
                     desk: CaseDesk = Depends(get_desk)) -> dict:
    return {"case": run(desk.add_resident_message, sender_id, body.text, body.channel)}


@router.post("/conversations/{sender_id}/replies/delivered", tags=["cases", "web chat"],
             summary="Mark replies delivered after showing them (bot token)",
             responses=refusals(401, 403, 409, 422))
def replies_delivered(sender_id: str, body: DeliveredIn, principal: Principal = Depends(require(bot=True)),
                      desk: CaseDesk = Depends(get_desk)) -> dict:
    return {"marked": run(desk.mark_delivered, body.ids, sender_id)}


class UndeliverableIn(DeliveredIn):
    reason: str = Field(min_length=1, max_length=200, description="Why the channel cannot deliver them, for the operator")


@router.post("/conversations/{sender_id}/replies/undeliverable", tags=["cases", "web chat"],
             summary="Tell the desk replies cannot be delivered now, e.g. WeChat's 48-hour window closed (bot token)",
             responses=refusals(401, 403, 409, 422))
def replies_undeliverable(sender_id: str, body: UndeliverableIn, principal: Principal = Depends(require(bot=True)),
                          desk: CaseDesk = Depends(get_desk)) -> dict:
    return {"marked": run(desk.mark_undeliverable, body.ids, sender_id, body.reason)}


QUEUE_NAMES = QUEUES
