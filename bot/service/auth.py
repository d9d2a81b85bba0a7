"""Who is calling: desk users (cookie sessions) and machine callers (bot token).

- Users log in on /console/login; passwords are argon2 hashes (bot/cases/users.py).
- The session is a cookie signed with itsdangerous, carrying the user id, a
  random session id and the user's session_version; it expires after
  SESSION_MAX_AGE seconds and whenever the user's password changes.
- CSRF: every form POST carries `csrf_token`, and every cookie-authenticated
  JSON call that changes something carries the `X-CSRF-Token` header; the token
  is derived from the session id, so another site cannot forge it.
- Machine callers (the Rasa action server, the channel relays) send
  `Authorization: Bearer $JZ_BOT_TOKEN`.
- Throttles (bot/throttle): logins per client address, then a progressive delay per
  normalised username; case lookups per client and overall; counters in the database.

Route rules are declared with `require(...)` (bot/service/deps.py) on each route;
tests/cases/test_auth_routes.py enumerates the app's routes and checks each one against its rule.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import threading
import time
import weakref
from dataclasses import dataclass

import anyio
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.cases.actors import BOT, Actor
from bot.cases.model import Role
from bot.cases.sla import utcnow
from bot.cases.users import SEEN_EVERY, get_user, mark_seen
from bot.secret_files import data_dir_secret
from bot.throttle import LoginThrottle, LookupThrottle, Refusal, build_storage, client_key

_throttle_lock = threading.Lock()
log = logging.getLogger(__name__)

SESSION_COOKIE = "jz_session"
PRELOGIN_COOKIE = "jz_prelogin"
SESSION_MAX_AGE = int(os.environ.get("JZ_SESSION_HOURS", "8")) * 3600
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

ALL_ROLES = tuple(Role)
DESK_ROLES = (Role.operator, Role.supervisor, Role.admin)
HANDLER_ROLES = (Role.operator, Role.supervisor)


# ---------------------------------------------------------------- secrets


def secret_key(app) -> str:
    """JZ_SECRET_KEY, else a random key kept in data_dir/secret_key (created once)."""
    cached = getattr(app.state, "_session_secret", None)
    if cached:
        return cached
    cfg = app.state.settings
    key = cfg.secret_key or data_dir_secret(cfg.data_dir, "secret_key")
    app.state._session_secret = key
    return key


def bot_token(app) -> str:
    """The machine callers' token: settings.bot_token if the settings have it, else JZ_BOT_TOKEN."""
    return getattr(app.state.settings, "bot_token", "") or os.environ.get("JZ_BOT_TOKEN", "")


def _serializer(app, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(app), salt=salt)


# ---------------------------------------------------------------- principals


@dataclass(frozen=True)
class Principal:
    actor: Actor
    kind: str  # "user" or "bot"
    session_id: str = ""

    @property
    def role(self) -> str | None:
        return self.actor.role


def issue_session(app, user) -> str:
    return _serializer(app, "session").dumps(
        {"uid": user.id, "sid": secrets.token_urlsafe(16), "v": user.session_version}
    )


