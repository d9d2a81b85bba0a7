"""The reply outbox: operator replies waiting for a conversation, and what the channels
(web chat, Telegram, WeChat relays) say about delivering them.

A reply is queued by the workflow (CaseWorkflow.reply); here it is read, marked
delivered once, or recorded as undeliverable for now.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from bot.case_limits import trimmed
from bot.cases.context import DeskContext
from bot.cases.store import Case, CaseEvent, CaseReply
from bot.cases.views import reply_view, undelivered_reasons


class ReplyOutbox:
    def __init__(self, ctx: DeskContext):
        self.ctx = ctx

    def pending_replies(self, sender_id: str, channel: str | None = None) -> list[dict[str, Any]]:
        with self.ctx.read() as s:
            q = (
                select(CaseReply, Case.number)
                .join(Case, Case.id == CaseReply.case_id)
                .where(CaseReply.sender_id == sender_id, CaseReply.delivered_at.is_(None))
            )
            if channel:
                q = q.where(CaseReply.channel == channel)
            return [reply_view(r, number) for r, number in s.execute(q.order_by(CaseReply.id))]

    def waiting_senders(self, channel: str, limit: int = 1000) -> list[str]:
        """The conversations of a channel with replies not yet delivered, longest waiting first:
        what a relay asks each round instead of asking every conversation's outbox."""
        with self.ctx.read() as s:
            q = (
                select(CaseReply.sender_id)
                .where(CaseReply.channel == channel, CaseReply.delivered_at.is_(None), CaseReply.sender_id.is_not(None))
                .group_by(CaseReply.sender_id)
                .order_by(func.min(CaseReply.id))
                .limit(max(1, min(limit, 5000)))
            )
            return [sender for sender in s.scalars(q) if sender]

    def mark_delivered(self, reply_ids: list[int], sender_id: str | None = None) -> list[int]:
        """Marks replies delivered; returns the ids this call marked (each id only once, ever)."""
        marked = []
        with self.ctx.write() as s:
            now = self.ctx.clock()
            for rid in reply_ids:
                cond = [CaseReply.id == rid, CaseReply.delivered_at.is_(None)]
                if sender_id is not None:
                    cond.append(CaseReply.sender_id == sender_id)
                res = cast(CursorResult[Any], s.execute(update(CaseReply).where(*cond).values(delivered_at=now)))
                if res.rowcount == 1:
                    marked.append(rid)
                    case_id = s.scalar(select(CaseReply.case_id).where(CaseReply.id == rid))
                    s.add(
                        CaseEvent(
                            case_id=case_id, at=now, actor="bot", action="reply_delivered", detail={"reply_id": rid}
                        )
                    )
        return marked

    def mark_undeliverable(self, reply_ids: list[int], sender_id: str, reason: str) -> list[int]:
        """Records that a channel could not deliver replies (e.g. WeChat's 48-hour window has
        closed): an audit event once per reply, shown on the case page. The replies stay
        pending, so a channel that can deliver later (the resident writes again) still does."""
        marked = []
        reason = trimmed(reason, 200) or "渠道无法送达"
        with self.ctx.write() as s:
            now = self.ctx.clock()
            for rid in reply_ids:
                reply = s.scalar(
                    select(CaseReply).where(
                        CaseReply.id == rid, CaseReply.sender_id == sender_id, CaseReply.delivered_at.is_(None)
                    )
                )
                if reply is None or rid in undelivered_reasons(s, reply.case_id):
                    continue
                s.add(
                    CaseEvent(
                        case_id=reply.case_id,
                        at=now,
                        actor="bot",
                        action="reply_undeliverable",
                        detail={"reply_id": rid, "reason": reason},
                    )
                )
                marked.append(rid)
        return marked

    def consume_replies(self, sender_id: str, channel: str | None = None) -> list[dict[str, Any]]:
        """Pending replies for a conversation, marked delivered in the same call.

        Concurrent consumers never both receive the same reply.
        """
        pending = self.pending_replies(sender_id, channel)
        if not pending:
            return []
        marked = set(self.mark_delivered([r["id"] for r in pending], sender_id))
        out = []
        for r in pending:
            if r["id"] in marked:
                r["delivered"] = True
                out.append(r)
        return out
