"""Throttles for the operator login and the residents' case lookup (see policy.py).

Counters live in the service database by default (sql_storage.py), so they survive a
restart and are shared by every service process on that database; JZ_RATE_LIMIT_URL
can name any storage `limits` knows instead (redis://host:6379/1 needs the `redis`
package; memory:// keeps them in the process only).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string

from bot.db import Database
from bot.throttle.policy import Attempt, LoginThrottle, LookupThrottle, Refusal, client_key, wait_text
from bot.throttle.sql_storage import SQLStorage

__all__ = [
    "Attempt",
    "LoginThrottle",
    "LookupThrottle",
    "Refusal",
    "SQLStorage",
    "build_storage",
    "client_key",
    "wait_text",
]


def build_storage(db: Database, url: str = "", clock: Callable[[], float] = time.time) -> Storage:
    """The counters' storage: the service database, or the `limits` storage at `url`."""
    if not url:
        return SQLStorage(db, clock=clock)
    try:
        return storage_from_string(url)
    except ConfigurationError as exc:  # e.g. redis:// without the `redis` package installed
        raise RuntimeError(f"JZ_RATE_LIMIT_URL={url.split('://', 1)[0]}://…: {exc}") from exc
