"""Web chat conversations: the service issues each one, the page only keeps it.

A conversation is a random id (`web-` + 32 hex characters) and a token: the id signed
with the service's per-data-dir secret (bot/service/auth.py `secret_key`, the key that
also signs operator sessions) under its own salt, with the time it was issued. Nothing is
stored: any service process sharing the data folder can check a token. Checking is an
HMAC (itsdangerous) plus a constant-time comparison of the id the token names with the
id the caller claims, so a token for one conversation opens no other.

Only the service makes `web-` ids; other channels keep their own (`tg-…` Telegram, `wx-…` WeChat,
whatever a REST front end uses), which no token is ever issued for.
Pure: secret in, strings out; bot/service/routers/chat.py wires it to HTTP.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

PREFIX = "web-"
SALT = "web-chat-conversation"
# A conversation lasts as long as a case may take to answer (and its follow-up).
MAX_AGE = 30 * 24 * 3600
TOKEN_MAX_CHARS = 512


@dataclass(frozen=True)
class WebConversation:
    sender: str
    token: str


class Check(StrEnum):
    ok = "ok"
    missing = "missing"  # no token at all
    invalid = "invalid"  # forged, damaged, or for another conversation
    expired = "expired"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def new_conversation(secret: str) -> WebConversation:
    """A fresh conversation id and the token that proves it."""
    if not secret:
        raise ValueError("a web chat conversation needs the service secret")
    sender = PREFIX + secrets.token_hex(16)
    return WebConversation(sender, _serializer(secret).dumps(sender))


def check(secret: str, sender: str, token: str | None, max_age: int = MAX_AGE) -> Check:
    """Whether `token` proves the caller holds conversation `sender`."""
    return _check_signed(secret, SALT, sender, token, max_age)


def _check_signed(secret: str, salt: str, sender: str, signed: str | None, max_age: int) -> Check:
    """Whether `signed` is `sender` signed under `salt` within `max_age` seconds."""
    if not signed:
        return Check.missing
    if not secret or not sender or len(signed) > TOKEN_MAX_CHARS:
        return Check.invalid
    try:
        named = URLSafeTimedSerializer(secret, salt=salt).loads(signed, max_age=max_age)
    except SignatureExpired:
        return Check.expired
    except BadSignature:
        return Check.invalid
    if not isinstance(named, str) or not hmac.compare_digest(named.encode(), sender.encode()):
        return Check.invalid
    return Check.ok


# ---------------------------------------------------------------- stream tickets
# The page's EventSource (GET /v1/chat/{sender}/events) cannot send the X-Chat-Token header,
# and a URL ends up in access logs and browser history, so the token never goes in one. The
# page trades its token (in the header) for a ticket: the conversation id signed under
# another salt, accepted for TICKET_MAX_AGE seconds to open that conversation's stream only.
# A ticket is no token: it sends nothing and reads no history; a logged one is soon dead.
TICKET_SALT = "web-chat-stream-ticket"
TICKET_MAX_AGE = 60


def new_ticket(secret: str, sender: str) -> str:
    if not secret:
        raise ValueError("a stream ticket needs the service secret")
    return URLSafeTimedSerializer(secret, salt=TICKET_SALT).dumps(sender)


def check_ticket(secret: str, sender: str, ticket: str | None, max_age: int = TICKET_MAX_AGE) -> Check:
    """Whether `ticket` opens conversation `sender`'s stream (tokens are not tickets: another salt)."""
    return _check_signed(secret, TICKET_SALT, sender, ticket, max_age)
