"""Search over the policy provisions: jieba tokens + vocabulary + BM25 (bm25s).

Scoring, in order:
1. the question and every provision are normalised with the vocabulary
   (synonyms, typos, Sichuan phrasings), the question is expanded with the
   official words for its colloquial phrasings and intent (几天 → 公示期…);
2. word BM25 (jieba search-mode tokens) fused with character-bigram BM25
   (typos and dialect jieba cuts wrong), each scaled to its best score;
3. a topic prior: provisions about the question's main (and second) program
   topic, read from keywords and everyday cues, weigh more;
4. a provision that defines a term the question asks about (所称的无劳动能力,
   家庭收入指…, 孤儿是指…) and, for "X是什么", the program's definition
   article, are preferred over neighbours that merely use the term;
5. place and status weights (below).

Ranking is jurisdiction-aware and status-aware:
- with an asker's place, only provisions of that place and its parents up to
  全国 are candidates (a provision of another place is never a hit), the more
  specific place weighing more;
- a place named in the question ("会宁县的临时救助…") is the place asked about;
- in-force provisions first; drafts (征求意见稿) weigh less and carry their
  status; an overridden provision is never a hit of its own: it is attached to
  the provision that overrides it (`Hit.superseded`), which takes its place.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.kb import derived
from bot.kb.derived import VOCABULARY_FILES
from bot.kb.hit import Hit
from bot.kb.provision import Provision
from bot.places import NATIONAL, find_place_in_text, jurisdiction_path, normalize_place
from bot.vocab import Vocabulary, char_ngrams, load_vocabulary, tokenize

if TYPE_CHECKING:  # the card index (scikit-learn) is built on first use, not imported with the search
    import bm25s

    from bot.kb.card_index import CardHit, CardIndex
    from bot.understanding import Query

PROVISIONS_FILE = "provisions.jsonl"
# What the provisions' analysis is computed by, beside provisions.jsonl and the vocabulary files
# (the derived-data cache's key): this module (the indexed text, the defined terms), normalisation
# and jieba's cut (bot.vocab, bot.text); jieba's own dictionary, and PyYAML reading the vocabulary.
ANALYSIS_CODE = ("bot.kb.knowledge_base", "bot.kb.derived", "bot.text", "bot.vocab")
ANALYSIS_PACKAGES = ("PyYAML", "jieba")

# Weight of a provision by how far its place is from the asked place
# (0 = the place itself, 1 = its parent, ...); national rules weigh 1.0.
PLACE_WEIGHTS = (1.6, 1.35, 1.15, 1.0)
NO_PLACE_LOCAL_WEIGHT = 0.8  # nobody said where: national rules first
STATUS_WEIGHTS = {"in_force": 1.0, "draft": 0.85}
DEFINITION_BOOST = 1.6

# A question about what a term means or how it is determined.
_TERM_Q = re.compile(
    r"(是什么|什么是|什么叫|指什么|是指|啥意思|什么意思|定义|怎么认定|如何认定|怎么算|算不算|怎么界定|包括哪些|包括什么|哪些人|哪些孩子|多大年纪|算.{1,14}[不吗][?？]?$)"
)
_DEFINED_BY_SO_CALLED = re.compile(r"(?:本办法|本法|本条例|本意见)所称的?([\u4e00-\u9fff]{2,12}?)[：:。；，,]")
_DEFINED_AS = re.compile(r"(?:^|[。；\n])([\u4e00-\u9fff“”\"]{2,14}?)(?:是指|一般指|指)(?![导标])")
_DEFINITION_Q = re.compile(r"(是什么|什么是|什么叫|指什么|是指|啥意思|什么意思|定义|是干什么|有什么用)")


BM25_K1, BM25_B = 0.9, 0.9


def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
    import bm25s

    index = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    index.index([toks or [""] for toks in corpus], show_progress=False)
    return index


def _term_scores(bm25: bm25s.BM25, weights: dict[str, float], n_docs: int) -> np.ndarray:
    """BM25 scores of all documents for weighted query terms (bm25s' term-major matrix)."""
    out = np.zeros(n_docs)
    data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
    for term, w in weights.items():
        tid = bm25.vocab_dict.get(term)
        if tid is None:
            continue
        start, end = indptr[tid], indptr[tid + 1]
        out[indices[start:end]] += w * data[start:end]
    return out


def analysis_key(kb_dir: Path) -> str:
    """The derived-data cache's key of the analysis of kb_dir's provisions."""
    files = [kb_dir / PROVISIONS_FILE, *(kb_dir / name for name in VOCABULARY_FILES)]
    return derived.inputs_key(kb_dir, files, ANALYSIS_CODE, ANALYSIS_PACKAGES)


@dataclass(frozen=True)
class _Analysis:
    """What the search keeps of every provision: its jieba tokens and character bigrams (the
    two BM25 corpora) and the terms it defines. Cutting every provision takes about a second,
    so it is kept in the derived-data cache (bot/kb/derived.py)."""

    words: list[list[str]]
    grams: list[list[str]]
    defines: dict[str, list[int]]

    @classmethod
    def of(cls, provisions: list[Provision], vocab: Vocabulary) -> _Analysis:
        # Indexed text: title, section path, clause heading (twice) and text,
        # normalised with the vocabulary. (Separate heading/body fields were
        # measured and ranked worse: the title's words are the document's topic.)
        bodies = [vocab.normalize(KnowledgeBase._body_text(p)) for p in provisions]
        return cls(
            words=[tokenize(vocab, t, normalized=True) for t in bodies],
            # Character bigrams of the body: a second view that survives typos,
            # dialect words and segmentation jieba gets wrong.
            grams=[char_ngrams(vocab, t, normalized=True) for t in bodies],
            defines=KnowledgeBase._defined_terms(provisions, vocab),
        )

    @classmethod
    def load(cls, kb_dir: Path, provisions: list[Provision], vocab: Vocabulary) -> _Analysis:
        """From the cache when provisions.jsonl, the vocabulary, the code and jieba are unchanged."""

        def restore(entry: derived.Entry) -> _Analysis:
            words, grams, defines = entry.meta["words"], entry.meta["grams"], entry.meta["defines"]
            if not len(words) == len(grams) == len(provisions):
                raise ValueError(f"{len(words)} provisions analysed, {len(provisions)} read")
            return cls(words, grams, defines)

        return derived.cached(
            "provisions",
            lambda: analysis_key(kb_dir),
            build=lambda: cls.of(provisions, vocab),
            save=lambda a: derived.Entry(meta={"words": a.words, "grams": a.grams, "defines": a.defines}),
            restore=restore,
        )


class KnowledgeBase:
    """Provisions + search + answers. Use `KnowledgeBase.load()` (cached per folder)."""

    _cache: dict[str, KnowledgeBase] = {}
    _lock = threading.Lock()

    def __init__(self, kb_dir: Path, provisions: list[Provision], vocab: Vocabulary, analysis: _Analysis | None = None):
        self.kb_dir = Path(kb_dir)
        self.provisions = provisions
        self.by_id = {p["id"]: p for p in provisions}
        self.vocab = vocab
        if analysis is None:
            analysis = _Analysis.of(provisions, vocab)
        self._index_tokens = analysis.words
        self._bm25 = _bm25(analysis.words)
        self._bm25_char = _bm25(analysis.grams)
        self._places = np.array([p["jurisdiction"] for p in provisions])
        self._status_w = np.array(
            [
                STATUS_WEIGHTS.get(p["status"], 0.0) * p.get("search_weight", 1.0)
                if p["status"] != "overridden"
                else p.get("search_weight", 1.0)
                for p in provisions
            ]
        )
        self._defines = analysis.defines
        self._definitions = {pid for ids in vocab.topic_definitions.values() for pid in ids}
        self._card_index: CardIndex | None = None

    # --- loading -----------------------------------------------------------

    @classmethod
    def load(cls, kb_dir: Path | str | None = None) -> KnowledgeBase:
        if kb_dir is None:
            from bot.config import settings

            kb_dir = settings().policy_kb_dir
        key = str(Path(kb_dir).resolve())
        with cls._lock:
            if key not in cls._cache:
                cls._cache[key] = cls.from_dir(Path(kb_dir))
            return cls._cache[key]

    @classmethod
    def from_dir(cls, kb_dir: Path) -> KnowledgeBase:
        path = Path(kb_dir) / PROVISIONS_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} missing: run `python -m bot.kb.build`")
        provisions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        vocab = load_vocabulary(Path(kb_dir))
        return cls(Path(kb_dir), provisions, vocab, _Analysis.load(Path(kb_dir), provisions, vocab))

    @staticmethod
    def _defined_terms(provisions: list[Provision], vocab: Vocabulary) -> dict[str, list[int]]:
        """Terms a provision defines ("…应当认定为本办法所称的无劳动能力", "家庭收入指…",
        "孤儿是指…"): a question asking what such a term means, or how it is
        determined, prefers the defining provision over its neighbours that
        merely use the term."""
        out: dict[str, list[int]] = {}
        for i, p in enumerate(provisions):
            text = vocab.normalize(p["text"])
            terms = _DEFINED_BY_SO_CALLED.findall(text) + _DEFINED_AS.findall(text)
            for term in terms:
                term = term.strip('“”"（）() ')
                if 2 <= len(term) <= 12 and i not in out.setdefault(term, []):
                    out[term].append(i)
        return out

    BODY_FIELDS = ("title", "section", "clause", "clause", "text")

    @classmethod
    def _body_text(cls, p: Provision) -> str:
        parts = {
            "title": p["title"],
            "section": " ".join(p.get("section_path") or []),
            "clause": p.get("clause_title") or "",
            "text": p["text"],
        }
        return " ".join(parts[f] for f in cls.BODY_FIELDS)

    # --- search ------------------------------------------------------------

    def resolve_place(self, question: str, jurisdiction: str | None) -> str | None:
        """The place a question is about: a known place named in it, else the asker's place."""
        asker = normalize_place(jurisdiction) if jurisdiction else None
        named = find_place_in_text(question or "")
        return named or asker

    def search(
        self, query: str, jurisdiction: str | None = None, limit: int = 5, *, topics: list[str] | None = None
    ) -> list[Hit]:
        """Ranked provisions for a question; `jurisdiction` is the asker's place (or None).

        Raises bot.places.UnknownPlace for a place we do not serve.
        """
        place = self.resolve_place(query, jurisdiction)
        normalized = self.vocab.normalize(query)
        tokens = tokenize(self.vocab, normalized, normalized=True)
        extra = self.vocab.expand(normalized)
        if extra:
            tokens += tokenize(self.vocab, " ".join(extra), normalized=True)
        grams = char_ngrams(self.vocab, normalized, normalized=True)
        if not tokens and not grams:
            return []
        scores = self._fused_scores(tokens, grams)
        scores = scores * self._place_weights(place) * self._status_w
        q_topics = topics if topics is not None else self.vocab.question_topics(normalized)
        if q_topics:
            main = q_topics[0]
            # A program named outright ("申请临时救助要什么材料") outweighs shared words (材料).
            named = any(w in normalized for w in self.vocab.topic_keywords.get(main, []))
            scores = scores * self._topic_prior(q_topics, self.NAMED_TOPIC_WEIGHT if named else None)
            if _DEFINITION_Q.search(normalized) and self._about_topic_only(normalized, tokens, main):
                for pid in self.vocab.topic_definitions.get(main, []):
                    idx = self._index_of(pid)
                    if idx is not None:
                        scores[idx] *= DEFINITION_BOOST
        if _TERM_Q.search(normalized):
            plain = normalized.replace("的", "")  # 低保家庭的收入 → …家庭收入
            for term, idxs in self._defines.items():
                if term in plain:
                    for i in idxs:
                        scores[i] *= self.DEFINED_TERM_BOOST
        return self._collect(scores, limit)

    DEFINED_TERM_BOOST = 1.3

    CHAR_WEIGHT = 0.25
    TOPIC_WEIGHTS = (0.3, 0.1)  # boost for the question's main topic, for its second
    NAMED_TOPIC_WEIGHT = 0.6  # the main topic's boost when the question names the program

    def _topic_prior(self, q_topics: list[str], main_weight: float | None = None) -> np.ndarray:
        """A provision about the question's topics weighs more (main topic most)."""
        boost = np.ones(len(self.provisions))
        weights = (main_weight or self.TOPIC_WEIGHTS[0], *self.TOPIC_WEIGHTS[1:])
        for t, w in zip(q_topics, weights, strict=False):  # the first two topics weigh
            boost += w * np.array([t in p["topics"] for p in self.provisions], dtype=float)
        return boost

    def _about_topic_only(self, normalized: str, tokens: list[str], topic: str) -> bool:
        """True for "低保是什么" (the program itself), false for "特困人员的无生活来源是指什么"."""
        words = self.vocab.topic_keywords.get(topic, [])
        rest = [
            t
            for t in tokens
            if not any(t in w or w in t for w in words)
            and t not in ("所称", "是指", "定义", "意思", "什么意思", "计入")
        ]
        return len(set(rest)) <= 1

    def _fused_scores(self, tokens: list[str], grams: list[str]) -> np.ndarray:
        """Word BM25 and character-bigram BM25, each scaled to its best score, summed
        (the bigram view weighs CHAR_WEIGHT: it rescues typos and dialect
        without letting shared characters outvote the words)."""
        total = np.zeros(len(self.provisions))
        for bm25, q, w in ((self._bm25, tokens, 1.0), (self._bm25_char, grams, self.CHAR_WEIGHT)):
            if not q or w <= 0:
                continue
            weights: dict[str, float] = {}
            for t in q:
                weights[t] = weights.get(t, 0.0) + 1.0
            sc = _term_scores(bm25, weights, len(self.provisions))
            top = sc.max()
            if top > 0:
                total += w * sc / top
        return total

    def _index_of(self, pid: str) -> int | None:
        if not hasattr(self, "_pos"):
            self._pos = {p["id"]: i for i, p in enumerate(self.provisions)}
        return self._pos.get(pid)

    def _place_weights(self, place: str | None) -> np.ndarray:
        if place is None:
            return np.where(self._places == NATIONAL, 1.0, NO_PLACE_LOCAL_WEIGHT)
        path = jurisdiction_path(place)
        weights = {}
        for depth, name in enumerate(path):
            if name == NATIONAL:
                weights[name] = 1.0
            else:
                weights[name] = PLACE_WEIGHTS[min(depth, len(PLACE_WEIGHTS) - 1)]
        return np.array([weights.get(pl, 0.0) for pl in self._places])

    def _collect(self, scores: np.ndarray, limit: int) -> list[Hit]:
        order = np.argsort(-scores, kind="stable")
        hits: dict[str, Hit] = {}
        for i in order:
            s = float(scores[i])
            if s <= 0 or len(hits) >= limit:
                break
            p = self.provisions[i]
            if p["status"] == "overridden":
                new = self.by_id.get(p.get("overridden_by") or "")
                if new is None:
                    continue
                hit = hits.get(new["id"])
                if hit is None:
                    hit = hits[new["id"]] = Hit(new, s)
                if p not in hit.superseded:
                    hit.superseded.append(p)
                continue
            if p["id"] in hits:
                continue
            hits[p["id"]] = Hit(p, s, self._superseded_by(p))
        return sorted(hits.values(), key=lambda h: -h.score)[:limit]

    def _superseded_by(self, p: Provision) -> list[Provision]:
        return [self.by_id[o] for o in p.get("overrides") or [] if o in self.by_id]

    # --- answers -----------------------------------------------------------

    @property
    def card_index(self) -> CardIndex:
        """The knowledge cards' index, built on first use (cards are loaded from policy_kb/cards/)."""
        if self._card_index is None:
            with self._lock:
                if self._card_index is None:
                    from bot.kb.card_index import CardIndex
                    from bot.kb.semantic import semantic_scorer

                    self._card_index = CardIndex.load(self.kb_dir, self.vocab, semantic_scorer())
        return self._card_index

    def rank_cards(self, query: Query, limit: int = 3) -> list[CardHit]:
        """Cards ranked for an understood message (bot.understanding.Query): the whole
        message and each of its question sentences are matched, each card keeping its
        best score (in a long story the question is one sentence of many)."""
        return self.rank_cards_by_question(query, limit)[0]

    def rank_cards_by_question(self, query: Query, limit: int = 3) -> tuple[list[CardHit], list[CardHit]]:
        """(cards ranked for the whole message, [best card of each question sentence])."""
        from bot.understanding import question_kind

        index = self.card_index
        ranked = index.rank(query.text, query.programs, limit=limit, kind=query.kind)
        per_question = []
        for sentence in query.questions:
            hits = index.rank(sentence, query.programs, limit=limit, kind=question_kind(sentence))
            if hits:
                per_question.append(hits[0])
        best: dict[str, CardHit] = {h.card.id: h for h in ranked}
        for h in per_question:
            if h.card.id not in best or h.score > best[h.card.id].score:
                best[h.card.id] = h
        return sorted(best.values(), key=lambda h: -h.score)[:limit], per_question

    def answer(self, question: str, jurisdiction: str | None = None) -> dict[str, Any]:
        """{"answer", "short_answer", "citations", "topics"} for a resident's question."""
        # Imported here so the search alone (bot.eligibility reading documents, the card
        # benchmarks) does not load the answers; answer.py does not import this module.
        from bot.kb.answer import compose_answer

        return compose_answer(self, question, jurisdiction)
