"""Client of the service API used by the actions.

Every call has a short timeout; a failure raises ServiceUnavailable, which
the actions turn into a friendly Chinese reply with the hotline. Case
creation is idempotent (Idempotency-Key), so it can be retried safely.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import httpx

from bot.config import settings


class ServiceUnavailable(Exception):
    """The service could not be reached (status None) or answered with a server error (5xx)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ServiceRefused(Exception):
    """The service answered 4xx: the request itself is wrong (not worth retrying as it is)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# One pooled HTTP client per event loop (the action server has one loop per worker): creating
# an httpx.AsyncClient builds an SSL context, about 20 ms, which every action used to pay.
_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _pooled_client(headers: dict[str, str]) -> httpx.AsyncClient:
    per_loop = _CLIENTS.setdefault(asyncio.get_running_loop(), {})
    key = tuple(sorted(headers.items()))
    client = per_loop.get(key)
    if client is None or client.is_closed:
        client = per_loop[key] = httpx.AsyncClient(
            headers=headers, limits=httpx.Limits(max_connections=64, max_keepalive_connections=16)
        )
    return client


async def close_clients() -> None:
    """Closes this event loop's pooled clients (the action server calls it when it stops)."""
    for client in _CLIENTS.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()


class ServiceClient:
    def __init__(self, base_url: str | None = None, timeout: float | None = None):
        cfg = settings()
        self.base_url = (base_url or cfg.resolved_service_url()).rstrip("/")
        self.timeout = timeout if timeout is not None else cfg.service_timeout
        self.headers = {"Authorization": f"Bearer {cfg.bot_token}"} if cfg.bot_token else {}

    async def _request(
        self, method: str, path: str, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            r = await _pooled_client(self.headers).request(
                method, f"{self.base_url}{path}", json=payload, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{path}: {exc!r}") from exc
        if r.status_code >= 500:
            raise ServiceUnavailable(f"{path}: HTTP {r.status_code}", r.status_code)
        if r.status_code >= 400:
            raise ServiceRefused(f"{path}: HTTP {r.status_code}: {r.text[:300]}", r.status_code)
        return r.json()

    async def answer(self, question: str, jurisdiction: str | None = None) -> dict[str, Any]:
        return await self._request("POST", "/v1/kb/answer", {"question": question, "jurisdiction": jurisdiction})

    async def screen(self, request: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", "/v1/screen", request)

    async def create_case(
        self, case: dict[str, Any], idempotency_key: str, attempts: int = 4, backoff: float = 0.5
    ) -> dict[str, Any]:
        """Creates a case, retrying while the service is briefly unreachable (same key: no duplicates)."""
        for attempt in range(attempts):
            try:
                return await self._request("POST", "/v1/cases", case, headers={"Idempotency-Key": idempotency_key})
            except ServiceUnavailable:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(backoff * 2**attempt)
        raise AssertionError("unreachable")

    async def report_dead_letter(self, idempotency_key: str, case: dict[str, Any], error: str) -> dict[str, Any]:
        """Hands a refused report to the console's dead-letter list; the answer's `case` is its
        case of last resort (or None)."""
        return await self._request(
            "POST", "/v1/cases/dead-letters", {"idempotency_key": idempotency_key, "payload": case, "error": error}
        )

    async def lookup_case(self, number: str, check_code: str, conversation: str | None = None) -> dict[str, Any]:
        """The resident's lookup; `conversation` (their sender id) is what the service's
        throttle counts, not the action server's own address (shared by every resident)."""
        headers = {"X-JZ-Conversation": conversation[:128]} if conversation and conversation.isascii() else None
        return await self._request(
            "POST", "/v1/cases/lookup", {"number": number, "check_code": check_code}, headers=headers
        )
