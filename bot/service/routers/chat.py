"""Web chat: the page residents use, and a relay to Rasa's REST channel.

The page talks only to this service (same origin, no CORS); the service
forwards each message to Rasa's /webhooks/rest/webhook. Keeping the relay
here lets operator replies from the case desk join the same conversation.

A message over MAX_MESSAGE_CHARS is cut here (bot/text.py: the rule every door
follows) and the answer starts with a kind note; only the part read reaches Rasa
and the case desk.

Conversation ownership: the service issues each conversation (`POST /v1/chat/session`:
a random `web-…` id and a signed token, bot/channels/webchat.py). Sending a message
and fetching (so consuming) operator replies need that token in the `X-Chat-Token`
header: without it 401, with a wrong, expired or another conversation's token 403, and
nothing is read, sent or consumed. A header, not a cookie: the page runs over plain
HTTP on intranet terminals (a `Secure` cookie would never be sent there), keeps the
token per tab in sessionStorage (the next person at a shared terminal starts afresh),
and a custom header cannot be sent from another origin without a CORS preflight, which
this service never grants. Other channels (Telegram, REST front ends) use the bot-token
outbox under /v1/conversations instead.

Request and response bodies: bot/service/chat_schemas.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from functools import partial
from pathlib import Path

from fastapi import APIRouter, BackgroundTasks, Header, HTTPException, Query, Request
from fastapi import Path as Path_
from fastapi.responses import HTMLResponse, StreamingResponse
from sse_starlette import EventSourceResponse

from bot.channels import history, webchat
from bot.channels.gateway import RASA_DOWN_REPLY
from bot.http_sessions import TRANSPORT_ERRORS, after_body_sent, rasa_session
from bot.service.auth import secret_key
from bot.service.chat_schemas import (
    ChatIn,
    ChatOut,
    ChatSessionOut,
    EndOut,
    HistoryOut,
    ResidentCasesOut,
    ShownOut,
    TicketOut,
)
from bot.service.deps import get_desk
from bot.service.errors import ErrorOut, refusals
from bot.service.pending_writes import PendingWrites
from bot.text import cap_message, too_long_note

router = APIRouter(tags=["web chat"])

_PAGE = (Path(__file__).resolve().parent.parent / "static" / "chat.html").read_text(encoding="utf-8")

NO_TOKEN = "还没有开始对话，请刷新页面后再试。"
BAD_TOKEN = "这个对话已失效，请刷新页面重新开始。"
CONVERSATION_REFUSALS = {
    **refusals(422),
    401: {"model": ErrorOut, "description": "No X-Chat-Token: start a conversation with POST /v1/chat/session"},
    403: {
        "model": ErrorOut,
        "description": "The token is forged, expired or belongs to another conversation; "
        "nothing was sent or consumed. Start a new conversation",
    },
}
TOKEN_HEADER = Header(
    None, max_length=webchat.TOKEN_MAX_CHARS, description="The token POST /v1/chat/session gave for this conversation"
)


def history_writes(request: Request) -> PendingWrites:
    return request.app.state.history_writes


def _max_age(request: Request) -> int:
    return getattr(request.app.state, "chat_session_max_age", webchat.MAX_AGE)


def require_conversation(request: Request, sender: str, token: str | None) -> None:
    """401 without a token, 403 unless it is this conversation's (checked in constant time)."""
    result = webchat.check(secret_key(request.app), sender, token, _max_age(request))
    if result == webchat.Check.missing:
        raise HTTPException(status_code=401, detail=NO_TOKEN)
    if result != webchat.Check.ok:
        raise HTTPException(status_code=403, detail=BAD_TOKEN)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> str:
    return _PAGE


@router.post(
    "/v1/chat/session",
    status_code=201,
    response_model=ChatSessionOut,
    summary="Start a web chat conversation: its id and the token that proves it is yours",
)
def chat_session(request: Request) -> ChatSessionOut:
    conversation = webchat.new_conversation(secret_key(request.app))
    return ChatSessionOut(sender=conversation.sender, token=conversation.token, expires_in=_max_age(request))


