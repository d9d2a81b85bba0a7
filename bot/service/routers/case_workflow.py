"""One case over the case desk's JSON API (工单): /v1/cases/{number} and the steps on it.

Reading it, assigning, transferring, moving it along the workflow, notes, replies to the
resident, the follow-up, its audit log and suggested answers; thin, as cases.py (creation,
queues, the lookup, dead letters). The app includes this router after cases.py's, so a fixed
path there (/cases/counts, /cases/dead-letters …) is never taken for a {number}.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from bot.cases.desk import CaseDesk
from bot.cases.model import Role, Status
from bot.cases.suggest import suggested_answers
from bot.service.auth import DESK_ROLES, HANDLER_ROLES, Principal
from bot.service.case_schemas import (
    AssignIn,
    AuditLog,
    CaseView,
    FollowupIn,
    NoteOut,
    QueuedReply,
    StatusIn,
    Suggestions,
    TextIn,
    TransferIn,
)
from bot.service.deps import get_desk, require
from bot.service.errors import DeskRoute, ErrorOut, refusals

router = APIRouter(prefix="/v1", tags=["cases"], route_class=DeskRoute)

# What a route on one case refuses with (bot/service/errors.py): no login (401), a wrong role or a
# missing X-CSRF-Token (403), no such case (404), a case whose state does not allow the step (400)
# or a concurrent change (409), a body or parameter that does not fit (422).
ONE_CASE = refusals(400, 401, 403, 404, 409, 422)
# A whole case: its transcript turns and replies have keys that only some carry (case_schemas.py).
WHOLE_CASE = {"response_model": CaseView, "response_model_exclude_unset": True}


@router.get(
    "/cases/{number}",
    **WHOLE_CASE,
    summary="A case with transcript, summary, screen result, notes and replies",
    responses=refusals(401, 403, 404, 422),
)
def get_case(
    number: str, principal: Principal = Depends(require(*DESK_ROLES)), desk: CaseDesk = Depends(get_desk)
) -> dict:
    return desk.get(number, principal.actor)


@router.post(
    "/cases/{number}/assign", **WHOLE_CASE, summary="Assign or reassign to an operator (supervisor)", responses=ONE_CASE
)
def assign(
    number: str,
    body: AssignIn,
    principal: Principal = Depends(require(Role.supervisor, Role.admin)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return desk.assign(number, body.username, principal.actor)


@router.post(
    "/cases/{number}/transfer",
    **WHOLE_CASE,
    summary="Transfer to the other hotline or a department",
    responses=ONE_CASE,
)
def transfer(
    number: str,
    body: TransferIn,
    principal: Principal = Depends(require(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return desk.transfer(number, principal.actor, hotline=body.hotline, department=body.department, reason=body.reason)


@router.post("/cases/{number}/status", **WHOLE_CASE, summary="Move the case along the workflow", responses=ONE_CASE)
def change_status(
    number: str,
    body: StatusIn,
    principal: Principal = Depends(require(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return desk.change_status(
        number, Status(body.status), principal.actor, reason=body.reason, resolution=body.resolution
    )


@router.post(
    "/cases/{number}/notes",
    status_code=201,
    response_model=NoteOut,
    summary="Add an internal note (never shown to the resident)",
    responses={
        **ONE_CASE,
        403: {
            "model": ErrorOut,
            "description": "Not the case's handler: only its assignee or a supervisor writes notes, as for replies",
        },
    },
)
def add_note(
    number: str,
    body: TextIn,
    principal: Principal = Depends(require(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return desk.add_note(number, body.text, principal.actor)


@router.post(
    "/cases/{number}/replies",
    status_code=201,
    response_model=QueuedReply,
    summary="Reply to the resident in their channel",
    responses={
        **ONE_CASE,
        403: {"model": ErrorOut, "description": "Not the case's handler (its assignee or a supervisor)"},
    },
)
def reply(
    number: str,
    body: TextIn,
    principal: Principal = Depends(require(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return desk.reply(number, body.text, principal.actor)


@router.post(
    "/cases/{number}/followup", **WHOLE_CASE, summary="Record the satisfaction follow-up (回访)", responses=ONE_CASE
)
def followup(
    number: str,
    body: FollowupIn,
    principal: Principal = Depends(require(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return desk.record_followup(number, body.satisfaction, body.note, principal.actor)


@router.get(
    "/cases/{number}/audit",
    response_model=AuditLog,
    summary="The case's append-only audit log",
    responses=refusals(401, 403, 404, 422),
)
def audit(
    number: str,
    principal: Principal = Depends(require(Role.supervisor, Role.admin)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return {"number": number, "events": desk.audit_log(number)}


@router.get(
    "/cases/{number}/suggestions",
    response_model=Suggestions,
    summary="Knowledge-base answers with citations, and reply templates",
    responses=refusals(401, 403, 404, 422),
)
def suggestions(
    number: str,
    request: Request,
    principal: Principal = Depends(require(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    case = desk.get(number, principal.actor)
    return suggested_answers(case, kb=getattr(request.app.state, "kb", None))
