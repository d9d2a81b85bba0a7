"""Request and response bodies of the web chat's routes (bot/service/routers/chat.py).

The relay's (a message in, the assistant's messages out, a new conversation) and the page's
own: its history, 我的工单, an operator reply shown, the events ticket, 结束对话.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from bot.channels import history
from bot.text import MAX_MESSAGE_CHARS, MAX_RAW_MESSAGE_CHARS, require_text

# ---------------------------------------------------------------- the relay to Rasa

OTHER_CHANNEL_PREFIXES = ("tg-", "wx-")


class ChatIn(BaseModel):
    sender: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Conversation id from POST /v1/chat/session",
    )
    message: str = Field(
        min_length=1,
        max_length=MAX_RAW_MESSAGE_CHARS,
        description=f"Over {MAX_MESSAGE_CHARS} characters, the first {MAX_MESSAGE_CHARS} are read "
        "and the answer says so",
    )

    @field_validator("sender")
    @classmethod
    def _web_sender(cls, v: str) -> str:
        # Other channels' ids (tg-… Telegram, wx-… WeChat) are not the web chat's to use.
        if v.startswith(OTHER_CHANNEL_PREFIXES):
            raise ValueError("这个会话编号不能在网页对话里使用")
        return v

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        return require_text(v, "消息不能为空")


class ChatOut(BaseModel):
    messages: list[dict]


class ChatSessionOut(BaseModel):
    sender: str = Field(description="The conversation id: send it as `sender` and in the replies URL")
    token: str = Field(description="Send it as the X-Chat-Token header with every call for this conversation")
    expires_in: int = Field(description="Seconds the token is accepted; then start a new conversation")


# ---------------------------------------------------------------- the page's own routes


class Button(BaseModel):
    title: str
    payload: str = ""


class HistoryMessage(BaseModel):
    role: Literal["resident", "bot", "operator"]
    text: str = Field(description="As shown, with 身份证号/phone/bank-card numbers masked (bot/privacy.py)")
    buttons: list[Button] = Field(default_factory=list)
    reply_id: int | None = Field(None, description="Operator replies: the case desk's reply id")
    at: str


class HistoryOut(BaseModel):
    sender: str
    messages: list[HistoryMessage] = Field(description=f"Oldest first, the newest {history.MAX_SHOWN} at most")


class ResidentCase(BaseModel):
    number: str
    type: str
    type_label: str = Field(description="咨询、急难 …")
    status: str
    status_label: str = Field(description="The status in the resident's words (已受理，正在等待工作人员处理 …)")
    created_at: str
    updated_at: str = Field(description="Last change (UTC, ISO 8601)")


class ResidentCasesOut(BaseModel):
    cases: list[ResidentCase]


class ShownOut(BaseModel):
    id: int
    delivered: bool = Field(description="Always true: the reply is marked delivered")
    first: bool = Field(description="True when this call marked it (false: it was marked before, nothing changed)")


class TicketOut(BaseModel):
    ticket: str = Field(description="Pass it as ?ticket= to GET /v1/chat/{sender}/events")
    expires_in: int = Field(description="Seconds the ticket can open the stream (an open stream stays open)")


class EndOut(BaseModel):
    forgotten: int = Field(description="Messages removed from the history")
