"""Every console and case endpoint refuses a request without login or with the
wrong role, route by route. The table below is the rule book: a route the app
serves under /v1/cases, /v1/conversations or /console that is not in it fails."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from bot.cases.desk import BOT
from bot.cases.store import CaseEvent, UserEvent
from bot.cases.users import get_user
from bot.service.auth import issue_session, secret_key
from tests.cases.conftest import BOT_TOKEN, new_case

ANON, BOT_, OP, SUP, VOL, ADMIN = "anon", "bot", "operator", "supervisor", "volunteer", "admin"
EVERYONE = {ANON, BOT_, OP, SUP, VOL, ADMIN}
DESK = {OP, SUP, ADMIN}
HANDLERS = {OP, SUP}
USERS = {OP, SUP, VOL, ADMIN}

RULES: dict[tuple[str, str], set[str]] = {
    # JSON API
    ("POST", "/v1/cases"): DESK | {VOL, BOT_},
    ("GET", "/v1/cases"): DESK,
    ("GET", "/v1/cases/counts"): DESK,
    ("POST", "/v1/cases/claim-next"): HANDLERS,
    ("POST", "/v1/cases/escalate-overdue"): {SUP, ADMIN},
    ("POST", "/v1/cases/lookup"): EVERYONE,  # the resident's own lookup: number + check code
    ("GET", "/v1/cases/{number}"): DESK,
    ("POST", "/v1/cases/{number}/assign"): {SUP, ADMIN},
    ("POST", "/v1/cases/{number}/transfer"): HANDLERS,
    ("POST", "/v1/cases/{number}/status"): HANDLERS,
    ("POST", "/v1/cases/{number}/notes"): HANDLERS,
    ("POST", "/v1/cases/{number}/replies"): HANDLERS,
    ("POST", "/v1/cases/{number}/followup"): HANDLERS,
    ("GET", "/v1/cases/{number}/audit"): {SUP, ADMIN},
    ("GET", "/v1/cases/{number}/suggestions"): HANDLERS,
    ("POST", "/v1/cases/dead-letters"): {BOT_},
    ("GET", "/v1/cases/dead-letters"): DESK,
    ("POST", "/v1/cases/dead-letters/{dead_letter_id}/resolve"): {SUP, ADMIN},
    ("GET", "/v1/conversations/{sender_id}/replies"): {BOT_},
    ("GET", "/v1/conversations/waiting-replies"): {BOT_},
    ("POST", "/v1/conversations/{sender_id}/replies/delivered"): {BOT_},
    ("POST", "/v1/conversations/{sender_id}/replies/undeliverable"): {BOT_},
    ("POST", "/v1/conversations/{sender_id}/messages"): {BOT_},
    # console
    ("GET", "/console/login"): EVERYONE,
    ("POST", "/console/login"): EVERYONE,
    ("POST", "/console/logout"): USERS,
    ("GET", "/console"): USERS,
    ("POST", "/console/claim-next"): HANDLERS,
    ("POST", "/console/escalate-overdue"): {SUP, ADMIN},
    ("GET", "/console/events"): DESK,  # the queue page's live stream (SSE): 401/403, never a redirect
    ("GET", "/console/cases/{number}"): DESK,
    ("GET", "/console/cases/{number}/events"): DESK,  # the case page's live stream (SSE)
    ("POST", "/console/cases/{number}/status"): HANDLERS,
    ("POST", "/console/cases/{number}/note"): HANDLERS,
    ("POST", "/console/cases/{number}/reply"): HANDLERS,
    ("POST", "/console/cases/{number}/assign"): {SUP, ADMIN},
    ("POST", "/console/cases/{number}/transfer"): HANDLERS,
    ("POST", "/console/cases/{number}/followup"): HANDLERS,
    ("GET", "/console/reports"): {SUP, ADMIN},
    ("GET", "/console/reports.csv"): {SUP, ADMIN},
    # the knowledge gaps, for the editors of the knowledge cards
    ("GET", "/console/knowledge-gaps"): {SUP, ADMIN},
    ("GET", "/console/knowledge-gaps/draft"): {SUP, ADMIN},
    ("GET", "/console/dead-letters"): DESK,
    ("POST", "/console/dead-letters/{dead_letter_id}/resolve"): {SUP, ADMIN},
    ("GET", "/console/report"): {VOL} | HANDLERS,
    ("POST", "/console/report"): {VOL} | HANDLERS,
    # volunteers' home visits (bot/service/routers/visits.py)
    ("GET", "/console/visit"): {VOL} | HANDLERS,
    ("GET", "/console/visit-sw.js"): EVERYONE,  # the page's service worker: no personal data
    ("POST", "/v1/visits"): {VOL} | HANDLERS,
    ("POST", "/v1/visits/check"): {VOL} | HANDLERS,
    ("GET", "/v1/visits/mine"): {VOL} | HANDLERS,
    # the new password after a temporary one: gated by its signed token, not a session
    ("POST", "/console/login/password"): EVERYONE,
    # account management: admins only
    ("GET", "/console/admin/users"): {ADMIN},
    ("POST", "/console/admin/users"): {ADMIN},
    ("GET", "/console/admin/users/{user_id}"): {ADMIN},
    ("POST", "/console/admin/users/{user_id}/deactivate"): {ADMIN},
    ("POST", "/console/admin/users/{user_id}/reactivate"): {ADMIN},
    ("POST", "/console/admin/users/{user_id}/password"): {ADMIN},
    ("POST", "/console/admin/users/{user_id}/role"): {ADMIN},
    ("POST", "/console/admin/users/{user_id}/name"): {ADMIN},
    ("POST", "/console/admin/users/{user_id}/2fa/reset"): {ADMIN},
    # one's own two-step login
    ("GET", "/console/account/2fa"): {SUP, ADMIN},
    ("POST", "/console/account/2fa"): {SUP, ADMIN},
    ("POST", "/console/account/2fa/disable"): {SUP, ADMIN},
}
PROTECTED_PREFIXES = ("/v1/cases", "/v1/conversations", "/v1/visits", "/console")
AUTH_REFUSALS = {"请先登录", "您的角色没有这个权限", "服务令牌不能调用这个接口", "服务令牌无效"}


@pytest.fixture(autouse=True)
def _streams_end_at_once(app):
    app.state.console_events_max_seconds = 0  # /console/events sends its first counts and ends


def _walk(routes, prefix: str = ""):
    """Every APIRoute, also inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # fastapi's included-router wrapper
            ctx = getattr(route, "include_context", None)
            yield from _walk(route.original_router.routes, prefix + (getattr(ctx, "prefix", "") or ""))
        elif hasattr(route, "routes"):  # a mounted sub-application
            yield from _walk(route.routes, prefix + getattr(route, "path", ""))


