"""Web chat: the page residents use, and a relay to Rasa's REST channel.

The page talks only to this service (same origin, no CORS); the service
forwards each message to Rasa's /webhooks/rest/webhook. Keeping the relay
here lets operator replies from the case desk join the same conversation.

A message over MAX_MESSAGE_CHARS is cut here (bot/text.py: the rule every door
follows) and the answer starts with a kind note; only the part read reaches Rasa
and the case desk.
"""
from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, field_validator

from bot.service.routers.cases import get_desk
from bot.text import MAX_MESSAGE_CHARS, MAX_RAW_MESSAGE_CHARS, cap_message, require_text, too_long_note

router = APIRouter(tags=["web chat"])

_PAGE = (Path(__file__).resolve().parent.parent / "static" / "chat.html").read_text(encoding="utf-8")

RASA_DOWN_REPLY = (
    "抱歉，助手暂时连不上，请稍后再试。"
    "着急的话请拨打 12345 政务服务便民热线或 12349 民政服务热线；"
    "遇到危险请立即拨打 110、120 或 119。"
)


OTHER_CHANNEL_PREFIXES = ("tg-",)


class ChatIn(BaseModel):
    sender: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                        description="Conversation id kept by the page")
    message: str = Field(min_length=1, max_length=MAX_RAW_MESSAGE_CHARS,
                         description=f"Over {MAX_MESSAGE_CHARS} characters, the first {MAX_MESSAGE_CHARS} are read "
                                     "and the answer says so")

    @field_validator("sender")
    @classmethod
    def _web_sender(cls, v: str) -> str:
        # Other channels' ids (tg-…) are not the web chat's to use.
        if v.startswith(OTHER_CHANNEL_PREFIXES):
            raise ValueError("这个会话编号不能在网页对话里使用")
        return v

    @field_validator("message")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        return require_text(v, "消息不能为空")


class ChatOut(BaseModel):
    messages: list[dict]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> str:
    return _PAGE


@router.post("/v1/chat", response_model=ChatOut, summary="Send a resident's message to the assistant")
async def chat(body: ChatIn, request: Request) -> ChatOut:
    cfg = request.app.state.settings
    url = f"{cfg.resolved_rasa_url()}/webhooks/rest/webhook"
    capped = cap_message(body.message)
    note = [{"recipient_id": body.sender, "text": too_long_note()}] if capped.cut else []
    # After a handover, the operator sees what the resident adds (before Rasa answers it,
    # so the message that creates a case is not added twice).
    get_desk(request).add_resident_message(body.sender, capped.text, "web")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(url, json={"sender": body.sender, "message": capped.text})
            r.raise_for_status()
            messages = r.json()
    except (httpx.HTTPError, ValueError):
        messages = [{"recipient_id": body.sender, "text": RASA_DOWN_REPLY}]
    return ChatOut(messages=note + messages + _operator_replies(request, body.sender))


@router.get("/v1/chat/{sender}/replies", response_model=ChatOut,
            summary="Operator replies for this web chat that have not been shown yet (the page polls)")
def chat_replies(sender: str, request: Request) -> ChatOut:
    # The sender id is a random id kept only by the resident's page: it is the capability.
    if sender.startswith(OTHER_CHANNEL_PREFIXES):
        return ChatOut(messages=[])
    return ChatOut(messages=_operator_replies(request, sender[:64]))


def _operator_replies(request: Request, sender: str) -> list[dict]:
    """Replies operators sent from the case desk, each shown exactly once."""
    replies = get_desk(request).consume_replies(sender, "web")
    return [{"recipient_id": sender, "text": f"【工作人员回复 · 工单 {r['case']}】\n{r['text']}"} for r in replies]