def _session_principal(request: Request) -> Principal | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    app = request.app
    max_age = getattr(app.state, "session_max_age", SESSION_MAX_AGE)
    try:
        data = _serializer(app, "session").loads(raw, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    with app.state.db.session() as s:
        user = get_user(s, int(data.get("uid", 0)))
        if user is None or not user.active or user.session_version != data.get("v"):
            return None
        principal = Principal(Actor.user(user), "user", str(data.get("sid", "")))
        seen = user.last_seen_at
    now = utcnow()
    if seen is None or now - seen >= SEEN_EVERY:  # who is on shift (the assign list): once a minute
        _mark_seen(app, principal.actor.user_id, now)
    return principal


def _mark_seen(app, user_id: int | None, now) -> None:
    """Best effort: a busy database must not refuse a login's request."""
    if user_id is None:
        return
    try:
        with app.state.db.session() as s:
            mark_seen(s, user_id, now)
            s.commit()
    except Exception as exc:  # noqa: BLE001
        log.debug("last seen not recorded: %s", type(exc).__name__)


def session_principal(request: Request) -> Principal | None:
    """The session cookie's user as of now, never the request's cached answer: a long stream
    asks again and gets None once the user is deactivated, logged out or has a new role."""
    return _session_principal(request)


def _bot_principal(request: Request) -> Principal | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    expected = bot_token(request.app)
    given = header[7:].strip()
    if expected and given and hmac.compare_digest(given.encode(), expected.encode()):
        return Principal(BOT, "bot")
    raise HTTPException(status_code=401, detail="服务令牌无效", headers={"WWW-Authenticate": "Bearer"})


def current_principal(request: Request) -> Principal | None:
    cached = getattr(request.state, "principal", "unset")
    if cached != "unset":
        return cached
    principal = _bot_principal(request) or _session_principal(request)
    request.state.principal = principal
    return principal


# ---------------------------------------------------------------- CSRF


def csrf_token(request: Request, principal: Principal | None = None) -> str:
    principal = principal or current_principal(request)
    if principal is None or principal.kind != "user":
        return ""
    return _serializer(request.app, "csrf").dumps(principal.session_id)


def _csrf_valid(request: Request, principal: Principal, token: str | None) -> bool:
    if not token:
        return False
    try:
        sid = _serializer(request.app, "csrf").loads(token, max_age=SESSION_MAX_AGE * 2)
    except BadSignature:
        return False
    return hmac.compare_digest(str(sid), principal.session_id)


async def check_csrf(request: Request, principal: Principal) -> None:
    """Cookie sessions must prove the request came from our own page."""
    if principal.kind != "user" or request.method in SAFE_METHODS:
        return
    token = request.headers.get("x-csrf-token")
    if not token and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # cached by Starlette; the route still reads it
        token = form.get("csrf_token")
    if not _csrf_valid(request, principal, token):
        raise HTTPException(status_code=403, detail="页面已过期或请求来源不明，请刷新页面后重试")


# Login form CSRF (before there is a session): double-submit with a signed pre-login cookie.
def prelogin_token(request: Request) -> tuple[str, str]:
    nonce = request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(16)
    return nonce, _serializer(request.app, "prelogin").dumps(nonce)


def prelogin_valid(request: Request, token: str | None) -> bool:
    nonce = request.cookies.get(PRELOGIN_COOKIE)
    if not nonce or not token:
        return False
    try:
        value = _serializer(request.app, "prelogin").loads(token, max_age=3600)
    except BadSignature:
        return False
    return hmac.compare_digest(str(value), nonce)


# ---------------------------------------------------------------- throttles


def _throttle_storage(app):
    """The throttles' counters (bot/throttle): the service database unless
    JZ_RATE_LIMIT_URL names another storage. `app.state.throttle_clock` (tests) sets the clock."""
    storage = getattr(app.state, "throttle_storage", None)
    if storage is None:
        with _throttle_lock:
            storage = getattr(app.state, "throttle_storage", None)
            if storage is None:
                url = getattr(app.state.settings, "rate_limit_url", "")
                clock = getattr(app.state, "throttle_clock", time.time)
                storage = app.state.throttle_storage = build_storage(app.state.db, url, clock)
    return storage


def _app_throttle(app, name: str, kind):
    """One throttle of `kind` per app, kept on app.state under `name`, created on first use."""
    throttle = getattr(app.state, name, None)
    if throttle is None:
        throttle = kind(_throttle_storage(app), clock=getattr(app.state, "throttle_clock", time.time))
        setattr(app.state, name, throttle)
    return throttle


def login_throttle(app) -> LoginThrottle:
    return _app_throttle(app, "login_throttle", LoginThrottle)


def lookup_throttle(app) -> LookupThrottle:
    return _app_throttle(app, "lookup_throttle", LookupThrottle)


def client_address(request: Request) -> str:
    """The caller's address as throttles count it. Behind a reverse proxy this is what
    uvicorn took from X-Forwarded-For (it trusts that header only from
    --forwarded-allow-ips, by default 127.0.0.1)."""
    return client_key(request.client.host if request.client else "")


def too_many(refusal: Refusal) -> HTTPException:
    return HTTPException(status_code=429, detail=refusal.message, headers={"Retry-After": str(refusal.retry_after)})


def password_check_limiter(app):
    """At most JZ_LOGIN_HASH_CONCURRENCY argon2 checks at once (each takes ~64 MiB); the
    rest wait on the event loop, holding neither a thread nor memory. One per event loop."""
    loop = asyncio.get_running_loop()
    limiters = getattr(app.state, "_hash_limiters", None)
    if limiters is None:
        limiters = app.state._hash_limiters = weakref.WeakKeyDictionary()
    limiter = limiters.get(loop)
    if limiter is None:
        size = max(1, int(getattr(app.state.settings, "login_hash_concurrency", 2) or 2))
        limiter = limiters[loop] = anyio.CapacityLimiter(size)
    return limiter
