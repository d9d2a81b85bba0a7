"""Who may call the action server: Rasa, holding the shared action token.

Rasa sends it as `Authorization: Bearer <token>` (endpoint.yml); Rasa's own `token:`
setting, which sends `?token=<token>`, is accepted too. Only the health check is open.
Pure logic; actions/server.py wires it in front of every route.
"""

from __future__ import annotations

import hmac

OPEN_PATHS = frozenset({"/health"})


def presented_token(authorization: str | None, query_token: str | None) -> str:
    """The token a request carries, or "" when it carries none."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return (query_token or "").strip()


def is_allowed(path: str, method: str, authorization: str | None, query_token: str | None, expected: str) -> bool:
    """Whether a request may reach the action server's routes."""
    if method.upper() in ("GET", "HEAD") and path in OPEN_PATHS:
        return True
    if not expected:  # never "open because unconfigured"
        return False
    token = presented_token(authorization, query_token)
    return bool(token) and hmac.compare_digest(token.encode(), expected.encode())