@router.post(
    "/v1/chat",
    response_model=ChatOut,
    responses=CONVERSATION_REFUSALS,
    summary="Send a resident's message to the assistant (needs the conversation's X-Chat-Token)",
)
async def chat(
    body: ChatIn, request: Request, background: BackgroundTasks, x_chat_token: str | None = TOKEN_HEADER
) -> ChatOut:
    require_conversation(request, body.sender, x_chat_token)
    cfg = request.app.state.settings
    url = f"{cfg.resolved_rasa_url()}/webhooks/rest/webhook"
    capped = cap_message(body.message)
    note = [{"recipient_id": body.sender, "text": too_long_note()}] if capped.cut else []
    # After a handover, the operator sees what the resident adds: stored while Rasa answers and
    # before the answer goes back. Rasa gets the same message id, which the case transcript
    # keeps, so the case this very message creates does not get it twice.
    message_id = uuid.uuid4().hex
    add_note = partial(get_desk(request).add_resident_message, body.sender, capped.text, "web", message_id)
    notes: list[asyncio.Future] = []
    rasa_body = {
        "sender": body.sender,
        "message": capped.text,
        "metadata": {"channel": "web", "message_id": message_id},
    }
    try:
        # Started once Rasa has the request: the note's thread would otherwise hold the GIL first.
        with after_body_sent(lambda: notes.append(asyncio.ensure_future(asyncio.to_thread(add_note)))) as trace:
            try:
                async with rasa_session().post(url, json=rasa_body, **trace) as r:
                    r.raise_for_status()
                    messages = json.loads(await r.read())
                if not isinstance(messages, list):
                    raise ValueError("not a list of messages")
            except (*TRANSPORT_ERRORS, ValueError):
                messages = [{"recipient_id": body.sender, "text": RASA_DOWN_REPLY}]
    finally:
        await asyncio.gather(*notes)
    answer = note + messages
    # The history a reload shows (bot/channels/history.py): the part read, and what came back,
    # written once the answer is on its way (the conversation itself is in Rasa's tracker store).
    # Operator replies are not in this answer: the page gets them from the events stream and
    # says when it showed each (see chat_events), so none is lost or shown twice. Marked pending
    # now, so that a reload quicker than the commit waits for it (bot/service/pending_writes.py).
    write = history_writes(request).mark(
        body.sender,
        history.record,
        request.app.state.db,
        body.sender,
        [("resident", capped.text, None)]
        + [
            ("bot", m.get("text") or "", m.get("buttons"))
            for m in answer
            if isinstance(m, dict) and (m.get("text") or m.get("buttons"))
        ],
    )
    background.add_task(write)
    return ChatOut(messages=answer)


@router.get(
    "/v1/chat/{sender}/replies",
    response_model=ChatOut,
    responses=CONVERSATION_REFUSALS,
    summary="Operator replies for this web chat not shown yet (needs the conversation's X-Chat-Token). "
    "consume=true (the default, for callers that show what they get at once): each is given "
    "once and marked delivered now; consume=false: given with its reply_id until "
    "POST …/replies/{reply_id}/shown says it was shown (what the page does without EventSource)",
)
def chat_replies(
    sender: str, request: Request, x_chat_token: str | None = TOKEN_HEADER, consume: bool = True
) -> ChatOut:
    # The token, not the id, is the capability: checked before anything is consumed.
    require_conversation(request, sender, x_chat_token)
    desk = get_desk(request)
    if not consume:
        return ChatOut(messages=[_operator_message(sender, r) for r in desk.pending_replies(sender, "web")])
    replies = desk.consume_replies(sender, "web")
    for r in replies:  # given to a caller that shows it now: a reload of the page shows it again
        history.record_reply(request.app.state.db, sender, r["id"], operator_text(r))
    return ChatOut(messages=[_operator_message(sender, r) for r in replies])


def operator_text(reply: dict) -> str:
    return f"【工作人员回复 · 工单 {reply['case']}】\n{reply['text']}"


def _operator_message(sender: str, reply: dict) -> dict:
    return {"recipient_id": sender, "text": operator_text(reply), "reply_id": reply["id"], "case": reply["case"]}


# ---------------------------------------------------------------- the page's own routes
# History (a reload shows the conversation again), 我的工单, the operator-reply stream and its
# acknowledgement, and 结束对话. Every one needs the conversation's token (the stream: a
# ticket bought with it), answers 401 without and 403 with another, and touches nothing then.


@router.get(
    "/v1/chat/{sender}/history",
    response_model=HistoryOut,
    responses=CONVERSATION_REFUSALS,
    summary="What this conversation's page has shown: the resident's messages, the assistant's answers "
    "with their buttons and the operator replies shown (needs the X-Chat-Token)",
)
async def chat_history(sender: str, request: Request, x_chat_token: str | None = TOKEN_HEADER) -> HistoryOut:
    require_conversation(request, sender, x_chat_token)
    await history_writes(request).settle(sender)  # the last answer's history, if still being written
    return HistoryOut(sender=sender, messages=await asyncio.to_thread(history.history, request.app.state.db, sender))


@router.get(
    "/v1/chat/{sender}/cases",
    response_model=ResidentCasesOut,
    responses=CONVERSATION_REFUSALS,
    summary="我的工单: the cases made from this conversation and their status (needs the X-Chat-Token)",
)
def chat_cases(sender: str, request: Request, x_chat_token: str | None = TOKEN_HEADER) -> ResidentCasesOut:
    require_conversation(request, sender, x_chat_token)
    return ResidentCasesOut(cases=get_desk(request).conversation_cases(sender))


REPLY_ID = Path_(ge=1, le=2**31 - 1, description="reply_id of an operator reply given by the events stream")


