"""Operator console sign-in (坐席工作台登录): the login page and form, and logout.

The one console route without a session: its form proves it came from the login page with
a pre-login token (a cookie and a hidden field) instead of the CSRF token, and the login
throttle (bot/throttle/policy.py) answers before any password is checked. The pages behind
the login are console.py.
"""

from __future__ import annotations

import asyncio
import random
import time

import anyio
from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.cases.model import Role
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
    SESSION_MAX_AGE,
    Principal,
    client_address,
    issue_session,
    login_throttle,
    password_check_limiter,
    prelogin_token,
    prelogin_valid,
)
from bot.service.console_pages import render, safe_next
from bot.service.deps import get_db, require_page
from bot.throttle import Refusal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

# How long a refused login waits for its 429 (at most the Retry-After itself).
REFUSAL_PAUSE_SECONDS = 1.0


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
        return fail("用户名或密码不正确", 401)

    def finish():
        throttle.succeeded(attempt)
        with app.state.db.session() as s:
            user = complete_login(s, found.id, password)
            if user is not None:
                s.commit()
            return user

    user = await run_in_threadpool(finish)
    if user is None:
        return fail("用户名或密码不正确", 401)
    resp = RedirectResponse(safe_next(next) if user.role != Role.volunteer else "/console/report", status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        issue_session(app, user),
        max_age=getattr(app.state, "session_max_age", SESSION_MAX_AGE),
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    resp.delete_cookie(PRELOGIN_COOKIE, path="/console")
    return resp


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
