"""Knowledge cards: curated question-and-answer entries (知识条目) with their sources.

A card answers one question residents ask, in at most about 150 characters of
plain Chinese, and names the provisions (with the exact span) that every claim
rests on. Cards live in policy_kb/cards/<topic>.yml, one file per topic of the
evaluation README; a card may carry per-place answers (`local`) where 渠县,
达州, 巴中 or 会宁 differ from the national rule.

    python -m bot.kb.cards --check [FILE ...]   # validate cards (all by default)
    python -m bot.kb.cards --stats              # cards per topic

Checks (also run by `python -m bot.kb.build --check`):
- every citation names a provision that exists and is not overridden, and its
  span is found in that provision's text;
- every number and date in an answer appears in one of its cited spans (the
  emergency and hotline numbers aside), so no figure is ever our own;
- a local answer cites only provisions that apply in that place;
- at least 8 variants per card, and no variant (normalised) belongs to two cards.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import yaml

from bot.hotlines import SERVICE_NUMBERS
from bot.kb.checks import span_in
from bot.kb.figures import figures, span_figures
from bot.kb.provision import Provision
from bot.places import NATIONAL, UnknownPlace, applies_in, jurisdiction_path, normalize_place

CARDS_DIR = "cards"
MIN_VARIANTS = 8
ANSWER_MAX = 160
# Topics of ../shared/eval/README.md, and the program each belongs to (docs GLOSSARY ids).
TOPIC_PROGRAMS: dict[str, str | None] = {
    "dibao_eligibility": "dibao",
    "dibao_application": "dibao",
    "dibao_amount": "dibao",
    "dibao_edge": "dibao_edge",
    "single_person_household": "dibao_single",
    "gradual_exit": "dibao",
    "tekun": "tekun",
    "temporary_assistance": "temporary_assistance",
    "medical_assistance": "medical_assistance",
    "education_assistance": "education_assistance",
    "housing_assistance": "housing_assistance",
    "employment_assistance": "employment_assistance",
    "children": "children",
    "disability": "disability_subsidies",
    "vagrancy": "vagrancy",
    "hotline": "hotline",
    "supervision_complaint": "supervision",
    "other": None,
}
# What a question asks for; `kind` of a card.
QUESTION_KINDS = ("定义", "条件", "材料", "流程", "时限", "金额", "发放", "计算", "退出", "投诉", "热线", "其他")


@dataclass(frozen=True)
class CardCitation:
    provision_id: str
    span: str


@dataclass(frozen=True)
class CardAnswer:
    text: str
    citations: tuple[CardCitation, ...]


@dataclass
class Card:
    id: str
    topic: str
    kind: str
    question: str
    variants: tuple[str, ...]
    answer: CardAnswer
    local: dict[str, CardAnswer] = field(default_factory=dict)
    reviewed_on: str = ""
    reviewed_by: str = ""
    source_file: str = ""

    @property
    def program(self) -> str | None:
        return TOPIC_PROGRAMS.get(self.topic)

    @property
    def texts(self) -> tuple[str, ...]:
        """The question and its variants: what a resident's message is matched against."""
        return (self.question, *self.variants)

    def answer_for(self, place: str | None) -> tuple[CardAnswer, str]:
        """The answer for an asker in `place` (its own or a parent's local answer, else the
        national one) and the place whose rule it gives."""
        if place and self.local:
            try:
                path = jurisdiction_path(place)
            except UnknownPlace:
                path = []
            for p in path:
                if p in self.local:
                    return self.local[p], p
        return self.answer, NATIONAL


# Numbering copied from FAQ pages ("Q1:", "问：", "四、", "解读二:"): not part of the question.
_ENUMERATOR = re.compile(r"^(?:q\d*|问|解读[一二三四五六七八九十\d]+|[一二三四五六七八九十]+|\d{1,2})(?=[:：、.])")
NEAR_COPY = 0.75  # similarity at or above which a variant counts as a copy of an evaluation question


def variant_key(text: str) -> str:
    """The form in which two variants count as the same question."""
    text = unicodedata.normalize("NFKC", text or "").lower().strip()
    text = _ENUMERATOR.sub("", text)
    return re.sub(r"[\s\W_]+", "", text)


