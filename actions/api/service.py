"""Client of the service API used by the actions.

Every call has a short timeout; a failure raises ServiceUnavailable, which
the actions turn into a friendly Chinese reply with the hotline. Case
creation is idempotent (Idempotency-Key), so it can be retried safely.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from bot.config import settings
from bot.http_sessions import TRANSPORT_ERRORS, loopback_connector, pooled_session


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


class ServiceClient:
    def __init__(self, base_url: str | None = None, timeout: float | None = None):
        cfg = settings()
        self.base_url = (base_url or cfg.resolved_service_url()).rstrip("/")
        self.timeout = timeout if timeout is not None else cfg.service_timeout
        self.headers = {"Authorization": f"Bearer {cfg.bot_token}"} if cfg.bot_token else {}
        self.headers_key = tuple(sorted(self.headers.items()))

    def _new_session(self) -> aiohttp.ClientSession:
        # One pooled session per loop (the action server has one loop per worker): a client per
        # call used to build an SSL context, about 20 ms, which every action paid.
        return aiohttp.ClientSession(headers=self.headers, connector=loopback_connector())

    async def _request(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        params: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        try:
            session = pooled_session(("service", self.headers_key), self._new_session)
            async with session.request(
                method,
                f"{self.base_url}{path}",
                json=payload,
                params=params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as r:
                if r.status >= 500:
                    raise ServiceUnavailable(f"{path}: HTTP {r.status}", r.status)
                if r.status >= 400:
                    raise ServiceRefused(
                        f"{path}: HTTP {r.status}: {(await r.read())[:300].decode(errors='replace')}", r.status
                    )
                body = await r.read()
        except TRANSPORT_ERRORS as exc:
            raise ServiceUnavailable(f"{path}: {exc!r}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:  # a proxy's error page, say: not the service answering
            raise ServiceUnavailable(f"{path}: not JSON: {body[:100]!r}") from exc

    async def answer(self, question: str, jurisdiction: str | None = None) -> dict[str, Any]:
        return await self._request("POST", "/v1/kb/answer", {"question": question, "jurisdiction": jurisdiction})

    async def provisions(self, ids: list[str]) -> dict[str, Any]:
        """The provisions by id ({"provisions": [...], "missing": [...]}): what 看原文 quotes."""
        return await self._request("GET", "/v1/kb/provisions", params=[("id", i) for i in ids])

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