def app_routes(app) -> set[tuple[str, str]]:
    out = set()
    for path, route in _walk(app.routes):
        if path.startswith(PROTECTED_PREFIXES):
            for method in route.methods - {"HEAD", "OPTIONS"}:
                out.add((method, path))
    assert len(out) > 20, "route discovery found too few routes"
    return out


def test_every_route_has_a_rule(app):
    served = app_routes(app)
    missing = served - set(RULES)
    assert not missing, f"routes without an access rule in this test: {sorted(missing)}"
    assert not set(RULES) - served, f"rules for routes that no longer exist: {sorted(set(RULES) - served)}"


def _headers(app, who: str) -> dict:
    if who == ANON:
        return {}
    if who == BOT_:
        return {"Authorization": f"Bearer {BOT_TOKEN}"}
    people = app.state.people
    actor = {OP: people.op1, SUP: people.sup, VOL: people.vol, ADMIN: people.admin}[who]
    with app.state.db.session() as s:
        cookie = issue_session(app, get_user(s, actor.user_id))
    # A valid CSRF token for that session, so only the role decides.
    sid = URLSafeTimedSerializer(secret_key(app), salt="session").loads(cookie)["sid"]
    token = URLSafeTimedSerializer(secret_key(app), salt="csrf").dumps(sid)
    return {"Cookie": f"jz_session={cookie}", "X-CSRF-Token": token}


def _refused(resp) -> bool:
    if resp.status_code == 401:
        return True
    if resp.status_code == 303 and resp.headers.get("location", "").startswith("/console/login?next="):
        return True
    if resp.status_code == 403:
        try:
            return resp.json().get("detail") in AUTH_REFUSALS
        except ValueError:
            return False
    return False


def _call(client, app, method: str, path: str, who: str, number: str):
    url = path.replace("{number}", number).replace("{sender_id}", "conv-1").replace("{dead_letter_id}", "1")
    url = url.replace("{user_id}", "999999")  # no such account: a role that gets through changes nobody
    client.cookies.clear()
    return client.request(
        method,
        url,
        headers=_headers(app, who),
        follow_redirects=False,
        json={} if method == "POST" and url.startswith("/v1") else None,
    )


def test_each_route_refuses_anonymous_and_wrong_roles(app, client):
    from bot.service.routers.cases import get_desk

    class _Req:  # get_desk only needs .app
        pass

    req = _Req()
    req.app = app
    number = get_desk(req).create_case(new_case(), BOT)[0]["number"]
    with app.state.db.session() as s:
        events_before = s.scalar(select(func.count(CaseEvent.id)))
        account_events_before = s.scalar(select(func.count(UserEvent.id)))

    failures = []
    for (method, path), allowed in sorted(RULES.items()):
        for who in sorted(EVERYONE - allowed):
            resp = _call(client, app, method, path, who, number)
            if not _refused(resp):
                failures.append((method, path, who, resp.status_code, resp.text[:120]))
    assert not failures, failures
    with app.state.db.session() as s:  # nothing refused changed anything
        assert s.scalar(select(func.count(CaseEvent.id))) == events_before
        assert s.scalar(select(func.count(UserEvent.id))) == account_events_before


def test_each_route_admits_its_roles(app, client):
    from bot.service.routers.cases import get_desk

    class _Req:
        pass

    req = _Req()
    req.app = app
    number = get_desk(req).create_case(new_case(), BOT)[0]["number"]
    failures = []
    for (method, path), allowed in sorted(RULES.items()):
        for who in sorted(allowed):
            resp = _call(client, app, method, path, who, number)
            if _refused(resp) or resp.status_code >= 500:
                failures.append((method, path, who, resp.status_code, resp.text[:120]))
    assert not failures, failures


@pytest.mark.parametrize("path", ["/v1/cases/claim-next", "/console/claim-next"])
def test_cookie_posts_need_the_csrf_token(app, client, path):
    headers = _headers(app, OP)
    headers.pop("X-CSRF-Token")
    client.cookies.clear()
    resp = client.post(path, headers=headers, follow_redirects=False)
    assert resp.status_code == 403 and "刷新页面" in resp.json()["detail"]


def test_wrong_bot_token_is_refused(client):
    resp = client.post("/v1/cases", json={"type": "urgent"}, headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
