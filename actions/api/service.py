"""Client of the service API used by the actions.

Every call has a short timeout; a failure raises ServiceUnavailable, which
the actions turn into a friendly Chinese reply with the hotline.
"""
from __future__ import annotations

from typing import Any

import httpx

from bot.config import settings


class ServiceUnavailable(Exception):
    """The service could not be reached or answered with an error."""


class ServiceClient:
    def __init__(self, base_url: str | None = None, timeout: float | None = None):
        cfg = settings()
        self.base_url = (base_url or cfg.resolved_service_url()).rstrip("/")
        self.timeout = timeout if timeout is not None else cfg.service_timeout

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                r = await client.post(f"{self.base_url}{path}", json=payload)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(str(exc)) from exc
        if r.status_code >= 500:
            raise ServiceUnavailable(f"{path}: HTTP {r.status_code}")
        if r.status_code >= 400:
            raise ValueError(f"{path}: HTTP {r.status_code}: {r.text[:200]}")
        return r.json()

    async def answer(self, question: str, jurisdiction: str | None = None) -> dict[str, Any]:
        return await self._post("/v1/kb/answer", {"question": question, "jurisdiction": jurisdiction})
