"""Drafts of knowledge cards from a group of knowledge gaps (bot/kb/gaps.py), in the cards'
own YAML (policy_kb/cards/<topic>.yml, read by bot/kb/cards.py), ready to paste:

- improve: the close card's entry (its id, under `cards:` of its file) with the group's
  questions as new `variants`, to add to that card's list;
- new: a card stub (id, kind, question, variants) whose answer the editor writes from the
  rules, with the closest provisions of the search as its suggested `citations` (span empty:
  the editor quotes the exact words the answer rests on).

Questions that already are a variant of some card (compared as bot.kb.cards.variant_key) are
left out: a variant may belong to one card only. `python -m bot.kb.cards --check` checks the
result once pasted (an empty answer or span fails it until the editor fills them in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from bot.kb.cards import CARDS_DIR, TOPIC_PROGRAMS, Card, variant_key

VARIANT_MAX = 200  # characters of a question kept as a variant
NEW_ID = "new_question"  # the stub's id after its topic: the editor names it


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as the card files write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(entry: dict[str, Any]) -> str:
    text = yaml.dump(
        [entry], Dumper=_IndentedDumper, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False
    )
    # Under `cards:` of the file: every line two spaces in.
    return "".join("  " + line if line.strip() else line for line in text.splitlines(keepends=True))


@dataclass(frozen=True)
class Source:
    """A provision suggested as a new card's source."""

    provision_id: str
    title: str
    clause: str
    excerpt: str


@dataclass(frozen=True)
class Draft:
    action: Literal["improve", "new"]
    card_id: str
    path: str  # policy_kb/cards/<file>
    yaml: str
    variants: list[str]  # the questions the draft adds
    skipped: list[str] = field(default_factory=list)  # questions some card has already
    sources: list[Source] = field(default_factory=list)
    question: str = ""  # the card's question (improve) or the stub's


def new_variants(questions: Iterable[str], cards: Sequence[Card]) -> tuple[list[str], list[str]]:
    """(questions to add as variants, questions left out as some card's already), in order."""
    taken = {variant_key(t) for c in cards for t in c.texts}
    out: list[str] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for q in questions:
        text = " ".join((q or "").split())[:VARIANT_MAX]
        key = variant_key(text)
        if not key or key in seen:
            continue
        seen.add(key)
        (skipped if key in taken else out).append(text)
    return out, skipped


def card_path(source_file: str) -> str:
    return f"policy_kb/{CARDS_DIR}/{source_file}"


def improve_draft(card: Card, questions: Iterable[str], cards: Sequence[Card]) -> Draft:
    """The group's questions as new variants of `card`."""
    variants, skipped = new_variants(questions, cards)
    entry = {"id": card.id, "variants": variants}
    header = f"# {card_path(card.source_file)}：把下面的问法加到卡片 {card.id} 的 variants 末尾\n"
    return Draft(
        action="improve",
        card_id=card.id,
        path=card_path(card.source_file),
        yaml=header + _dump(entry),
        variants=variants,
        skipped=skipped,
        question=card.question,
    )


def new_draft(
    question: str,
    questions: Iterable[str],
    cards: Sequence[Card],
    *,
    topic: str = "other",
    kind: str = "其他",
    sources: Sequence[Source] = (),
) -> Draft:
    """A stub of a new card asking `question`, its variants the group's other questions."""
    topic = topic if topic in TOPIC_PROGRAMS else "other"
    variants, skipped = new_variants(questions, cards)
    head = " ".join(question.split())[:VARIANT_MAX]
    card_id = f"{topic}.{NEW_ID}"
    entry: dict[str, Any] = {
        "id": card_id,
        "kind": kind,
        "question": head,
        "variants": [v for v in variants if v != head],
        "answer": "",
        "citations": [{"provision": s.provision_id, "span": ""} for s in sources],
        "reviewed": {"date": "", "by": ""},
    }
    path = card_path(f"{topic}.yml")
    header = (
        f"# {path}：加在 cards: 下面。请改好 id，照规定写 answer（160 字以内），在 span 里摘出依据原文，问法补足 8 条\n"
    )
    return Draft(
        action="new",
        card_id=card_id,
        path=path,
        yaml=header + _dump(entry),
        variants=entry["variants"],
        skipped=skipped,
        sources=list(sources),
        question=head,
    )
