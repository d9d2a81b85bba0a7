"""A resident's web chat over HTTP, as the page does it: the service issues the
conversation (POST /v1/chat/session), and every call carries its X-Chat-Token."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass
class WebChat:
    url: str  # the service's root
    sender: str
    token: str

    @classmethod
    def start(cls, service_url: str) -> WebChat:
        r = httpx.post(f"{service_url}/v1/chat/session", timeout=10)
        r.raise_for_status()
        body = r.json()
        return cls(service_url, body["sender"], body["token"])

    @property
    def headers(self) -> dict:
        return {"X-Chat-Token": self.token}

    def post(self, message: str, timeout: float = 60, **body) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/chat",
            json={"sender": self.sender, "message": message, **body},
            headers=self.headers,
            timeout=timeout,
        )

    def say(self, message: str) -> list[dict]:
        r = self.post(message)
        r.raise_for_status()
        return r.json()["messages"]

    def replies(self) -> list[dict]:
        r = httpx.get(f"{self.url}/v1/chat/{self.sender}/replies", headers=self.headers, timeout=10)
        r.raise_for_status()
        return r.json()["messages"]