@router.post(
    "/v1/chat/{sender}/replies/{reply_id}/shown",
    response_model=ShownOut,
    responses={**CONVERSATION_REFUSALS, **refusals(404, _404="No such operator reply for this conversation")},
    summary="The page showed this operator reply: mark it delivered (once) and keep it in the history "
    "(needs the X-Chat-Token)",
)
def chat_reply_shown(
    sender: str, request: Request, reply_id: int = REPLY_ID, x_chat_token: str | None = TOKEN_HEADER
) -> ShownOut:
    require_conversation(request, sender, x_chat_token)
    desk = get_desk(request)
    pending = {r["id"]: r for r in desk.pending_replies(sender, "web")}
    if reply_id in pending:
        if desk.mark_delivered([reply_id], sender):
            history.record_reply(request.app.state.db, sender, reply_id, operator_text(pending[reply_id]))
            return ShownOut(id=reply_id, delivered=True, first=True)
        return ShownOut(id=reply_id, delivered=True, first=False)  # another tab acknowledged it just now
    if history.has_reply(request.app.state.db, sender, reply_id):
        return ShownOut(id=reply_id, delivered=True, first=False)
    raise HTTPException(status_code=404, detail="没有这条工作人员回复。")


@router.post(
    "/v1/chat/{sender}/events/ticket",
    response_model=TicketOut,
    responses=CONVERSATION_REFUSALS,
    summary="A short-lived ticket that opens this conversation's events stream "
    "(EventSource cannot send the X-Chat-Token header; the token never goes in a URL)",
)
def chat_events_ticket(sender: str, request: Request, x_chat_token: str | None = TOKEN_HEADER) -> TicketOut:
    require_conversation(request, sender, x_chat_token)
    return TicketOut(ticket=webchat.new_ticket(secret_key(request.app), sender), expires_in=_ticket_max_age(request))


NO_TICKET = "还没有连接到消息通道，请刷新页面后再试。"
BAD_TICKET = "消息通道的凭证已失效，请重新连接。"
TICKET_REFUSALS = {
    **refusals(422),
    401: {"model": ErrorOut, "description": "No ticket: get one with POST /v1/chat/{sender}/events/ticket"},
    403: {"model": ErrorOut, "description": "The ticket is forged, expired or for another conversation: get a new one"},
}
# Seconds between looks at the outbox, and the longest a stream stays open (the page then
# opens a new one with a new ticket); tests set them on app.state.
EVENTS_INTERVAL = 2.0
EVENTS_MAX_SECONDS = 600.0


def _ticket_max_age(request: Request) -> int:
    return getattr(request.app.state, "chat_ticket_max_age", webchat.TICKET_MAX_AGE)


@router.get(
    "/v1/chat/{sender}/events",
    responses={
        200: {
            "description": "Server-sent events: `reply` (data: a message with reply_id, as in /v1/chat) for each "
            "operator reply not yet acknowledged. A reply is sent again on the next stream until "
            "POST …/replies/{reply_id}/shown: the page shows each reply_id once.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **TICKET_REFUSALS,
    },
    response_class=StreamingResponse,
    summary="Operator replies as they come (EventSource; the ticket from POST …/events/ticket in the query)",
)
async def chat_events(
    sender: str,
    request: Request,
    ticket: str | None = Query(
        None, max_length=webchat.TOKEN_MAX_CHARS, description="From POST /v1/chat/{sender}/events/ticket"
    ),
):
    result = webchat.check_ticket(secret_key(request.app), sender, ticket, _ticket_max_age(request))
    if result == webchat.Check.missing:
        raise HTTPException(status_code=401, detail=NO_TICKET)
    if result != webchat.Check.ok:
        raise HTTPException(status_code=403, detail=BAD_TICKET)
    desk = get_desk(request)
    state = request.app.state
    interval = getattr(state, "chat_events_interval", EVENTS_INTERVAL)
    until = time.monotonic() + getattr(state, "chat_events_max_seconds", EVENTS_MAX_SECONDS)

    async def replies():
        sent: set[int] = set()  # on this stream; a new stream sends what is still unacknowledged
        # sse-starlette ends this generator when the page goes away (it listens for the disconnect).
        while time.monotonic() < until:
            for r in await asyncio.to_thread(desk.pending_replies, sender, "web"):
                if r["id"] not in sent:
                    sent.add(r["id"])
                    yield {
                        "event": "reply",
                        "id": str(r["id"]),
                        "data": json.dumps(_operator_message(sender, r), ensure_ascii=False),
                    }
            await asyncio.sleep(interval)

    return EventSourceResponse(replies(), ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post(
    "/v1/chat/{sender}/end",
    response_model=EndOut,
    responses=CONVERSATION_REFUSALS,
    summary="结束对话: the history of this conversation is deleted (its cases stay with the desk; "
    "needs the X-Chat-Token)",
)
def chat_end(sender: str, request: Request, x_chat_token: str | None = TOKEN_HEADER) -> EndOut:
    require_conversation(request, sender, x_chat_token)
    return EndOut(forgotten=history.forget(request.app.state.db, sender))