def near_copy(a: str, b: str) -> bool:
    """Whether two questions (as variant keys) are the same sentence give or take a few words."""
    from difflib import SequenceMatcher

    if not a or not b:
        return False
    if (a in b or b in a) and min(len(a), len(b)) >= 8:
        return True
    m = SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most pairs fail them, and the full ratio is slow.
    return m.real_quick_ratio() >= NEAR_COPY and m.quick_ratio() >= NEAR_COPY and m.ratio() >= NEAR_COPY


def _read_answer(raw: dict[str, Any], where: str, problems: list[str]) -> CardAnswer:
    text = str(raw.get("answer") or "").strip()
    if not text:
        problems.append(f"{where}: no answer")
    cites = []
    for c in raw.get("citations") or []:
        if not isinstance(c, dict) or not c.get("provision") or not c.get("span"):
            problems.append(f"{where}: a citation needs `provision` and `span`: {c!r}")
            continue
        cites.append(CardCitation(str(c["provision"]).strip(), str(c["span"]).strip()))
    if not cites:
        problems.append(f"{where}: no citations")
    return CardAnswer(text, tuple(cites))


def read_card_file(path: Path, problems: list[str]) -> list[Card]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    topic = raw.get("topic") or path.stem
    if topic not in TOPIC_PROGRAMS:
        problems.append(f"{path.name}: unknown topic {topic!r}")
    cards = []
    for item in raw.get("cards") or []:
        cid = str(item.get("id") or "")
        where = f"{path.name}:{cid or '?'}"
        if not cid:
            problems.append(f"{where}: card without id")
        reviewed = item.get("reviewed") or {}
        local = {}
        for place, ans in (item.get("local") or {}).items():
            try:
                canonical = normalize_place(str(place))
            except UnknownPlace:
                problems.append(f"{where}: unknown place {place!r} in local")
                continue
            local[canonical] = _read_answer(ans or {}, f"{where}[{canonical}]", problems)
        cards.append(
            Card(
                id=cid,
                topic=topic,
                kind=str(item.get("kind") or "其他"),
                question=str(item.get("question") or "").strip(),
                variants=tuple(str(v).strip() for v in item.get("variants") or [] if str(v).strip()),
                answer=_read_answer(item, where, problems),
                local=local,
                reviewed_on=str(reviewed.get("date") or ""),
                reviewed_by=str(reviewed.get("by") or ""),
                source_file=path.name,
            )
        )
    return cards


def card_files(kb_dir: Path) -> list[Path]:
    return sorted((kb_dir / CARDS_DIR).glob("*.yml"))


def load_cards(kb_dir: Path, files: list[Path] | None = None) -> tuple[list[Card], list[str]]:
    problems: list[str] = []
    cards: list[Card] = []
    for path in files or card_files(kb_dir):
        cards += read_card_file(path, problems)
    return cards, problems


def check_cards(cards: list[Card], provisions: list[Provision], *, eval_questions: Sequence[str] = ()) -> list[str]:
    problems: list[str] = []
    by_id = {p["id"]: p for p in provisions}
    seen_ids: set[str] = set()
    owner: dict[str, str] = {}
    eval_keys = [variant_key(q) for q in eval_questions]
    for card in cards:
        where = f"{card.source_file}:{card.id}"
        if card.id in seen_ids:
            problems.append(f"{where}: duplicate card id")
        seen_ids.add(card.id)
        if card.kind not in QUESTION_KINDS:
            problems.append(f"{where}: kind {card.kind!r} is not one of {'/'.join(QUESTION_KINDS)}")
        if not card.question:
            problems.append(f"{where}: no question")
        if len(set(map(variant_key, card.variants))) < MIN_VARIANTS:
            problems.append(f"{where}: {len(card.variants)} variants, at least {MIN_VARIANTS} different ones needed")
        if not (card.reviewed_on and card.reviewed_by):
            problems.append(f"{where}: `reviewed` needs `date` and `by`")
        for text in card.texts:
            key = variant_key(text)
            if any(near_copy(key, e) for e in eval_keys):
                problems.append(f"{where}: {text!r} is (nearly) an evaluation question; write your own")
            other = owner.setdefault(key, card.id)
            if other != card.id:
                problems.append(f"{where}: {text!r} also belongs to card {other}")
        answers = [(NATIONAL, card.answer), *card.local.items()]
        for place, ans in answers:
            problems += _check_answer(f"{where}[{place}]", ans, place, by_id)
    return problems


