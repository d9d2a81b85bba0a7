"""The routes' FastAPI dependencies, in one place: who may call (route rules), the
database, the case desk and the knowledge base kept on app.state.

Who the caller is (sessions, the bot token, CSRF) is worked out in bot/service/auth.py;
the rules here only say which callers a route admits.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

from bot.cases.desk import CaseDesk
from bot.db import Database
from bot.service.auth import Principal, check_csrf, current_principal

if TYPE_CHECKING:
    from bot.kb import KnowledgeBase

_desk_lock = threading.Lock()


# ---------------------------------------------------------------- route rules


class Rule:
    """A route's access rule: which user roles, and whether the bot token is accepted."""

    def __init__(self, roles: tuple[str, ...], bot: bool = False, html: bool = False):
        self.roles = tuple(str(r) for r in roles)
        self.bot = bot
        self.html = html

    async def __call__(self, request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:
            if self.html:
                target = request.url.path
                raise HTTPException(
                    status_code=303, detail="请先登录", headers={"Location": f"/console/login?next={target}"}
                )
            raise HTTPException(status_code=401, detail="请先登录", headers={"WWW-Authenticate": "Bearer"})
        if principal.kind == "bot":
            if not self.bot:
                raise HTTPException(status_code=403, detail="服务令牌不能调用这个接口")
        elif principal.role not in self.roles:
            raise HTTPException(status_code=403, detail="您的角色没有这个权限")
        await check_csrf(request, principal)
        return principal


def require(*roles: str, bot: bool = False) -> Rule:
    """JSON API rule: 401 without credentials, 403 for a wrong role."""
    return Rule(roles, bot=bot)


def require_page(*roles: str) -> Rule:
    """Console page rule: redirects to the login page without a session, 403 for a wrong role."""
    return Rule(roles, bot=False, html=True)


# ---------------------------------------------------------------- what the app keeps


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_desk(request: Request) -> CaseDesk:
    """One CaseDesk per app, built on first use from app.state.db (a test may put its own there)."""
    desk = getattr(request.app.state, "case_desk", None)
    if desk is None:
        with _desk_lock:
            desk = getattr(request.app.state, "case_desk", None)
            if desk is None:
                desk = CaseDesk(request.app.state.db)
                request.app.state.case_desk = desk
    return desk


def get_kb(request: Request) -> KnowledgeBase:
    """The knowledge base, loaded on first use unless the app's start-up loaded it (kb.warm_up)."""
    kb = getattr(request.app.state, "kb", None)
    if kb is None:
        from bot.kb import KnowledgeBase  # here, so importing the desk's routes does not import the kb

        cfg = getattr(request.app.state, "settings", None)
        kb = KnowledgeBase.load(getattr(cfg, "policy_kb_dir", None))
        request.app.state.kb = kb
    return kb
