"""Operator console (坐席工作台): server-rendered Chinese pages over the case desk.

Every page needs a login (require_page; logging in and out is console_login.py); every
form POST carries a CSRF token (checked by the route rule). Actions redirect back with a
one-time flash message.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from bot.case_limits import ROW_ID_MAX
from bot.cases import dead_letters
from bot.cases.desk import CaseDesk, NewCase
from bot.cases.model import (
    ROLE_LABELS,
    SATISFACTION_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    CaseError,
    CaseType,
    Channel,
    Role,
    Status,
)
from bot.cases.suggest import suggested_answers
from bot.cases.users import assignable_users, on_shift
from bot.cases.visit_rules import load_table
from bot.places import UnknownPlace, known_places
from bot.service.auth import DESK_ROLES, HANDLER_ROLES, Principal
from bot.service.console_pages import redirect, render
from bot.service.deps import get_desk, require_page

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

# Status actions offered on the case page (the workflow decides which apply).
STATUS_ACTIONS = {
    Status.in_progress: "开始处理",
    Status.waiting_resident: "等待群众补充",
    Status.resolved: "办结",
    Status.closed: "归档",
    Status.reopened: "重新打开",
    Status.new: "退回待领取",
}


# ------------------------------------------------------------------ queues (the page itself: console_queues.py)


@router.post("/claim-next")
def claim_next(
    request: Request, principal: Principal = Depends(require_page(*HANDLER_ROLES)), desk: CaseDesk = Depends(get_desk)
):
    try:
        case = desk.claim_next(principal.actor)
    except CaseError as exc:
        return redirect(request, "/console", exc.message, error=True)
    if case is None:
        return redirect(request, "/console?queue=unassigned", "暂时没有待领取的工单")
    return redirect(request, f"/console/cases/{case['number']}", f"已领取工单 {case['number']}")


@router.post("/escalate-overdue")
def escalate(
    request: Request,
    principal: Principal = Depends(require_page(Role.supervisor, Role.admin)),
    desk: CaseDesk = Depends(get_desk),
):
    done = desk.escalate_overdue(principal.actor)
    return redirect(request, "/console?queue=overdue", f"已升级 {len(done)} 张超时工单")


# ------------------------------------------------------------------ dead letters


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letter_page(
    request: Request,
    all: bool = False,
    principal: Principal = Depends(require_page(*DESK_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    return render(
        request,
        "console/dead_letters.html",
        principal,
        letters=dead_letters.list_letters(desk, principal.actor, include_resolved=all),
        show_all=all,
        can_resolve=principal.role in (Role.supervisor, Role.admin),
        dead_letter_count=dead_letters.unresolved_count(desk),
    )


@router.post("/dead-letters/{dead_letter_id}/resolve")
def dead_letter_resolve(
    dead_letter_id: Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)],
    request: Request,
    note: str = Form("", max_length=1000),
    principal: Principal = Depends(require_page(Role.supervisor, Role.admin)),
    desk: CaseDesk = Depends(get_desk),
):
    try:
        dead_letters.resolve(desk, dead_letter_id, principal.actor, note)
    except CaseError as exc:
        return redirect(request, "/console/dead-letters", exc.message, error=True)
    return redirect(request, "/console/dead-letters", f"已标记处理：#{dead_letter_id}")


# ------------------------------------------------------------------ case page


@router.get("/cases/{number}", response_class=HTMLResponse)
def case_page(
    number: str,
    request: Request,
    principal: Principal = Depends(require_page(*DESK_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    try:
        case = desk.get(number, principal.actor)
    except CaseError as exc:
        return redirect(request, "/console", exc.message, error=True)
    is_handler = principal.role == Role.supervisor or (
        principal.role == Role.operator and case["assignee"] == principal.actor.name.removeprefix("user:")
    )
    suggestions = {"answers": [], "templates": [], "kb_available": False}
    if is_handler:
        suggestions = suggested_answers(case, kb=getattr(request.app.state, "kb", None))
    allowed = TRANSITIONS[Status(case["status"])]
    can_assign = principal.role in (Role.supervisor, Role.admin)
    actions = [(s.value, label) for s, label in STATUS_ACTIONS.items() if s in allowed]
    return render(
        request,
        "console/case.html",
        principal,
        case=case,
        suggestions=suggestions,
        is_handler=is_handler,
        visit_labels=visit_labels(request.app.state.settings.policy_kb_dir) if case.get("visit") else None,
        actions=actions,
        satisfaction_labels=SATISFACTION_LABELS,
        can_assign=can_assign,
        assignees=_assignees(desk) if can_assign else [],
        status_labels=STATUS_LABELS,
    )


def _assignees(desk: CaseDesk) -> list[dict]:
    """The <select> of the assign form: active operators and supervisors, those on shift (the
    console open within the last 15 minutes) first and marked 在岗."""
    now = desk.clock()
    with desk.db.session() as s:
        return [
            {
                "id": u.id,
                "label": f"{u.display_name or u.username}（{ROLE_LABELS[Role(u.role)]}{'，在岗' if on_shift(u, now) else ''}）",
                "username": u.username,
            }
            for u in assignable_users(s, now)
        ]


def _case_action(request: Request, number: str, fn, ok: str):
    back = f"/console/cases/{quote(number)}"
    try:
        fn()
    except (CaseError, UnknownPlace, ValueError) as exc:
        return redirect(request, back, getattr(exc, "message", None) or str(exc), error=True)
    return redirect(request, back, ok)


@router.post("/cases/{number}/status")
def case_status(
    number: str,
    request: Request,
    status: str = Form(...),
    reason: str = Form("", max_length=500),
    resolution: str = Form("", max_length=4000),
    principal: Principal = Depends(require_page(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    if status not in {s.value for s in STATUS_ACTIONS}:
        return redirect(request, f"/console/cases/{quote(number)}", "不支持的操作", error=True)
    return _case_action(
        request,
        number,
        lambda: desk.change_status(number, status, principal.actor, reason=reason, resolution=resolution),
        f"已改为“{STATUS_LABELS[Status(status)]}”",
    )


@router.post("/cases/{number}/note")
def case_note(
    number: str,
    request: Request,
    text: str = Form(..., max_length=4000),
    principal: Principal = Depends(require_page(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    return _case_action(request, number, lambda: desk.add_note(number, text, principal.actor), "备注已保存")


@router.post("/cases/{number}/reply")
def case_reply(
    number: str,
    request: Request,
    text: str = Form(..., max_length=4000),
    principal: Principal = Depends(require_page(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    return _case_action(request, number, lambda: desk.reply(number, text, principal.actor), "回复已发送给群众")


@router.post("/cases/{number}/assign")
def case_assign(
    number: str,
    request: Request,
    user_id: int = Form(..., ge=1, le=ROW_ID_MAX),
    principal: Principal = Depends(require_page(Role.supervisor, Role.admin)),
    desk: CaseDesk = Depends(get_desk),
):
    # The id chosen in the list is checked again here: an active operator or supervisor.
    with desk.db.session() as s:
        chosen = next((u for u in assignable_users(s) if u.id == user_id), None)
        username, name = (chosen.username, chosen.display_name or chosen.username) if chosen else ("", "")
    if chosen is None:
        return redirect(request, f"/console/cases/{quote(number)}", "不能分派：没有这个在岗的话务员", error=True)
    return _case_action(request, number, lambda: desk.assign(number, username, principal.actor), f"已分派给 {name}")


@router.post("/cases/{number}/transfer")
def case_transfer(
    number: str,
    request: Request,
    hotline: str = Form(""),
    department: str = Form("", max_length=60),
    reason: str = Form("", max_length=500),
    principal: Principal = Depends(require_page(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    return _case_action(
        request,
        number,
        lambda: desk.transfer(
            number, principal.actor, hotline=hotline or None, department=department or None, reason=reason
        ),
        "已转办",
    )


@router.post("/cases/{number}/followup")
def case_followup(
    number: str,
    request: Request,
    satisfaction: str = Form(...),
    note: str = Form("", max_length=4000),
    principal: Principal = Depends(require_page(*HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    return _case_action(
        request, number, lambda: desk.record_followup(number, satisfaction, note, principal.actor), "回访已记录"
    )


# ------------------------------------------------------------------ volunteers' reports


@router.get("/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    principal: Principal = Depends(require_page(Role.volunteer, *HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    return render(
        request, "console/report.html", principal, places=known_places(), reports=desk.list_reported(principal.actor)
    )


@router.post("/report")
def report(
    request: Request,
    type: str = Form("discovery"),
    jurisdiction: str = Form(..., max_length=32),
    title: str = Form(..., max_length=200),
    summary: str = Form("", max_length=4000),
    name: str = Form("", max_length=50),
    phone: str = Form("", max_length=30),
    address: str = Form("", max_length=200),
    principal: Principal = Depends(require_page(Role.volunteer, *HANDLER_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    if type not in (CaseType.discovery, CaseType.urgent):
        return redirect(request, "/console/report", "线索类型不正确", error=True)
    data = NewCase(
        type=type,
        channel=Channel.console,
        jurisdiction=jurisdiction,
        title=title,
        summary=summary,
        contact={"name": name, "phone": phone, "address": address},
    )
    try:
        view, _ = desk.create_case(data, principal.actor)
    except (CaseError, UnknownPlace, ValueError) as exc:
        return redirect(request, "/console/report", getattr(exc, "message", None) or str(exc), error=True)
    return redirect(request, "/console/report", f"已上报，工单号 {view['number']}")


def visit_labels(kb_dir) -> dict[str, dict[str, str]]:
    """The checklist's Chinese labels, for a volunteer's visit on the case page."""
    table = load_table(kb_dir)
    return {kind: table.labels(kind) for kind in ("groups", "signs", "consent")}
