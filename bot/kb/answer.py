"""Short, warm, sourced answers: a knowledge card first, clauses second.

1. The message is read once (bot.understanding.Query) and the knowledge cards
   (policy_kb/cards/) are ranked for it. A card above the calibrated threshold
   answers: its answer for the asker's place, its basis as one compact line
   (《title》clause), and the cited provisions with the exact span each claim
   rests on.
2. Otherwise the answer is built from the best provisions (2–4 sentences taken
   from them), and says honestly that it may not answer the question, with the
   hotlines.
Never a figure of our own: every number in a card's answer is in its cited
spans (checked at build time), every number in a clause answer is in a quoted
provision. Local figures we do not hold (a 低保标准 amount, a payment day) are
left to the local 民政 office; other cities get the national rule.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from bot.hotlines import ASK_LOCALLY, CALL_HOTLINES, HOTLINE_NAMES
from bot.kb.card_index import CardHit
from bot.kb.cards import card_status
from bot.kb.hit import Hit
from bot.kb.provision import Provision
from bot.places import NATIONAL, normalize_place
from bot.understanding import Query, understand
from bot.vocab import Vocabulary, tokenize


class KnowledgeBase(Protocol):
    """What an answer is composed from: bot.kb.knowledge_base.KnowledgeBase (whose `answer`
    calls `compose_answer` with itself). Said here, so this module needs no import of the search."""

    @property
    def kb_dir(self) -> Path: ...
    @property
    def vocab(self) -> Vocabulary: ...
    @property
    def by_id(self) -> dict[str, Provision]: ...

    def search(
        self, query: str, jurisdiction: str | None = None, limit: int = 5, *, topics: list[str] | None = None
    ) -> list[Hit]: ...

    def rank_cards_by_question(self, query: Query, limit: int = 3) -> tuple[list[CardHit], list[CardHit]]: ...


FIGURE_SENTENCE = "具体{what}，由当地民政部门按标准核定，以当地民政部门公布的标准为准。"
OTHER_CITY_NOTE = "{city}的具体标准和办法以当地民政部门公布的为准。"
OTHER_CITY_SENTENCE = (
    "{city}的具体标准和办法由当地制定，我这里没有当地的文件，上面是国家层面的规定，具体以当地民政部门公布的为准。"
)
DRAFT_SENTENCE = "请注意，这条出自四川省的征求意见稿，还不是正式文件，仅供参考，以正式公布的规定为准。"
UNSURE_SENTENCE = "我找到的相关规定是下面这些，可能没有完全回答您的问题。"
# A card answers when its score reaches CARD_THRESHOLD; below CARD_SURE the answer says
# which question it took the message for (or shows the two closest cards), so a resident
# sees a misunderstanding at once. Calibrated on our own labelled set (bench/bench_cards.py):
# above 0.8 the best card answers about 9 in 10 questions, between 0 and 0.6 about 6 in 10,
# and far below that (administrative questions no card is about) the clauses say more.
CARD_THRESHOLD = 0.15
CARD_SURE = 0.8
CARD_CLOSE = 0.5  # two cards this close below CARD_SURE are both shown
CARD_EACH_QUESTION = 0.3  # a message asking two questions gets a card for each above this
NOT_FOUND = (
    "这个问题我在现有的政策文件里没有找到明确的规定，不想给您说错。"
    f"建议您直接问问乡镇（街道）社会救助窗口，或者{CALL_HOTLINES}。"
)
QUOTE_MAX = 220
KEY_MAX = 130

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RESP_UNIT = re.compile(r"[〔(（]\s*责任单位[^〕)）]*[〕)）]|[(（][^()（）]{0,30}负责[^()（）]{0,20}[)）]")


def _sentences(text: str) -> list[str]:
    text = _RESP_UNIT.sub("", text.replace("\n", ""))
    parts = re.findall(r"[^。；！？]+[。；！？]?", text)
    return [p.strip() for p in parts if p.strip()]


def _key_sentence(
    kb: KnowledgeBase, provision: Provision, question_tokens: set[str], definition: bool, amount: bool = False
) -> str:
    sents = _sentences(provision["text"])
    if not sents:
        return ""
    if definition and provision["id"] in kb.vocab.topic_definitions.get((provision.get("topics") or [""])[0], []):
        best = 0
    else:

        def score(s: str) -> float:
            norm = kb.vocab.normalize(s)
            hits: float = sum(1 for t in question_tokens if t in norm)
            if amount and re.search(r"\d|倍|元|额度|比例", s):
                hits += 1.5
            return hits - (0.5 if len(s) < 12 else 0)

        best = max(range(len(sents)), key=lambda i: (score(sents[i]), -i))
    chosen = sents[best]
    if len(chosen) < 26 and best + 1 < len(sents):
        chosen += sents[best + 1]
    chosen = chosen.rstrip("；;，,")
    if len(chosen) > KEY_MAX:
        cut = max(chosen.rfind("，", 0, KEY_MAX), chosen.rfind("、", 0, KEY_MAX))
        chosen = chosen[: cut if cut > 40 else KEY_MAX] + "……"
    if not chosen.endswith(("。", "……", "！", "？")):
        chosen += "。"
    return chosen


def _place_phrase(p: Provision, asker: str | None) -> str:
    place = p["jurisdiction"]
    if p["status"] == "draft":
        return "四川省的征求意见稿提出"
    if place == NATIONAL:
        return f"按照《{p['title']}》{p['clause']}的规定" if p["doc_id"] == "shjzf_2026" else "按照国家规定"
    if asker is None:
        return f"按照{place}的规定（这是{place}的文件，只适用于{place}）"
    return f"按照{place}的规定"


def _date_label(p: Provision) -> str:
    if p.get("date"):
        return str(p["date"])
    if p.get("effective_from"):
        return f"{p['effective_from']}施行"
    return "日期不详"


def citation(p: Provision) -> dict[str, Any]:
    return {
        "id": p["id"],
        "title": p["title"],
        "clause": p["clause"],
        "issuer": p["issuer"],
        "date": _date_label(p),
        "number": p.get("number"),
        "jurisdiction": p["jurisdiction"],
        "status": p["status"],
        "status_label": {"in_force": "现行有效", "draft": "征求意见稿（非正式文件）", "overridden": "已被新规定取代"}[
            p["status"]
        ],
        "effective": _effective_label(p),
        "overridden_by": p.get("overridden_by"),
        "source": p.get("source"),
        "source_file": p.get("source_file"),
        "source_line": p.get("source_line"),
        "text": p["text"],
    }


def _effective_label(p: Provision) -> str:
    if p.get("effective_note"):
        return str(p["effective_note"])
    if p.get("effective_from"):
        return f"{p['effective_from']}起施行"
    return ""


def _quote(c: dict[str, Any]) -> str:
    text = c["text"].replace("\n", "")
    if len(text) > QUOTE_MAX:
        cut = text.rfind("。", 0, QUOTE_MAX)
        text = text[: cut + 1 if cut > 60 else QUOTE_MAX] + "……"
    status = ""
    if c["status"] == "draft":
        status = "【征求意见稿，非正式文件】"
    elif c["status"] == "overridden":
        status = "【已被取代，仅供对照】"
    number = f"{c['number']}，" if c.get("number") else ""
    return f"{status}《{c['title']}》{c['clause']}（{c['issuer']}，{number}{c['date']}）：“{text}”"


def numbers_supported(text: str, citations: list[dict[str, Any]]) -> bool:
    """Every number in `text` appears in a cited provision (hotline numbers aside)."""
    pool = " ".join(c["text"] for c in citations)
    for n in _NUMBER.findall(text):
        if n in HOTLINE_NAMES:
            continue
        if n not in pool:
            return False
    return True


def compose_answer(kb: KnowledgeBase, question: str, jurisdiction: str | None) -> dict[str, Any]:
    """The answer to a resident's question; `jurisdiction` is the asker's place (or None)."""
    query = understand(question, kb.kb_dir)
    asker = normalize_place(jurisdiction) if jurisdiction else None
    # A served place named in the message is the place asked about; another city
    # named gets the national rule; otherwise the asker's own place.
    place = query.place or (None if query.other_place else asker)
    hits, per_question = kb.rank_cards_by_question(query)
    # Two questions in one message ("什么时候发？公示几天？"), each matched by a card: answer both.
    distinct = list({h.card.id: h for h in per_question if h.score >= CARD_EACH_QUESTION}.values())[:2]
    if len(distinct) == 2:
        return answer_from_cards(kb, query, distinct, place)
    if hits and hits[0].score >= CARD_THRESHOLD:
        # Unsure between two close cards: show both, each under its question, rather
        # than guess; a resident picks the one they meant at a glance.
        if hits[0].score < CARD_SURE and len(hits) > 1 and hits[1].score >= hits[0].score - CARD_CLOSE:
            return answer_from_cards(kb, query, hits[:2], place, unsure=True)
        return answer_from_cards(kb, query, hits[:1], place)
    return answer_from_clauses(kb, query, place, confidence=hits[0].score if hits else 0.0)


def basis_line(citations: list[dict[str, Any]]) -> str:
    """The sources as one compact line: 依据：《社会救助法》第十八条；《…》第二十五条。"""
    parts: list[str] = []
    for c in citations:
        label = f"《{c['title']}》{c['clause']}" + ("（征求意见稿）" if c["status"] == "draft" else "")
        if label not in parts:
            parts.append(label)
    return "依据：" + "；".join(parts) + "。" if parts else ""


def answer_from_cards(
    kb: KnowledgeBase, query: Query, hits: list[CardHit], place: str | None, unsure: bool = False
) -> dict[str, Any]:
    """The answer of one card, one card for each question a message asks, or (`unsure`)
    the two cards the message is closest to."""
    texts: list[str] = ["您问的是不是下面这两个问题？"] if unsure else []
    citations: list[dict[str, Any]] = []
    answers = []
    for hit in hits:
        chosen, rule_place = hit.card.answer_for(place)
        answers.append((hit, chosen, rule_place))
        text = chosen.text
        if len(hits) == 1 and hit.score < CARD_SURE:
            text = f"您问的是“{hit.card.question.rstrip('？?')}”吧？" + text
        elif len(hits) > 1:
            text = f"【{hit.card.question.rstrip('？?')}】" + text
        texts.append(text)
        for c in chosen.citations:
            if c.provision_id in kb.by_id and all(x["id"] != c.provision_id or x["span"] != c.span for x in citations):
                citations.append({**citation(kb.by_id[c.provision_id]), "span": c.span})
    short = "\n".join(texts)
    if query.other_place:
        short += OTHER_CITY_NOTE.format(city=query.other_place)
    basis = basis_line(citations)
    quotes = "\n".join(_quote(c) for c in citations)
    first, chosen, rule_place = answers[0]
    card = first.card
    status = [card_status(a[1], kb.by_id) for a in answers]
    return {
        "answer": f"{short}\n{basis}\n\n政策依据：\n{quotes}",
        "short_answer": short,
        "basis": basis,
        "citations": citations,
        "topics": list(dict.fromkeys([p for p in (*(a[0].card.program for a in answers), *query.programs) if p]))[:3],
        "match": "card",
        "card_id": card.id,
        "card_ids": [a[0].card.id for a in answers],
        "confidence": round(first.score, 3),
        "sure": not unsure and all(a[0].score >= CARD_SURE for a in answers),
        "rule_place": rule_place,
        "local_places": sorted({p for a in answers for p in a[0].card.local}),
        "kind": query.kind,
        "personal": query.personal,
        "status": "draft" if any(s["status"] == "draft" for s in status) else "in_force",
        "effective_from": max((s["effective_from"] for s in status if s["effective_from"]), default=None),
    }


def answer_from_clauses(kb: KnowledgeBase, query: Query, place: str | None, confidence: float = 0.0) -> dict[str, Any]:
    """No card answers: the closest provisions, said to be what they are."""
    normalized = query.text
    q_topics = list(query.programs)
    city = query.other_place
    # Nobody said where: national rules only, never another county's document.
    hits = kb.search(normalized, jurisdiction=place or NATIONAL, limit=5)
    if not hits:
        return {
            "answer": NOT_FOUND,
            "short_answer": NOT_FOUND,
            "basis": "",
            "citations": [],
            "topics": q_topics[:3],
            "match": "none",
            "confidence": round(confidence, 3),
            "kind": query.kind,
            "personal": query.personal,
        }

    primary = hits[0]
    chosen: list[Hit] = [primary]
    # Show the asked place's own rule too when the best hit is a higher level's.
    if place and place != NATIONAL and primary.provision["jurisdiction"] != place:
        local = next(
            (h for h in hits[1:] if h.provision["jurisdiction"] == place and h.score >= 0.45 * primary.score), None
        )
        if local:
            chosen.append(local)
    # A local rule first: add the national rule that frames it when it is close.
    elif primary.provision["jurisdiction"] != NATIONAL:
        nat = next(
            (h for h in hits[1:] if h.provision["jurisdiction"] == NATIONAL and h.score >= 0.6 * primary.score), None
        )
        if nat:
            chosen.append(nat)

    tokens = set(_question_tokens(kb, normalized))
    definition = query.kind == "定义"
    amount = query.kind == "金额"
    sentences: list[str] = []
    for k, h in enumerate(chosen):
        key = _key_sentence(kb, h.provision, tokens, definition, amount=amount)
        lead = _place_phrase(h.provision, place)
        sentences.append(("另外，" if k else "") + f"{lead}：{key}")

    superseded = [p for h in chosen for p in h.superseded]
    notes: list[str] = []
    if superseded:
        old = superseded[0]
        new = next(h.provision for h in chosen if old in h.superseded)
        notes.append(
            f"以前《{old['title']}》{old['clause']}的规定已被《{new['title']}》{new['clause']}取代，现在以新规定为准。"
        )
    if any(h.provision["status"] == "draft" for h in chosen):
        notes.append(DRAFT_SENTENCE)
    if city:
        notes.append(OTHER_CITY_SENTENCE.format(city=city))
    elif query.kind == "发放":
        notes.append(FIGURE_SENTENCE.format(what="哪天发放"))
    elif amount:
        notes.append(FIGURE_SENTENCE.format(what="能领多少"))
    else:
        expired = next((h.provision for h in chosen if _expired(h.provision)), None)
        if expired and expired["effective_note"]:  # (_expired: it has a note)
            notes.append(
                f"{expired['jurisdiction']}这份文件的实施期是{expired['effective_note'].split('实施期为')[-1]}，"
                "现在是否继续执行请向当地民政部门确认。"
            )

    citations = [citation(h.provision) for h in chosen] + [citation(p) for p in superseded]
    body = sentences[:2] + notes[:1]
    body = [s for s in body if numbers_supported(s, citations)] or [NOT_FOUND]
    short = UNSURE_SENTENCE + "".join(body) + ASK_LOCALLY
    quotes = "\n".join(_quote(c) for c in citations)
    topics = list(dict.fromkeys(q_topics + (primary.provision.get("topics") or [])[:1]))[:3]
    basis = basis_line(citations)
    return {
        "answer": f"{short}\n\n政策依据：\n{quotes}",
        "short_answer": short,
        "basis": basis,
        "citations": citations,
        "topics": topics,
        "match": "clauses",
        "confidence": round(confidence, 3),
        "kind": query.kind,
        "personal": query.personal,
    }


def _question_tokens(kb: KnowledgeBase, normalized: str) -> list[str]:
    return [t for t in tokenize(kb.vocab, normalized, normalized=True) if len(t) >= 2]


def _expired(p: Provision) -> bool:
    end, note = p.get("effective_to"), p.get("effective_note")
    return bool(end and note and "实施期为" in note and str(end) < date.today().isoformat())
