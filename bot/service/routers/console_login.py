"""Operator console sign-in (坐席工作台登录): the login page and form, and logout.

The one console route without a session: its form proves it came from the login page with
a pre-login token (a cookie and a hidden field) instead of the CSRF token, and the login
throttle (bot/throttle/policy.py) answers before any password is checked. The pages behind
the login are console.py.

Two-step login (bot/cases/totp.py) is one form: the code field is filled by those who turned
it on. A wrong password and a wrong code get the same answer (nothing tells which was
wrong) and count alike in the throttle. After a temporary password (bot/cases/accounts.py)
the user gets no session yet but a form for a new password, carrying a signed token
(10 minutes, void once the password changes); the session comes with the new password.
"""

from __future__ import annotations

import asyncio
import random
import time

import anyio
from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.cases import accounts, totp
from bot.cases.model import CaseError, Role
from bot.cases.store import User
from bot.cases.users import (
    complete_login,
    find_login_user,
    get_user,
    normalize_username,
    observe_verify_seconds,
    typical_verify_seconds,
    verify_password,
)
from bot.db import Database
from bot.service.auth import (
    ALL_ROLES,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    Principal,
    client_address,
    login_throttle,
    password_check_limiter,
    prelogin_token,
    prelogin_valid,
    secret_key,
)
from bot.service.console_pages import redirect, render, safe_next, sign_in
from bot.service.deps import get_db, require_page
from bot.throttle import Refusal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

# How long a refused login waits for its 429 (at most the Retry-After itself).
REFUSAL_PAUSE_SECONDS = 1.0
WRONG_LOGIN = "用户名、密码或验证码不正确"
NEW_PASSWORD_SECONDS = 600  # how long the new-password form of a temporary password is valid


def _landing(user: User, next: str) -> str:
    return safe_next(next) if user.role != Role.volunteer else "/console/visit"


def _password_change_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(request.app), salt="password-change")


def _new_password_page(request: Request, user_id: int, version: int, next: str, error: str | None, status: int):
    token = _password_change_serializer(request).dumps({"uid": user_id, "v": version})
    resp = render(request, "console/new_password.html", None, change_token=token, next=safe_next(next), error=error)
    resp.status_code = status
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/console") -> HTMLResponse:
    nonce, token = prelogin_token(request)
    resp = render(request, "console/login.html", None, login_token=token, next=safe_next(next), error=None)
    resp.set_cookie(PRELOGIN_COOKIE, nonce, httponly=True, samesite="strict", path="/console", max_age=3600)
    return resp


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    code: str = Form("", max_length=32),
    login_token: str = Form(""),
    next: str = Form("/console"),
):
    """Async on purpose: the throttle and the user lookup run in the thread pool, the
    argon2 check in its own small pool (password_check_limiter), and an unknown username
    waits on the event loop; a flood of logins then holds no thread /healthz needs."""

    def fail(message: str, status: int, retry_after: int | None = None) -> HTMLResponse:
        nonce, token = prelogin_token(request)
        resp = render(
            request,
            "console/login.html",
            None,
            login_token=token,
            next=safe_next(next),
            error=message,
            username=username,
        )
        resp.status_code = status
        if retry_after is not None:
            resp.headers["Retry-After"] = str(retry_after)
        resp.set_cookie(PRELOGIN_COOKIE, nonce, httponly=True, samesite="strict", path="/console", max_age=3600)
        return resp

    if not prelogin_valid(request, login_token):
        return fail("页面已过期，请重新登录", 403)
    app = request.app
    name = normalize_username(username)  # the one form login and its throttle use
    address = client_address(request)
    throttle = login_throttle(app)

    async def refuse(refusal: Refusal) -> HTMLResponse:
        # A refused client waits a little for its answer: a flood that waits for answers
        # (most do) slows down to a few requests a second, and waiting costs nothing here.
        await asyncio.sleep(min(REFUSAL_PAUSE_SECONDS, refusal.retry_after))
        return fail(refusal.message, 429, refusal.retry_after)

    if (refusal := throttle.blocked_locally(address)) is not None:
        return await refuse(refusal)  # known blocked: not even a thread or a query

    def before_hashing():
        attempt = throttle.begin(name, address)
        if isinstance(attempt, Refusal):
            return attempt, None
        with app.state.db.session() as s:
            return attempt, find_login_user(s, name)

    attempt, found = await run_in_threadpool(before_hashing)
    if isinstance(attempt, Refusal):
        return await refuse(attempt)
    started = time.perf_counter()
    if found is None:
        # Unknown (or disabled) name: no argon2, only as long a wait as a real check takes.
        await asyncio.sleep(typical_verify_seconds() * random.uniform(0.85, 1.15))
        ok = False
    else:
        ok = await anyio.to_thread.run_sync(
            verify_password, found.password_hash, password, limiter=password_check_limiter(app)
        )
        observe_verify_seconds(time.perf_counter() - started)
    if not ok:
        await run_in_threadpool(throttle.failed, attempt)
        return fail(WRONG_LOGIN, 401)
    key = secret_key(app)

    def finish():
        with app.state.db.session() as s:
            user = complete_login(s, found.id, password)
            code_ok = user is None or totp.check_login_code(s, user, code, key)
            if user is not None and code_ok:
                s.commit()
            else:
                s.rollback()
        # The throttle after the commit: on SQLite its counters wait for the same write lock.
        if not code_ok:
            throttle.failed(attempt)  # a wrong (or used) code counts like a wrong password
            return None
        throttle.succeeded(attempt)
        return user

    user = await run_in_threadpool(finish)
    if user is None:
        return fail(WRONG_LOGIN, 401)
    if user.must_change_password:  # a temporary password: a new one first, then the session
        resp = _new_password_page(request, user.id, user.session_version, next, None, 200)
    else:
        resp = sign_in(request, user, _landing(user, next))
    resp.delete_cookie(PRELOGIN_COOKIE, path="/console")
    return resp


@router.post("/login/password", response_class=HTMLResponse)
def new_password(
    request: Request,
    change_token: str = Form("", max_length=512),
    password: str = Form(..., max_length=256),
    password2: str = Form(..., max_length=256),
    next: str = Form("/console"),
):
    """The new password after a temporary one (the token says whose, and which session_version)."""
    try:
        data = _password_change_serializer(request).loads(change_token, max_age=NEW_PASSWORD_SECONDS)
        user_id, version = int(data["uid"]), int(data["v"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return redirect(request, "/console/login", "页面已过期，请用临时密码重新登录", error=True)
    db: Database = request.app.state.db
    with db.session() as s:
        user = get_user(s, user_id)
        if user is None or not user.active or user.session_version != version or not user.must_change_password:
            return redirect(request, "/console/login", "页面已过期，请重新登录", error=True)
        if password != password2:
            return _new_password_page(request, user_id, version, next, "两次输入的新密码不一致", 400)
        try:
            user = accounts.change_own_password(s, user_id, password)
        except CaseError as exc:
            return _new_password_page(request, user_id, version, next, exc.message, 400)
        s.commit()
    return sign_in(request, user, _landing(user, next), "新密码已生效")


@router.post("/logout")
def logout(principal: Principal = Depends(require_page(*ALL_ROLES)), db: Database = Depends(get_db)):
    # Ends every session of this user, not only this browser's cookie.
    with db.session() as s:
        user = get_user(s, principal.actor.user_id)
        if user is not None:
            user.session_version += 1
            s.commit()
    resp = RedirectResponse("/console/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
