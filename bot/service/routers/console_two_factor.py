"""Two-step login (两步验证) of one's own account, for supervisors and admins.

Turning it on: the page makes a new secret and shows it as text and as an otpauth:// URI
(no QR image: that would need another dependency); the secret travels back in a signed
hidden field (15 minutes), and is stored sealed (bot/cases/totp.py) only once the first
code from the app proves the app has it. Then every other session of the user ends and
this browser is signed in afresh. Turning it off takes a current code; an admin can reset
it for someone who lost their phone (console_accounts.py). Both changes are audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.cases import totp
from bot.cases.model import CaseError, Role
from bot.cases.users import get_user
from bot.db import Database
from bot.service.auth import Principal, client_address, login_throttle, secret_key
from bot.service.console_pages import redirect, render, sign_in
from bot.service.deps import get_db, require_page
from bot.throttle import Refusal

router = APIRouter(prefix="/console/account/2fa", tags=["console"], include_in_schema=False)

TWO_FACTOR_ROLES = require_page(Role.supervisor, Role.admin)
PAGE = "/console/account/2fa"
ENROL_SECONDS = 900


def _enrol_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(request.app), salt="totp-enrol")


def _page(request: Request, principal: Principal, db: Database, secret: str = "", error: str = "") -> HTMLResponse:
    with db.session() as s:
        user = get_user(s, principal.actor.user_id or 0)
        enabled = user is not None and totp.is_enabled(user)
        username = user.username if user else ""
    ctx: dict[str, object] = {"enabled": enabled, "error": error}
    if not enabled:
        secret = secret or totp.new_secret()
        ctx.update(
            secret=totp.grouped(secret),
            uri=totp.provisioning_uri(secret, username),
            enrol_token=_enrol_serializer(request).dumps({"uid": principal.actor.user_id, "s": secret}),
        )
    resp = render(request, "console/two_factor.html", principal, **ctx)
    if error:
        resp.status_code = 400
    return resp


@router.get("", response_class=HTMLResponse)
def two_factor_page(request: Request, principal: Principal = Depends(TWO_FACTOR_ROLES), db: Database = Depends(get_db)):
    return _page(request, principal, db)


@router.post("", response_class=HTMLResponse)
def two_factor_enable(
    request: Request,
    enrol_token: str = Form("", max_length=512),
    code: str = Form("", max_length=32),
    principal: Principal = Depends(TWO_FACTOR_ROLES),
    db: Database = Depends(get_db),
) -> Response:
    try:
        data = _enrol_serializer(request).loads(enrol_token, max_age=ENROL_SECONDS)
        secret = str(data["s"])
        if data["uid"] != principal.actor.user_id:
            raise BadSignature("another user's")
    except (BadSignature, KeyError, TypeError):
        return redirect(request, PAGE, "页面已过期，请重新扫描或输入新的密钥", error=True)
    with db.session() as s:
        try:
            user = totp.enable(s, principal.actor.user_id or 0, secret, code, secret_key(request.app))
        except CaseError as exc:
            return _page(request, principal, db, secret=secret, error=exc.message)
        s.commit()
    return sign_in(request, user, PAGE, "已开启两步验证：以后登录要同时输入手机上的验证码，其他设备上的登录已退出")


@router.post("/disable")
def two_factor_disable(
    request: Request,
    code: str = Form("", max_length=32),
    principal: Principal = Depends(TWO_FACTOR_ROLES),
    db: Database = Depends(get_db),
):
    # Wrong codes here count as failed logins of the account, so a session cannot guess its way out.
    throttle = login_throttle(request.app)
    attempt = throttle.begin(principal.actor.name.removeprefix("user:"), client_address(request))
    if isinstance(attempt, Refusal):
        return redirect(request, PAGE, attempt.message, error=True)
    with db.session() as s:
        try:
            totp.disable(s, principal.actor.user_id or 0, code, secret_key(request.app))
        except CaseError as exc:
            s.rollback()
            throttle.failed(attempt)
            return redirect(request, PAGE, exc.message, error=True)
        s.commit()
    throttle.succeeded(attempt)
    return redirect(request, PAGE, "已关闭两步验证")
