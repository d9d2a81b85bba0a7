"""The case desk's outbox for channel relays (bot token): operator replies waiting for a
conversation, what the relays say about delivering them, and a resident's later messages.

The web chat page does not come here: it has its own token-checked routes (chat.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bot.cases.desk import CaseDesk
from bot.cases.model import Channel
from bot.service.auth import Principal
from bot.service.case_schemas import (
    ConversationReplies,
    DeliveredIn,
    MarkedOut,
    ResidentMessageIn,
    ResidentMessageOut,
    UndeliverableIn,
    WaitingConversations,
)
from bot.service.deps import get_desk, require
from bot.service.errors import DeskRoute, refusals

router = APIRouter(prefix="/v1/conversations", tags=["cases", "web chat"], route_class=DeskRoute)

RELAY = refusals(401, 403, 409, 422)


@router.get(
    "/waiting-replies",
    response_model=WaitingConversations,
    summary="Which conversations of a channel have operator replies waiting (bot token): one request a round",
    responses=RELAY,
)
def waiting_replies(
    channel: Channel, principal: Principal = Depends(require(bot=True)), desk: CaseDesk = Depends(get_desk)
) -> dict:
    return {"channel": channel, "sender_ids": desk.waiting_senders(channel)}


@router.get(
    "/{sender_id}/replies",
    response_model=ConversationReplies,
    response_model_exclude_unset=True,
    summary="Operator replies waiting for a conversation (bot token); consume=true marks them delivered",
    responses=RELAY,
)
def conversation_replies(
    sender_id: str,
    consume: bool = False,
    channel: Channel | None = None,
    principal: Principal = Depends(require(bot=True)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    replies = desk.consume_replies(sender_id, channel) if consume else desk.pending_replies(sender_id, channel)
    return {"sender_id": sender_id, "replies": replies}


@router.post(
    "/{sender_id}/messages",
    response_model=ResidentMessageOut,
    summary="A resident's message after the handover, added to their open case (bot token)",
    responses=RELAY,
)
def resident_message(
    sender_id: str,
    body: ResidentMessageIn,
    principal: Principal = Depends(require(bot=True)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return {"case": desk.add_resident_message(sender_id, body.text, body.channel, body.message_id)}


@router.post(
    "/{sender_id}/replies/delivered",
    response_model=MarkedOut,
    summary="Mark replies delivered after showing them (bot token)",
    responses=RELAY,
)
def replies_delivered(
    sender_id: str,
    body: DeliveredIn,
    principal: Principal = Depends(require(bot=True)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return {"marked": desk.mark_delivered(body.ids, sender_id)}


@router.post(
    "/{sender_id}/replies/undeliverable",
    response_model=MarkedOut,
    summary="Tell the desk replies cannot be delivered now, e.g. WeChat's 48-hour window closed (bot token)",
    responses=RELAY,
)
def replies_undeliverable(
    sender_id: str,
    body: UndeliverableIn,
    principal: Principal = Depends(require(bot=True)),
    desk: CaseDesk = Depends(get_desk),
) -> dict:
    return {"marked": desk.mark_undeliverable(body.ids, sender_id, body.reason)}