def _check_answer(where: str, ans: CardAnswer, place: str, by_id: dict[str, Provision]) -> list[str]:
    problems = []
    drafts = False
    if len(ans.text) > ANSWER_MAX:
        problems.append(f"{where}: answer has {len(ans.text)} characters, at most {ANSWER_MAX}")
    spans = []
    for c in ans.citations:
        p = by_id.get(c.provision_id)
        if p is None:
            problems.append(f"{where}: dangling citation {c.provision_id}")
            continue
        if p.get("status") == "draft" and "征求意见稿" not in ans.text:
            drafts = True
        if p.get("status") == "overridden":
            problems.append(
                f"{where}: {c.provision_id} is overridden by {p.get('overridden_by')}; cite the rule in force"
            )
        if not span_in(c.span, p["text"]):
            problems.append(f"{where}: span not in {c.provision_id}: {c.span[:40]!r}")
        if place == NATIONAL:
            if p["jurisdiction"] != NATIONAL:
                problems.append(
                    f"{where}: the national answer cites {p['jurisdiction']}'s {c.provision_id}; put it under `local`"
                )
        elif not applies_in(p["jurisdiction"], place):
            problems.append(f"{where}: {c.provision_id} ({p['jurisdiction']}) does not apply in {place}")
        spans.append(c.span)
    if drafts:
        problems.append(f"{where}: cites the Sichuan draft but does not say 征求意见稿")
    # Numbers a card may say without a source: emergency and hotline numbers.
    allowed = span_figures(spans) | SERVICE_NUMBERS
    for n in figures(ans.text):
        if n not in allowed:
            problems.append(f"{where}: number {n} in the answer is not in any cited span")
    return problems


class CardStatus(TypedDict):
    status: str  # draft when it cites the draft, else in_force
    effective_from: str | None  # the latest start of the provisions it cites


def card_status(card_answer: CardAnswer, by_id: dict[str, Provision]) -> CardStatus:
    """Status and dates of an answer, derived from the provisions it cites."""
    cited = [by_id[c.provision_id] for c in card_answer.citations if c.provision_id in by_id]
    draft = any(p.get("status") == "draft" for p in cited)
    starts = [str(p["effective_from"]) for p in cited if p.get("effective_from")]
    return {"status": "draft" if draft else "in_force", "effective_from": max(starts) if starts else None}


def eval_questions(kb_dir: Path) -> list[str]:
    """Questions we measure with and must never copy: the shared evaluation questions (when
    they are beside the checkout) and our fresh held-out set (policy_kb/eval/answer_keys_fresh.jsonl).
    Our first labelled set is not among them: it has been tuned against (policy_kb/eval/README.md)."""
    paths = [
        kb_dir.parent.parent / "shared" / "eval" / "real_questions_dev.jsonl",
        kb_dir / "eval" / "answer_keys_fresh.jsonl",
    ]
    return [
        json.loads(line)["q"]
        for path in paths
        if path.exists()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _load_provisions(kb_dir: Path) -> list[Provision]:
    with open(kb_dir / "provisions.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def validate(kb_dir: Path, files: list[Path] | None = None) -> tuple[list[Card], list[str]]:
    """Load and check cards against the built provisions; (cards, problems)."""
    all_cards, problems = load_cards(kb_dir)
    problems += check_cards(all_cards, _load_provisions(kb_dir), eval_questions=eval_questions(kb_dir))
    if files:
        names = {f.name for f in files}
        problems = [p for p in problems if p.split(":", 1)[0] in names]
        all_cards = [c for c in all_cards if c.source_file in names]
    return all_cards, problems


def cards_per_topic(cards: list[Card]) -> dict[str, int]:
    counts = {t: 0 for t in TOPIC_PROGRAMS}
    for c in cards:
        counts[c.topic] = counts.get(c.topic, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    from bot.config import settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args(argv)
    kb_dir = Path(settings().policy_kb_dir)
    cards, problems = validate(kb_dir, args.files or None)
    for p in problems:
        print(p)
    if args.stats or not args.check:
        for topic, n in cards_per_topic(cards).items():
            print(f"{topic:26s} {n}")
        print(f"{'total':26s} {len(cards)}")
    print(f"{len(cards)} cards, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
