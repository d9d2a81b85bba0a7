"""The console's knowledge gaps (知识缺口): what the bot could not answer well in a period,
grouped for the editors of the knowledge cards (GET /console/knowledge-gaps, supervisors and
admins), each group with a draft of the card to improve or to write.

Two sources, both masked before they are shown:
- the answers the knowledge base was not sure of (bot/kb/gap_log.py, recorded by
  POST /v1/kb/answer; stored masked);
- the questions of conversations the bot handed over to the hotline: consultation cases the
  bot opened (actions/handover.py: "居民请求人工服务"), their `questions`. Cases keep the
  resident's own words for their handler, so these are masked here (bot/privacy.py
  `mask_personal_text`, the case's contact name too). A question the bot answered unsure
  and that then went to a person counts in both.

The grouping itself is bot/kb/gaps.py (pure); the drafts bot/kb/card_drafts.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.actors import BOT
from bot.cases.model import CaseType
from bot.cases.store import Case
from bot.db import Database
from bot.kb import KnowledgeBase, gap_log
from bot.kb.card_drafts import Draft, Source, improve_draft, new_draft
from bot.kb.gaps import NO_PLACE, Asked, Group, card_finder, group_questions, kb_features, one_group
from bot.places import NATIONAL, UnknownPlace
from bot.privacy import mask_personal_text

PERIODS = (7, 30, 90)  # days the page offers
DEFAULT_DAYS = 30
# Questions grouped at most, the newest (grouping compares every pair: a few seconds beyond).
MAX_QUESTIONS = 2000
MAX_GROUPS = 100  # groups shown (and ranked against the cards)
HANDOVER_TYPES = (CaseType.consultation,)  # what actions/handover.py opens when a resident asks for a person
SOURCES = 3  # provisions suggested for a new card
EXCERPT = 120
_REF = re.compile(r"^(?:q(\d{1,12})|h(\d{1,12})\.(\d{1,2}))$")


@dataclass
class GapReport:
    days: int
    start: datetime  # naive UTC
    end: datetime
    groups: list[Group] = field(default_factory=list)
    total: int = 0  # questions grouped
    handovers: int = 0
    truncated: bool = False  # more questions than MAX_QUESTIONS: the oldest were left out
    more_groups: int = 0  # groups beyond MAX_GROUPS, not shown


def period_days(value: object) -> int:
    """The period asked for, one of PERIODS (else the default)."""
    try:
        days = int(str(value))
    except ValueError:
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


def _recorded(row: gap_log.KnowledgeGap) -> Asked:
    return Asked(
        ref=f"q{row.id}",
        text=row.question,
        at=row.at,
        place=row.jurisdiction,
        match=row.match,
        confidence=row.confidence,
        card_id=row.card_id,
    )


def _handover_questions(case: Case) -> list[Asked]:
    contact: dict[str, Any] = case.contact if isinstance(case.contact, dict) else {}
    name = contact.get("name")
    names = [name] if isinstance(name, str) else []
    out = []
    for i, q in enumerate(case.questions or []):
        text = mask_personal_text(q, names).strip() if isinstance(q, str) else ""
        if text:
            out.append(
                Asked(ref=f"h{case.id}.{i}", text=text, at=case.created_at, place=case.jurisdiction, handover=True)
            )
    return out


def _handover_cases(s: Session, start: datetime, end: datetime, limit: int) -> list[Case]:
    return list(
        s.scalars(
            select(Case)
            .where(
                Case.type.in_([str(t) for t in HANDOVER_TYPES]),
                Case.created_by == BOT.name,
                Case.created_at >= start,
                Case.created_at < end,
            )
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        )
    )


def questions_in(s: Session, start: datetime, end: datetime, limit: int = MAX_QUESTIONS) -> tuple[list[Asked], bool]:
    """(the period's questions, newest first, at most `limit`; whether some were left out)."""
    asked = [_recorded(r) for r in gap_log.since(s, start, end, limit=limit + 1)]
    for case in _handover_cases(s, start, end, limit + 1):
        asked += _handover_questions(case)
    asked.sort(key=lambda a: a.at, reverse=True)
    return asked[:limit], len(asked) > limit


def report(db: Database, kb: KnowledgeBase, now: datetime, days: int = DEFAULT_DAYS) -> GapReport:
    """The knowledge gaps of the last `days` days before `now` (naive UTC), grouped."""
    days = period_days(days)
    start, end = now - timedelta(days=days), now + timedelta(seconds=1)
    with db.session() as s:
        asked, truncated = questions_in(s, start, end)
    groups = group_questions(asked, features=kb_features(kb.vocab), nearest=card_finder(kb), limit=MAX_GROUPS)
    return GapReport(
        days=days,
        start=start,
        end=end,
        groups=groups[:MAX_GROUPS],
        total=len(asked),
        handovers=sum(1 for a in asked if a.handover),
        truncated=truncated,
        more_groups=max(0, len(groups) - MAX_GROUPS),
    )


# ---------------------------------------------------------------- a group's draft


def parse_refs(value: str, limit: int = 50) -> list[str]:
    """The question references of a draft link ("q12,h34.0"), the well-formed ones only."""
    out: list[str] = []
    for part in (value or "").split(","):
        ref = part.strip()
        if _REF.match(ref) and ref not in out:
            out.append(ref)
        if len(out) >= limit:
            break
    return out


def load_refs(db: Database, refs: list[str]) -> list[Asked]:
    """The questions the references name (masked), those that still exist."""
    gap_ids: list[int] = []
    case_questions: dict[int, set[int]] = {}
    for ref in refs:
        m = _REF.match(ref)
        if not m:
            continue
        if m.group(1):
            gap_ids.append(int(m.group(1)))
        else:
            case_questions.setdefault(int(m.group(2)), set()).add(int(m.group(3)))
    with db.session() as s:
        asked = [_recorded(r) for r in gap_log.by_ids(s, gap_ids)]
        if case_questions:
            cases = s.scalars(
                select(Case).where(
                    Case.id.in_(list(case_questions)),
                    Case.type.in_([str(t) for t in HANDOVER_TYPES]),
                    Case.created_by == BOT.name,
                )
            )
            for case in cases:
                wanted = {f"h{case.id}.{i}" for i in case_questions[case.id]}
                asked += [a for a in _handover_questions(case) if a.ref in wanted]
    return asked


def _sources(kb: KnowledgeBase, group: Group) -> list[Source]:
    place = next((p for p, _ in group.places if p != NO_PLACE), None)
    try:
        hits = kb.search(group.representative, jurisdiction=place or NATIONAL, limit=SOURCES)
    except UnknownPlace:
        hits = kb.search(group.representative, jurisdiction=NATIONAL, limit=SOURCES)
    out = []
    for h in hits:
        p = h.provision
        text = " ".join(p["text"].split())
        out.append(Source(p["id"], p["title"], p["clause"], text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")))
    return out


def draft(db: Database, kb: KnowledgeBase, refs: list[str], card_id: str | None = None) -> tuple[Group, Draft] | None:
    """The group of the referenced questions and its card draft: "improve" the card `card_id`
    (the close card the list showed, so the link and its draft agree) when it exists, else a
    "new" card; None when none of the questions exists any more."""
    from bot.understanding import understand

    group = one_group(load_refs(db, refs), features=kb_features(kb.vocab), nearest=card_finder(kb))
    if group is None:
        return None
    cards = kb.card_index.cards
    card = next((c for c in cards if c.id == card_id), None) if card_id else None
    if card is not None:
        return group, improve_draft(card, group.questions, cards)
    query = understand(group.representative, kb.kb_dir)
    topic = group.best.topic if group.best is not None else "other"
    result = new_draft(
        group.representative, group.questions, cards, topic=topic, kind=query.kind, sources=_sources(kb, group)
    )
    return group, result
