"""The knowledge gaps' record: questions the knowledge base answered with low confidence.

POST /v1/kb/answer (bot/service/routers/kb.py) records, after the answer has been sent, every
answer that is not a sure card (`match` is "clauses" or "none", or a card with `sure` false):
the question, the asker's place, the match, the confidence and the card, with the time. The
console's knowledge-gaps page (bot/cases/knowledge_gaps.py) groups them for the editors of
the knowledge cards (bot/kb/gaps.py).

Personal data: the question is stored masked (bot/privacy.py `mask_personal_text`: 身份证号,
bank cards, phone numbers, and names and addresses after the words that introduce them), so
no number a resident typed is kept here. Rows older than JZ_RETENTION_DAYS are deleted
(bot/retention.py `purge_knowledge_gaps`).

Registered on bot.orm.Base through bot/storage_models.py; the table is made by migration
0007 (bot/migrations/versions).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, Text, delete, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Database
from bot.orm import Base
from bot.privacy import mask_personal_text
from bot.text import clean_message

QUESTION_MAX = 500  # characters kept of a question (a long story's question is in its first lines)
MATCHES = ("card", "clauses", "none")


class KnowledgeGap(Base):
    """One answer the knowledge base was not sure of."""

    __tablename__ = "knowledge_gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC, as the service stores times
    question: Mapped[str] = mapped_column(Text, default="")  # masked
    jurisdiction: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the asker's place
    match: Mapped[str] = mapped_column(String(16))  # card | clauses | none
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    card_id: Mapped[str | None] = mapped_column(String(128), nullable=True)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def is_gap(answer: Mapping[str, Any]) -> bool:
    """Whether an answer of KnowledgeBase.answer is one to record: not a card, or a card the
    answer was not sure of (it said which question it took the message for)."""
    return answer.get("match") != "card" or answer.get("sure") is False


def gap_row(
    question: str, jurisdiction: str | None, answer: Mapping[str, Any], at: datetime | None = None
) -> KnowledgeGap:
    match = str(answer.get("match") or "none")
    confidence = answer.get("confidence")
    card_id = answer.get("card_id")
    return KnowledgeGap(
        at=at or _utcnow(),
        question=mask_personal_text(clean_message(question or ""))[:QUESTION_MAX],
        jurisdiction=(jurisdiction or None) and str(jurisdiction)[:32],
        match=match if match in MATCHES else "none",
        confidence=float(confidence) if isinstance(confidence, int | float) else 0.0,
        card_id=str(card_id)[:128] if card_id else None,
    )


def record(
    db: Database, question: str, jurisdiction: str | None, answer: Mapping[str, Any], at: datetime | None = None
) -> bool:
    """Stores the answer when it is a gap (`is_gap`); whether it did."""
    if not is_gap(answer):
        return False
    row = gap_row(question, jurisdiction, answer, at)
    if not row.question:
        return False
    with db.session() as s:
        s.add(row)
        s.commit()
    return True


def since(s: Session, start: datetime, end: datetime | None = None, limit: int = 5000) -> list[KnowledgeGap]:
    """The gaps recorded from `start` (up to `end`), newest first, at most `limit`."""
    q = select(KnowledgeGap).where(KnowledgeGap.at >= start)
    if end is not None:
        q = q.where(KnowledgeGap.at < end)
    return list(s.scalars(q.order_by(KnowledgeGap.at.desc(), KnowledgeGap.id.desc()).limit(limit)))


def by_ids(s: Session, ids: list[int]) -> list[KnowledgeGap]:
    if not ids:
        return []
    return list(s.scalars(select(KnowledgeGap).where(KnowledgeGap.id.in_(ids)).order_by(KnowledgeGap.at.desc())))


def purge(db: Database, cutoff: datetime, dry_run: bool = False) -> int:
    """Deletes the gaps recorded before the cut-off; the number of rows."""
    with db.session() as s:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(text("PRAGMA secure_delete=ON"))
        if dry_run:
            return s.scalar(select(func.count()).select_from(KnowledgeGap).where(KnowledgeGap.at < cutoff)) or 0
        done = s.execute(delete(KnowledgeGap).where(KnowledgeGap.at < cutoff))
        s.commit()
    return int(getattr(done, "rowcount", 0) or 0)
