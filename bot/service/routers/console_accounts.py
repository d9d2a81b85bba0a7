"""Account management in the console (账号管理), for admins only: the list of accounts,
creating one, deactivating and reactivating, a temporary password, the role, the name,
resetting two-step login, and each account's audit log.

Thin over bot/cases/accounts.py, which holds the rules (not oneself, not the last admin)
and writes the audit rows. Every route is admin-only (require_page: a supervisor or an
operator gets the 403) and every POST carries the CSRF token. A temporary password is
shown once, in the answer to the POST itself (never in a cookie or a URL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from bot.case_limits import ROW_ID_MAX
from bot.cases import accounts
from bot.cases.model import ROLE_LABELS, CaseError, Role
from bot.cases.store import User
from bot.db import Database
from bot.service.auth import Principal
from bot.service.console_pages import redirect, render
from bot.service.deps import get_db, require_page

router = APIRouter(prefix="/console/admin/users", tags=["console"], include_in_schema=False)

ADMIN_ONLY = require_page(Role.admin)
UserId = Annotated[int, PathParam(ge=1, le=ROW_ID_MAX)]
LIST = "/console/admin/users"


def _page(user_id: int) -> str:
    return f"{LIST}/{user_id}"


def _change(
    request: Request, db: Database, back: str, change: Callable[[Session], User], ok: Callable[[User], str]
) -> Response:
    """Runs one account change (and its audit row) in a transaction; back with a flash message."""
    with db.session() as s:
        try:
            user = change(s)
        except CaseError as exc:
            return redirect(request, back, exc.message, error=True)
        s.commit()
    return redirect(request, back, ok(user))


def _password_once(request: Request, principal: Principal, user: User, password: str, created: bool) -> HTMLResponse:
    return render(
        request,
        "console/password_once.html",
        principal,
        account=accounts.account_view(user),
        password=password,
        created=created,
    )


@router.get("", response_class=HTMLResponse)
def account_list(request: Request, principal: Principal = Depends(ADMIN_ONLY), db: Database = Depends(get_db)):
    with db.session() as s:
        rows = accounts.list_accounts(s)
    return render(request, "console/admin_users.html", principal, accounts=rows, roles=ROLE_LABELS)


@router.post("")
def account_create(
    request: Request,
    username: str = Form(..., max_length=64),
    display_name: str = Form("", max_length=64),
    role: str = Form(..., max_length=16),
    principal: Principal = Depends(ADMIN_ONLY),
    db: Database = Depends(get_db),
):
    with db.session() as s:
        try:
            user, password = accounts.create_account(s, principal.actor, username, role, display_name)
        except CaseError as exc:
            return redirect(request, LIST, exc.message, error=True)
        s.commit()
    assert password is not None  # no password given: a temporary one
    return _password_once(request, principal, user, password, created=True)


@router.get("/{user_id}", response_class=HTMLResponse)
def account_page(
    user_id: UserId, request: Request, principal: Principal = Depends(ADMIN_ONLY), db: Database = Depends(get_db)
):
    with db.session() as s:
        try:
            account = accounts.account_view(accounts.target(s, user_id))
        except CaseError as exc:
            return redirect(request, LIST, exc.message, error=True)
        events = accounts.account_events(s, user_id)
    return render(
        request,
        "console/admin_user.html",
        principal,
        account=account,
        events=events,
        roles=ROLE_LABELS,
        is_self=principal.actor.user_id == user_id,
    )


@router.post("/{user_id}/deactivate")
def account_deactivate(
    user_id: UserId,
    request: Request,
    back: str = Form("list", max_length=8),
    principal: Principal = Depends(ADMIN_ONLY),
    db: Database = Depends(get_db),
):
    return _change(
        request,
        db,
        _page(user_id) if back == "page" else LIST,
        lambda s: accounts.deactivate(s, principal.actor, user_id),
        lambda u: f"已停用账号 {u.username}，其登录已立即失效",
    )


@router.post("/{user_id}/reactivate")
def account_reactivate(
    user_id: UserId,
    request: Request,
    back: str = Form("list", max_length=8),
    principal: Principal = Depends(ADMIN_ONLY),
    db: Database = Depends(get_db),
):
    return _change(
        request,
        db,
        _page(user_id) if back == "page" else LIST,
        lambda s: accounts.reactivate(s, principal.actor, user_id),
        lambda u: f"已重新启用账号 {u.username}",
    )


@router.post("/{user_id}/password", response_class=HTMLResponse)
def account_reset_password(
    user_id: UserId, request: Request, principal: Principal = Depends(ADMIN_ONLY), db: Database = Depends(get_db)
):
    with db.session() as s:
        try:
            user, password = accounts.reset_password(s, principal.actor, user_id)
        except CaseError as exc:
            return redirect(request, _page(user_id), exc.message, error=True)
        s.commit()
    return _password_once(request, principal, user, password, created=False)


@router.post("/{user_id}/role")
def account_role(
    user_id: UserId,
    request: Request,
    role: str = Form(..., max_length=16),
    principal: Principal = Depends(ADMIN_ONLY),
    db: Database = Depends(get_db),
):
    return _change(
        request,
        db,
        _page(user_id),
        lambda s: accounts.change_role(s, principal.actor, user_id, role),
        lambda u: f"{u.username} 的角色已改为{ROLE_LABELS[Role(u.role)]}，需重新登录",
    )


@router.post("/{user_id}/name")
def account_name(
    user_id: UserId,
    request: Request,
    display_name: str = Form(..., max_length=64),
    principal: Principal = Depends(ADMIN_ONLY),
    db: Database = Depends(get_db),
):
    return _change(
        request,
        db,
        _page(user_id),
        lambda s: accounts.change_display_name(s, principal.actor, user_id, display_name),
        lambda u: f"姓名已改为 {u.display_name}",
    )


@router.post("/{user_id}/2fa/reset")
def account_reset_two_factor(
    user_id: UserId, request: Request, principal: Principal = Depends(ADMIN_ONLY), db: Database = Depends(get_db)
):
    return _change(
        request,
        db,
        _page(user_id),
        lambda s: accounts.reset_two_factor(s, principal.actor, user_id),
        lambda u: f"已关闭 {u.username} 的两步验证，本人可以重新开启",
    )
