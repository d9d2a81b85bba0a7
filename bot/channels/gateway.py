"""What every chat gateway (Telegram, WeChat) does the same way with the rest of the stack.

A gateway speaks only Rasa's REST channel and the service's bot-token API:
- `ask_rasa`: the answers to one message (the warm hotline reply when Rasa is down);
  `note=True` also adds the message to the resident's open case, as `start_note` does;
- `start_note` / `note_on_case`: after a handover, the resident's words join their open case. The note does
  not hold up the answer: it is sent while Rasa answers. It carries the message's id, which
  Rasa also gets (metadata "message_id") and the case transcript keeps, so a case this very
  message creates is not given it twice. Notes of one resident go in order; one that could
  not reach the service is tried again; `drain` waits for those still on their way before
  the gateway stops;
- `pending_replies` / `mark_delivered` / `mark_undeliverable`: the case desk's operator
  replies for one conversation, each marked once it has really been sent (or could not be);
  `ReplyPolls`: how often to ask for them (often while the resident writes, less once quiet).
The channel-specific part (how a message is sent, buttons, windows) stays in the gateway.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from functools import partial

import httpx

from bot.config import Settings
from bot.hotlines import IF_URGENT, IN_DANGER
from bot.http_sessions import TRANSPORT_ERRORS, after_body_sent, rasa_session

SERVICE_TIMEOUT = 5.0
NOTE_RETRY_PAUSES = (0.5, 2.0)  # before sending again a note that never reached the service
DRAIN_SECONDS = SERVICE_TIMEOUT + sum(NOTE_RETRY_PAUSES) + 1
QUIET_POLL_SECONDS = 30.0  # the longest between two asks for a conversation's operator replies
# Failed before anything was sent: the service never saw the note, so sending it again adds it once.
UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
RASA_DOWN_REPLY = f"抱歉，助手暂时连不上，请稍后再试。{IF_URGENT}{IN_DANGER}"

log = logging.getLogger(__name__)


def poll_interval(quiet_seconds: float, fastest: float) -> float:
    """Seconds between asks for a conversation's operator replies: `fastest` while the resident
    is writing, then a quarter of the time they have been quiet, at most QUIET_POLL_SECONDS
    (a reply to someone quiet for two minutes or more goes out within half a minute)."""
    return min(QUIET_POLL_SECONDS, max(fastest, quiet_seconds / 4))


class ReplyPolls:
    """Which conversations' outboxes to ask at this polling round. Asking every recent
    conversation every round costs the gateway and the service a request each (hundreds
    a round on a busy account) for replies that come minutes or hours after a handover."""

    def __init__(self, fastest: float):
        self.fastest = fastest
        self._asked: dict[Hashable, float] = {}  # conversation → when its outbox was last asked (monotonic)

    def due(self, key: Hashable, quiet_seconds: float, now: float) -> bool:
        return now - self._asked.get(key, -math.inf) >= poll_interval(quiet_seconds, self.fastest) - 0.5

    def asked(self, key: Hashable, now: float) -> None:
        self._asked[key] = now

    def keep(self, keys: Iterable[Hashable]) -> None:
        """Forgets the conversations no longer polled."""
        keys = set(keys)
        for key in [k for k in self._asked if k not in keys]:
            del self._asked[key]


class StackLink:
    def __init__(self, cfg: Settings, http: httpx.AsyncClient, channel: str):
        self.http = http
        self.channel = channel
        self.rasa_url = f"{cfg.resolved_rasa_url()}/webhooks/rest/webhook"
        self.service_url = cfg.resolved_service_url()
        self.headers = {"Authorization": f"Bearer {cfg.bot_token}"}
        self._outbox_down = False  # warn once per outage, not once per chat and poll
        self._last_note: dict[str, asyncio.Task] = {}  # each sender's latest note: the next one waits for it
        self._notes: set[asyncio.Task] = set()  # notes on their way (drain waits for them)
        # Conversations with operator replies waiting when last asked (waiting_senders): only their
        # turns end with a look at the outbox; a reply written since goes at the next polling round.
        self.waiting: set[str] = set()

    async def ask_rasa(self, sender: str, message: str, note: bool = False) -> list[dict]:
        """Rasa's answers; with `note`, the message also joins the sender's open case (start_note)."""
        metadata = {"channel": self.channel}
        noting = None
        if note:
            metadata["message_id"] = message_id = uuid.uuid4().hex
            noting = partial(self.start_note, sender, message, message_id)
        body = {"sender": sender, "message": message, "metadata": metadata}
        # The note starts once Rasa has the whole request, and goes while Rasa answers.
        with after_body_sent(noting) as trace:
            try:
                async with rasa_session().post(self.rasa_url, json=body, **trace) as r:
                    r.raise_for_status()
                    answers = json.loads(await r.read())
                if not isinstance(answers, list):
                    raise ValueError("not a list of messages")
            except (*TRANSPORT_ERRORS, ValueError) as exc:
                log.warning("Rasa unreachable for %s: %s", sender, exc.__class__.__name__)
                return [{"text": RASA_DOWN_REPLY}]
        return [a for a in answers if isinstance(a, dict)]

    async def note_on_case(self, sender: str, message: str) -> None:
        """Adds the message to the sender's open case and returns once the service has it (or not)."""
        await asyncio.wait({self.start_note(sender, message)})

    def start_note(self, sender: str, message: str, message_id: str | None = None) -> asyncio.Task:
        """Starts adding the message to the sender's open case, after the sender's earlier notes.
        The task never raises."""
        task = asyncio.create_task(self._post_note(sender, message, message_id, self._last_note.get(sender)))
        self._last_note[sender] = task
        self._notes.add(task)
        task.add_done_callback(partial(self._note_done, sender))
        return task

    def _note_done(self, sender: str, task: asyncio.Task) -> None:
        self._notes.discard(task)
        if self._last_note.get(sender) is task:
            del self._last_note[sender]

    async def _post_note(
        self, sender: str, message: str, message_id: str | None, previous: asyncio.Task | None
    ) -> None:
        try:
            if previous is not None:  # the resident's earlier note first, so the case reads in order
                await asyncio.wait({previous})
            for pause in (*NOTE_RETRY_PAUSES, None):
                try:
                    r = await self.http.post(
                        f"{self.service_url}/v1/conversations/{sender}/messages",
                        json={"text": message, "channel": self.channel, "message_id": message_id},
                        headers=self.headers,
                        timeout=SERVICE_TIMEOUT,
                    )
                except UNSENT_ERRORS as exc:
                    if pause is None:
                        log.warning(
                            "could not add the message to %s's case: %s (service unreachable)",
                            sender,
                            type(exc).__name__,
                        )
                        return
                    await asyncio.sleep(pause)  # the note follows when the service answers again
                    continue
                except httpx.HTTPError as exc:  # it may have reached the service: not sent twice
                    log.warning("could not add the message to %s's case: %s", sender, type(exc).__name__)
                    return
                if r.is_error:
                    log.warning("could not add the message to %s's case: HTTP %s", sender, r.status_code)
                return
        except Exception:  # the answer matters more than the note: never break a turn or a shutdown
            log.exception("could not add the message to %s's case", sender)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Waits for the notes still on their way (before the gateway closes its HTTP client)."""
        if not self._notes:
            return
        _, late = await asyncio.wait(set(self._notes), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d note(s) to the case desk not sent before stopping", len(late))

    def _replies_url(self, sender: str) -> str:
        return f"{self.service_url}/v1/conversations/{sender}/replies"

    async def waiting_senders(self) -> set[str]:
        """The channel's conversations with operator replies waiting (empty while the service
        cannot be reached): a round asks only their outboxes."""
        url = f"{self.service_url}/v1/conversations/waiting-replies"
        try:
            r = await self.http.get(
                url, params={"channel": self.channel}, headers=self.headers, timeout=SERVICE_TIMEOUT
            )
            r.raise_for_status()
            self.waiting = set(r.json()["sender_ids"])
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            if not self._outbox_down:
                log.warning("case desk outbox unreachable (%s): %s", url, exc.__class__.__name__)
            self._outbox_down = True
            self.waiting = set()
        return self.waiting

    async def pending_replies(self, sender: str) -> list[dict]:
        """Operator replies not yet delivered ([] while the service cannot be reached)."""
        url = self._replies_url(sender)
        try:
            r = await self.http.get(
                url, params={"channel": self.channel}, headers=self.headers, timeout=SERVICE_TIMEOUT
            )
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
            r = await self.http.post(
                f"{self._replies_url(sender)}/delivered",
                json={"ids": [reply_id]},
                headers=self.headers,
                timeout=SERVICE_TIMEOUT,
            )
            r.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("could not mark reply %s delivered: %s", reply_id, exc.__class__.__name__)
            return False

    async def mark_undeliverable(self, sender: str, ids: list[int], reason: str) -> bool:
        try:
            r = await self.http.post(
                f"{self._replies_url(sender)}/undeliverable",
                json={"ids": ids, "reason": reason},
                headers=self.headers,
                timeout=SERVICE_TIMEOUT,
            )
            r.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("could not tell the desk replies %s are undeliverable: %s", ids, type(exc).__name__)
            return False


def recent_entry(table: OrderedDict, key: Hashable, make: Callable[[], object], limit: int):
    """The gateway's state for one resident, made if new and moved to the newest end. Beyond
    `limit` residents the oldest are forgotten, but never one whose turn is running (its
    `lock` held): memory stays bounded whoever writes in."""
    entry = table.get(key) or make()
    table[key] = entry
    table.move_to_end(key)
    while len(table) > limit:
        oldest = next(iter(table))
        if table[oldest].lock.locked():
            break
        table.pop(oldest)
    return entry
