"""Rendering the operator console's pages: templates, filters, one-time flash messages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer

from bot.cases.desk import QUEUE_LABELS
from bot.cases.model import ROLE_LABELS, Role
from bot.cases.search import normalize_phone
from bot.service.auth import SESSION_COOKIE, SESSION_MAX_AGE, Principal, csrf_token, issue_session, secret_key

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
CST = timezone(timedelta(hours=8))
FLASH_COOKIE = "jz_flash"
CONSOLE_QUEUES = ("unassigned", "mine", "urgent", "overdue", "followup")


def _local(value: str | None, fmt: str = "%m-%d %H:%M") -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(CST).strftime(fmt)


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _tel(value: str | None) -> str:
    """A phone number as a tel: link's target: its digits, without the country code."""
    return normalize_phone(value)


templates.env.filters["local"] = _local
templates.env.filters["tel"] = _tel
templates.env.filters["pretty"] = _pretty


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(request.app), salt="flash")


def redirect(request: Request, url: str, message: str = "", error: bool = False) -> RedirectResponse:
    resp = RedirectResponse(url, status_code=303)
    if message:
        resp.set_cookie(
            FLASH_COOKIE,
            _flash_serializer(request).dumps({"m": message, "e": error}),
            httponly=True,
            samesite="lax",
            path="/console",
        )
    return resp


def render(request: Request, name: str, principal: Principal | None, **ctx) -> HTMLResponse:
    flash = None
    raw = request.cookies.get(FLASH_COOKIE)
    if raw:
        try:
            flash = _flash_serializer(request).loads(raw)
        except BadSignature:
            flash = None
    ctx.update(
        user=principal.actor if principal else None,
        role_label=ROLE_LABELS.get(Role(principal.role)) if principal and principal.role else "",
        csrf=csrf_token(request, principal) if principal else "",
        flash=flash,
        queue_labels=QUEUE_LABELS,
        console_queues=CONSOLE_QUEUES,
    )
    resp = templates.TemplateResponse(request, name, ctx)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    if raw:
        resp.delete_cookie(FLASH_COOKIE, path="/console")
    return resp


def safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


def sign_in(request: Request, user, target: str, message: str = "") -> RedirectResponse:
    """A redirect carrying a new session cookie for `user` (login, a new password, two-step on)."""
    resp = redirect(request, target, message)
    resp.set_cookie(
        SESSION_COOKIE,
        issue_session(request.app, user),
        max_age=getattr(request.app.state, "session_max_age", SESSION_MAX_AGE),
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    return resp
