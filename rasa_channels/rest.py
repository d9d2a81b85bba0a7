"""Rasa's REST channel with its body checked before the model sees it.

Registered in credentials.yml as `rasa_channels.rest.CheckedRestInput`; it keeps the
name "rest", so the URL stays /webhooks/rest/webhook and conversations keep their input
channel. The checks are bot/channels/rest_body.py: an empty, malformed or non-object
body, or one without sender or message, gets a 400 with a message in Chinese (Rasa's
own channel answers those with a 500); a message over MAX_MESSAGE_CHARS is cut before
the classifier and the answer starts with a kind note. Everything else is Rasa's RestInput.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.rest_body import BadRequest, RestMessage, parse_rest_body
from bot.start_up_objects import freeze_start_up_objects
from rasa_channels.action_calls import close_endpoint_sessions

log = logging.getLogger(__name__)


class CheckedRestInput(RestInput):
    """POST /webhooks/rest/webhook, refusing what Rasa's RestInput would fail on."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("checked_rest_webhook", __name__)

        @webhook.listener("after_server_start")
        async def freeze_the_loaded_model(app: Any, loop: Any) -> None:
            """The model is loaded by now (Rasa loads it before the server starts)."""
            freeze_start_up_objects(log)

        @webhook.listener("before_server_stop")
        async def close_kept_connections(app: Any, loop: Any) -> None:
            """The connections Rasa keeps to the action server (rasa_channels/action_calls.py)."""
            await close_endpoint_sessions()

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = parse_rest_body(request.body)
            if isinstance(parsed, BadRequest):
                log.info("refused a REST request: %s", parsed.error)
                return response.json(parsed.body, status=parsed.status)
            if parsed.note:
                log.info("message from %s cut from %d characters to %d", parsed.sender, parsed.length, len(parsed.text))
            if bool_arg(request, "stream", default=False):
                return response.stream(self._stream(on_new_message, parsed), content_type="text/event-stream")
            collector = CollectingOutputChannel()
            try:
                await on_new_message(self._user_message(parsed, collector))
            except asyncio.CancelledError:
                log.error("message from %s timed out", parsed.sender)
            except Exception:  # as Rasa's RestInput: answer with what was said so far
                log.exception("message from %s failed", parsed.sender)
            return response.json(_with_note(parsed, collector.messages))

        return webhook

    def _user_message(self, parsed: RestMessage, collector: CollectingOutputChannel) -> UserMessage:
        return UserMessage(
            parsed.text,
            collector,
            parsed.sender,
            input_channel=parsed.input_channel or self.name(),
            metadata=parsed.metadata,
        )

    def _stream(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], parsed: RestMessage):
        async def stream(resp: Any) -> None:
            if parsed.note:
                await resp.write(json.dumps(_note(parsed)) + "\n")
            queue: asyncio.Queue = asyncio.Queue()
            task = asyncio.ensure_future(
                self.on_message_wrapper(
                    on_new_message,
                    parsed.text,
                    queue,
                    parsed.sender,
                    parsed.input_channel or self.name(),
                    parsed.metadata,
                )
            )
            while True:
                result = await queue.get()
                if result == "DONE":
                    break
                await resp.write(json.dumps(result) + "\n")
            await task

        return stream


def _note(parsed: RestMessage) -> Dict[str, Any]:
    return {"recipient_id": parsed.sender, "text": parsed.note}


def _with_note(parsed: RestMessage, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return ([_note(parsed)] if parsed.note else []) + list(messages)
