"""What every chat gateway (Telegram, WeChat) does the same way with the rest of the stack.

A gateway speaks only Rasa's REST channel and the service's bot-token API:
- `ask_rasa`: the answers to one message (the warm hotline reply when Rasa is down);
- `note_on_case`: after a handover, the resident's words join their open case;
- `pending_replies` / `mark_delivered` / `mark_undeliverable`: the case desk's operator
  replies for one conversation, each marked once it has really been sent (or could not be).
The channel-specific part (how a message is sent, buttons, windows) stays in the gateway.
"""
from __future__ import annotations

import logging

import httpx

from bot.config import Settings

RASA_TIMEOUT = 30.0      # seconds; Rasa runs custom actions, which call the service
SERVICE_TIMEOUT = 5.0
RASA_DOWN_REPLY = (
    "抱歉，助手暂时连不上，请稍后再试。"
    "着急的话请拨打 12345 政务服务便民热线或 12349 民政服务热线；"
    "遇到危险请立即拨打 110、120 或 119。"
)

log = logging.getLogger(__name__)


class StackLink:
    def __init__(self, cfg: Settings, http: httpx.AsyncClient, channel: str):
        self.http = http
        self.channel = channel
        self.rasa_url = f"{cfg.resolved_rasa_url()}/webhooks/rest/webhook"
        self.service_url = cfg.resolved_service_url()
        self.headers = {"Authorization": f"Bearer {cfg.bot_token}"}
        self._outbox_down = False  # warn once per outage, not once per chat and poll

    async def ask_rasa(self, sender: str, message: str) -> list[dict]:
        body = {"sender": sender, "message": message, "metadata": {"channel": self.channel}}
        try:
            r = await self.http.post(self.rasa_url, json=body, timeout=RASA_TIMEOUT)
            r.raise_for_status()
            answers = r.json()
            if not isinstance(answers, list):
                raise ValueError("not a list of messages")
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Rasa unreachable for %s: %s", sender, exc.__class__.__name__)
            return [{"text": RASA_DOWN_REPLY}]
        return [a for a in answers if isinstance(a, dict)]

    async def note_on_case(self, sender: str, message: str) -> None:
        try:
            await self.http.post(f"{self.service_url}/v1/conversations/{sender}/messages",
                                 json={"text": message, "channel": self.channel}, headers=self.headers,
                                 timeout=SERVICE_TIMEOUT)
        except httpx.HTTPError as exc:  # the answer matters more than the note: carry on
            log.warning("could not add the message to %s's case: %s", sender, type(exc).__name__)

    def _replies_url(self, sender: str) -> str:
        return f"{self.service_url}/v1/conversations/{sender}/replies"

    async def pending_replies(self, sender: str) -> list[dict]:
        """Operator replies not yet delivered ([] while the service cannot be reached)."""
        url = self._replies_url(sender)
        try:
            r = await self.http.get(url, params={"channel": self.channel}, headers=self.headers,
                                    timeout=SERVICE_TIMEOUT)
            r.raise_for_status()
            replies = r.json()["replies"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            if not self._outbox_down:
                log.warning("case desk outbox unreachable (%s): %s", url, exc.__class__.__name__)
            self._outbox_down = True
            return []
        if self._outbox_down:
            log.info("case desk outbox reachable again")
            self._outbox_down = False
        return replies

    async def mark_delivered(self, sender: str, reply_id: int) -> bool:
        """False when the mark did not reach the desk: the reply may then be sent again later."""
        try:
            r = await self.http.post(f"{self._replies_url(sender)}/delivered", json={"ids": [reply_id]},
                                     headers=self.headers, timeout=SERVICE_TIMEOUT)
            r.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("could not mark reply %s delivered: %s", reply_id, exc.__class__.__name__)
            return False

    async def mark_undeliverable(self, sender: str, ids: list[int], reason: str) -> bool:
        try:
            r = await self.http.post(f"{self._replies_url(sender)}/undeliverable", json={"ids": ids, "reason": reason},
                                     headers=self.headers, timeout=SERVICE_TIMEOUT)
            r.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("could not tell the desk replies %s are undeliverable: %s", ids, type(exc).__name__)
            return False
