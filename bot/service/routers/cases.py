"""Case desk JSON API (工单): creation, queues, the resident's lookup, dead letters.

Thin: validates input (bot/service/case_schemas.py), calls bot.cases.desk.CaseDesk with the
caller as Actor and returns what it gives. The desk's refusals become HTTP answers in the
app's handlers (bot/service/errors.py). Access rules are on every route (`require(...)`,
bot/service/deps.py); the resident's status lookup is the only public route, and it is
throttled per client and overall (bot/throttle), never per case number. One case's routes
(/v1/cases/{number}: reading it, the workflow's steps, audit, suggestions) are
case_workflow.py; the replies outbox for the channel relays is conversations.py.

Who may create what (bot/cases/intake.py, CONVERSATION_CHANNELS):
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

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response

from bot.case_limits import ID_MAX, ROW_ID_MAX
from bot.cases import dead_letters
from bot.cases.desk import CaseDesk, NewCase
from bot.cases.listing import LIMIT_MAX, OFFSET_MAX
from bot.cases.model import CaseError, CaseType, Channel, Hotline, NotFound, Priority, Role, Status
from bot.cases.search import parse_filters, parse_search
from bot.service.auth import (
    DESK_ROLES,
    HANDLER_ROLES,
    Principal,
    client_address,
    current_principal,
    lookup_throttle,
    too_many,
)
from bot.service.case_schemas import (  # noqa: F401  (CaseIn: tests/actions/test_limits.py reads it here)
    CaseCreated,
    CaseIn,
    ClaimOut,
    DeadLetterIn,
    DeadLetterList,
    DeadLetterOut,
    DeadLetterRecorded,
    DeadLetterResolveIn,
    EscalatedOut,
    LookupIn,
    QueueCounts,
    QueueOut,
    ResidentStatus,
)
from bot.service.deps import get_desk, require  # noqa: F401  (get_desk: older imports and tests use it from here)
from bot.service.errors import DeskRoute, ErrorOut, refusals
from bot.throttle import Refusal

router = APIRouter(prefix="/v1", tags=["cases"], route_class=DeskRoute)

# What the routes refuse with (bot/service/errors.py): every route here but the lookup needs a login
# or the bot token (401 without, 403 for a wrong role or a missing X-CSRF-Token); a body or
# parameter that does not fit is 422.
AUTH = refusals(401, 403, 422)


def default_channel(principal: Principal) -> Channel:
    if principal.kind == "bot":
        return Channel.web
    return Channel.console if principal.role == Role.volunteer else Channel.phone


# ------------------------------------------------------------------ creation


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseCreated,
    summary="Create a case (bot token or logged-in user); idempotent with a key",
    responses={
        **refusals(401, 409, 422),
        200: {"model": CaseCreated, "description": "Replay by its creator: the case made with this idempotency key"},
        403: {
            "model": ErrorOut,
            "description": "Not this role's to create: a volunteer's case other than a "
            "discovery or urgent report, or a desk user's case with a sender_id, "
            "a transcript or a conversation channel",
        },
        409: {
            "model": ErrorOut,
            "description": "Someone else already used this idempotency key (nothing of that case is returned)",
        },
    },
)
def create_case(
    body: CaseIn,
    response: Response,
    principal: Principal = Depends(require(*DESK_ROLES, Role.volunteer, bot=True)),
    desk: CaseDesk = Depends(get_desk),
    idempotency_key: str | None = Header(None, max_length=ID_MAX),
) -> dict:
    data = NewCase(
        type=body.type,
        channel=body.channel or default_channel(principal),
        sender_id=body.sender_id,
        jurisdiction=body.jurisdiction,
        priority=body.priority,
        title=body.title,
        summary=body.summary,
        transcript=[t.model_dump() for t in body.transcript],
        questions=body.questions,
        programs=body.programs,
        eligibility=body.eligibility,
        contact=body.contact.model_dump(exclude_none=True),
        # Only the action server (which spools reports) may say when a case was reported.
        reported_at=body.reported_at if principal.kind == "bot" else None,
    )
    view, created = desk.create_case(data, principal.actor, idempotency_key or body.idempotency_key)
    if not created:
        response.status_code = 200
    return {**view, "created": created}


# ------------------------------------------------------------------ queues


@router.get(
    "/cases",
    response_model=QueueOut,
    summary="List a queue: unassigned, mine, urgent, overdue, followup, all",
    responses=AUTH,
)
def list_cases(
    queue: Literal["unassigned", "mine", "urgent", "overdue", "followup", "all"] = "unassigned",
    limit: int = Query(100, ge=1, le=LIMIT_MAX, description=f"Cases per page, at most {LIMIT_MAX}"),
    offset: int = Query(
        0, ge=0, le=OFFSET_MAX, description="Cases to skip: offset paging in the queue's order, then the case id"
    ),
    type: CaseType | None = None,
    place: str | None = Query(None, max_length=32, description="A served place (达州 takes the places under it too)"),
    hotline: Hotline | None = None,
    priority: Priority | None = None,
    status: Status | None = None,
    overdue: bool = Query(False, description="Only cases past their time limit"),
    q: str | None = Query(
        None,
        max_length=50,
        description="A case number (with or without GD), a phone (whole or its last 4 digits) or part of a name",
    ),
    principal: Principal = Depends(require(*DESK_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    raw = {"type": type, "place": place, "hotline": hotline, "priority": priority, "status": status}
    try:
        filters = parse_filters({**{k: v or "" for k, v in raw.items()}, "overdue": "1" if overdue else ""})
        term = parse_search(q)
    except CaseError as exc:
        raise HTTPException(422, exc.message) from None
    page = desk.page_queue(queue, principal.actor, filters, term, limit, offset)
    return {"queue": queue, "cases": page.cases, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get(
    "/cases/counts", response_model=QueueCounts, summary="Live counts of every queue", responses=refusals(401, 403)
)
def queue_counts(principal: Principal = Depends(require(*DESK_ROLES)), desk: CaseDesk = Depends(get_desk)) -> dict:
    return {**desk.counts(principal.actor), "dead_letters": dead_letters.unresolved_count(desk)}


@router.post(
    "/cases/claim-next",
    response_model=ClaimOut,
    response_model_exclude_unset=True,
    summary="Take the most urgent, then oldest, unclaimed case",
    responses=refusals(401, 403, 409),
)
def claim_next(principal: Principal = Depends(require(*HANDLER_ROLES)), desk: CaseDesk = Depends(get_desk)) -> dict:
    case = desk.claim_next(principal.actor)
    return {"case": case, "message": None if case else "暂时没有待领取的工单"}


@router.post(
    "/cases/escalate-overdue",
    response_model=EscalatedOut,
    summary="Raise the priority of overdue open cases (once each)",
    responses=refusals(401, 403, 409),
)
def escalate_overdue(
    principal: Principal = Depends(require(Role.supervisor, Role.admin)), desk: CaseDesk = Depends(get_desk)
) -> dict:
    return {"escalated": desk.escalate_overdue(principal.actor)}


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
    "/cases/lookup",
    response_model=ResidentStatus,
    summary="Resident's status lookup by case number and check code (public)",
    responses={
        **refusals(401, 422, _401="A bot token that is not the service's (sent with X-JZ-Conversation)"),
        404: {"model": ErrorOut, "description": "No case with this number and check code"},
        429: {
            **refusals(429)[429],
            "description": "Too many failed lookups from this client, or from everyone lately; the "
            "Retry-After header says when to try again",
        },
    },
)
def lookup(
    body: LookupIn,
    request: Request,
    desk: CaseDesk = Depends(get_desk),
    x_jz_conversation: str | None = Header(
        None,
        max_length=ID_MAX,
        description="With the bot token: the resident's conversation id, which the lookup throttle "
        "counts instead of the caller's address",
    ),
) -> dict:
    throttle = lookup_throttle(request.app)
    attempt = throttle.begin(lookup_client(request, x_jz_conversation))
    if isinstance(attempt, Refusal):
        raise too_many(attempt)
    try:
        found = desk.lookup(body.number, body.check_code)
    except NotFound:
        throttle.failed(attempt)  # a wrong pair counts against the client; the 404 is the app's
        raise
    throttle.succeeded(attempt)
    return found


# ------------------------------------------------------------------ dead letters


@router.post(
    "/cases/dead-letters",
    status_code=201,
    response_model=DeadLetterRecorded,
    response_model_exclude_unset=True,
    summary="A report the service refused (bot token): stored, made a case of last resort, shown on the console",
    responses=refusals(401, 403, 409, 422),
)
def report_dead_letter(
    body: DeadLetterIn, principal: Principal = Depends(require(bot=True)), desk: CaseDesk = Depends(get_desk)
) -> dict:
    letter, case = dead_letters.record(desk, body.idempotency_key, body.payload, body.error)
    return {"dead_letter": letter, "case": case}


@router.get(
    "/cases/dead-letters",
    response_model=DeadLetterList,
    response_model_exclude_unset=True,
    summary="Reports that could not be registered as sent (unresolved first)",
    responses=AUTH,
)
def list_dead_letters(
    include_resolved: bool = False,
    principal: Principal = Depends(require(*DESK_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return {
        "unresolved": dead_letters.unresolved_count(desk),
        "dead_letters": dead_letters.list_letters(desk, principal.actor, include_resolved),
    }


@router.post(
    "/cases/dead-letters/{dead_letter_id}/resolve",
    response_model=DeadLetterOut,
    response_model_exclude_unset=True,
    summary="Mark a dead letter dealt with (supervisor)",
    responses=refusals(401, 403, 404, 409, 422),
)
def resolve_dead_letter(
    dead_letter_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    body: DeadLetterResolveIn,
    principal: Principal = Depends(require(Role.supervisor, Role.admin)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return dead_letters.resolve(desk, dead_letter_id, principal.actor, body.note)
