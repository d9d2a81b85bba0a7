"""What Rasa's REST channel accepts: the body checks in front of the model.

Pure logic, shared by the Rasa adapter (rasa_channels/rest.py, Python 3.10) and the
tests. A body is a JSON object {"sender": "…", "message": "…"} with optional
"metadata" (an object) and "input_channel" (a string). Anything else is refused with a
400 and a message in Chinese (never Rasa's own 500); a message longer than
MAX_MESSAGE_CHARS is cut there and the answer starts with a kind note (bot/text.py);
traditional characters become simplified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.text import (
    MAX_MESSAGE_CHARS,
    MAX_RAW_MESSAGE_CHARS,
    cap_message,
    to_simplified,
    too_long_note,
    too_long_refusal,
)

MAX_SENDER_CHARS = 128
# A body this large cannot hold an acceptable message (\uXXXX escapes take 6 bytes a character).
MAX_BODY_BYTES = 6 * MAX_RAW_MESSAGE_CHARS + 64 * 1024

EXAMPLE = '{"sender": "会话编号", "message": "低保是什么"}'


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str  # at most MAX_MESSAGE_CHARS
    note: str | None = None  # said before the answer when the message was cut
    metadata: dict[str, Any] | None = None
    input_channel: str | None = None
    length: int = 0  # of the message as sent


@dataclass(frozen=True)
class BadRequest:
    error: str  # a short code for programs
    message: str  # for people, in Chinese
    status: int = 400
    body: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", {"error": self.error, "message": self.message})


def parse_rest_body(raw: bytes | None) -> RestMessage | BadRequest:
    """The message a REST request carries, or why it is refused."""
    if raw is not None and len(raw) > MAX_BODY_BYTES:
        return BadRequest("too_long", too_long_refusal())
    if not raw or not raw.strip():
        return BadRequest("empty_body", f"请求内容是空的。请发送 JSON，例如 {EXAMPLE}")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return BadRequest("invalid_json", f"请求内容不是有效的 JSON（需要 UTF-8 编码），例如 {EXAMPLE}")
    if not isinstance(body, dict):
        return BadRequest("not_an_object", f"请求内容应是一个 JSON 对象，包含 sender 和 message 两项，例如 {EXAMPLE}")

    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        return BadRequest("missing_sender", "缺少 sender（会话编号）：它应是一个不为空的字符串。")
    if len(sender) > MAX_SENDER_CHARS:
        return BadRequest("sender_too_long", f"sender（会话编号）太长了，最多 {MAX_SENDER_CHARS} 个字符。")

    message = body.get("message")
    if not isinstance(message, str):
        return BadRequest("missing_message", "缺少 message（消息文字）：它应是一个字符串。")
    if len(message) > MAX_RAW_MESSAGE_CHARS:
        return BadRequest("too_long", too_long_refusal())
    message = message.strip()
    if not message:
        return BadRequest("empty_message", "消息是空的。请告诉我您想问什么，比如“低保怎么申请”。")

    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return BadRequest("bad_metadata", "metadata 应是一个 JSON 对象。")
    input_channel = body.get("input_channel")
    if input_channel is not None and not isinstance(input_channel, str):
        return BadRequest("bad_input_channel", "input_channel 应是一个字符串。")

    # Traditional characters are read as simplified from here on (classifier, rules, answers).
    capped = cap_message(to_simplified(message), MAX_MESSAGE_CHARS)
    return RestMessage(
        sender=sender,
        text=capped.text,
        note=too_long_note() if capped.cut else None,
        metadata=metadata,
        input_channel=input_channel or None,
        length=capped.length,
    )
