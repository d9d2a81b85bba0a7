"""Web chat history: what the page showed in one conversation, so a reload shows it again.

One row per message as the relay saw it: the resident's message (the part read, bot/text.py),
each answer Rasa gave (its text and buttons), and each operator reply once the page said it
was shown (POST /v1/chat/{sender}/replies/{id}/shown). Keyed by the conversation id
(`web-…`), read only with that conversation's token (bot/service/routers/chat.py).

Personal data: texts are stored masked like Rasa's tracker store (bot/privacy.py
`mask_text`: 身份证号, bank cards and phone numbers), so the only raw copy of a number a
resident typed stays in their case, for its handler. After a reload the resident sees
their own number as 139****0876. Rows older than JZ_RETENTION_DAYS are deleted
(bot/retention.py `purge_chat_history`); "结束对话" deletes the conversation's rows at once.

Registered on bot.orm.Base through bot/storage_models.py; the table is made by migration
0002 (bot/migrations/versions).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Database
from bot.orm import Base
from bot.privacy import mask_text

ROLES = ("resident", "bot", "operator")
MAX_SHOWN = 300  # the newest messages a reload shows
MAX_BUTTONS = 12
MAX_TEXT = 20_000  # a bot answer with its quoted clauses fits easily


class ChatMessage(Base):
    __tablename__ = "web_chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list] = mapped_column(JSON, default=list)
    # Operator replies: the case desk's reply id (case_replies.id), so the page shows each once.
    reply_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_web_chat_messages_sender", "sender_id", "id"),)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _buttons(buttons) -> list[dict]:
    out = []
    for b in (buttons or [])[:MAX_BUTTONS]:
        if isinstance(b, dict) and b.get("title"):
            out.append({"title": mask_text(str(b["title"]))[:200], "payload": str(b.get("payload") or "")[:500]})
    return out


def message_row(
    sender: str, role: str, text: str, buttons=None, reply_id: int | None = None, at: datetime | None = None
) -> ChatMessage:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return ChatMessage(
        sender_id=sender,
        at=at or _utcnow(),
        role=role,
        text=mask_text(text or "")[:MAX_TEXT],
        buttons=_buttons(buttons),
        reply_id=reply_id,
    )


def record(db: Database, sender: str, messages: list[tuple[str, str, list | None]]) -> None:
    """Appends (role, text, buttons) messages to the conversation, in order, one transaction."""
    if not messages:
        return
    now = _utcnow()
    with db.session() as s:
        s.add_all([message_row(sender, role, text, buttons, at=now) for role, text, buttons in messages])
        s.commit()


def record_reply(db: Database, sender: str, reply_id: int, text: str) -> None:
    with db.session() as s:
        s.add(message_row(sender, "operator", text, reply_id=reply_id))
        s.commit()


def has_reply(db: Database, sender: str, reply_id: int) -> bool:
    with db.session() as s:
        return (
            s.scalar(
                select(ChatMessage.id).where(ChatMessage.sender_id == sender, ChatMessage.reply_id == reply_id).limit(1)
            )
            is not None
        )


def history(db: Database, sender: str, limit: int = MAX_SHOWN) -> list[dict]:
    """The conversation's newest `limit` messages, oldest first."""
    with db.session() as s:
        rows = list(
            s.scalars(
                select(ChatMessage).where(ChatMessage.sender_id == sender).order_by(ChatMessage.id.desc()).limit(limit)
            )
        )
    return [
        {
            "role": r.role,
            "text": r.text,
            "buttons": r.buttons or [],
            "reply_id": r.reply_id,
            "at": r.at.replace(tzinfo=UTC).isoformat(),
        }
        for r in reversed(rows)
    ]


def forget(db: Database, sender: str) -> int:
    """Deletes the conversation's history (结束对话); the number of messages removed."""
    with db.session() as s:
        n = s.execute(delete(ChatMessage).where(ChatMessage.sender_id == sender)).rowcount or 0
        s.commit()
    return n
