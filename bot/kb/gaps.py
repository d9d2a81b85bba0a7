"""Knowledge gaps: the questions the bot was not sure of, grouped by similarity, for the
editors of the knowledge cards (the console's page, bot/cases/knowledge_gaps.py).

`group_questions` is pure: questions in (`Asked`: recorded low-confidence answers,
bot/kb/gap_log.py, and the questions of conversations handed over to the hotline), groups out,
largest first, then the most recently asked. Each group has its count, examples, places, when
it was last asked and, when a knowledge card is close, that card (`nearest`, a function of a
question given by the caller: `card_finder` below ranks the cards as the answer does).

Similarity: TF-IDF over character unigrams and bigrams of the normalised question (the
vocabulary's words, simplified characters, no stopwords when `kb_features` is used), cosine,
and average-linkage clustering cut at SIMILAR.
Why scikit-learn's TF-IDF rather than rapidfuzz: word order moves freely in Chinese paraphrases
(怎么申请低保 / 低保怎么申请), which edit-distance ratios punish and a bag of n-grams does not;
IDF weighs the characters every question shares (低保, 怎么) below the ones that tell questions
apart; and one sparse product gives every pair's similarity at once. scikit-learn is what the
card index (bot/kb/card_index.py) is built with already.
Average linkage (scipy, installed with scikit-learn) rather than single linkage: a chain of
near neighbours (A~B, B~C) does not merge questions that share nothing (A, C).
SIMILAR was chosen on the cards' own variants (deliberately varied phrasings of one question,
so a hard case): at 0.3 about 4 in 5 questions put together belong together.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.kb.knowledge_base import KnowledgeBase
    from bot.vocab import Vocabulary

SIMILAR = 0.3  # average cosine similarity at which questions share a group
# A card's ranking score (bot/kb/card_index.py) from which it counts as close to a group. Not the
# answer's CARD_THRESHOLD (0.15): below 0.6 the best card is right only about 6 times in 10
# (bot/kb/answer.py), and a group's questions added to the wrong card would make the bot answer
# them wrongly with confidence; a new card drafted where one exists costs the editor a look.
NEAR_CARD = 0.6
EXAMPLES = 5  # distinct questions shown per group
MAX_REFS = 30  # questions a group's draft link carries (the newest)
NO_PLACE = "未说地区"

Features = Callable[[str], list[str]]


@dataclass(frozen=True)
class Asked:
    """One question asked: a recorded low-confidence answer or a handed-over conversation's."""

    ref: str  # "q12": knowledge_gaps row 12; "h34.0": case 34's first question
    text: str  # masked
    at: datetime
    place: str | None = None
    handover: bool = False
    match: str | None = None  # the answer's match (card, clauses, none); None for a handover
    confidence: float | None = None
    card_id: str | None = None  # the card the answer gave, if any


@dataclass(frozen=True)
class NearCard:
    """The knowledge card closest to a group's questions."""

    card_id: str
    question: str
    score: float
    source_file: str  # its file in policy_kb/cards/, e.g. dibao_amount.yml
    topic: str = ""


@dataclass
class Group:
    items: list[Asked]  # newest first
    representative: str  # the question most like the group's others
    near: NearCard | None = None
    best: NearCard | None = None  # the best-ranked card even when not close (its topic suggests a file)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def handovers(self) -> int:
        return sum(1 for a in self.items if a.handover)

    @property
    def last_asked(self) -> datetime:
        return max(a.at for a in self.items)

    @property
    def places(self) -> list[tuple[str, int]]:
        """Places with how many questions each, most first."""
        counts = Counter(a.place or NO_PLACE for a in self.items)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def examples(self, n: int = EXAMPLES) -> list[str]:
        """Distinct questions, the representative first, then the newest."""
        out = [self.representative]
        for a in self.items:
            if len(out) >= n:
                break
            if a.text not in out:
                out.append(a.text)
        return out[:n]

    @property
    def questions(self) -> list[str]:
        """Every distinct question, newest first (what becomes a card's variants)."""
        return list(dict.fromkeys(a.text for a in self.items))

    @property
    def refs(self) -> list[str]:
        """The newest MAX_REFS questions' references (the draft page reads them back)."""
        return [a.ref for a in self.items[:MAX_REFS]]

    @property
    def answered_cards(self) -> list[tuple[str, int]]:
        """Cards the bot answered these questions with (unsure), most often first."""
        counts = Counter(a.card_id for a in self.items if a.card_id)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# ---------------------------------------------------------------- features

_NOT_WORD = re.compile(r"[\W_]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def char_features(text: str) -> list[str]:
    """Character unigrams and bigrams of the text, punctuation and spaces removed."""
    clean = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").lower())
    return list(clean) + [clean[i : i + 2] for i in range(len(clean) - 1)]


def kb_features(vocab: Vocabulary) -> Features:
    """Character unigrams and bigrams after the knowledge base's own normalisation: simplified
    characters, every variant word as its canonical word (底保 → 低保), stopwords removed."""
    from bot.understanding import normalize_text
    from bot.vocab import char_ngrams

    def features(text: str) -> list[str]:
        grams = char_ngrams(vocab, normalize_text(text, vocab), normalized=True)
        singles = [c for g in grams for c in g if _CJK.match(c)]
        return grams + singles or char_features(text)

    return features


# ---------------------------------------------------------------- grouping


def _similarities(keys: Sequence[tuple[str, ...]]) -> Any:
    """Cosine similarities (a dense numpy matrix) of TF-IDF vectors of the feature lists."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=lambda k: list(k), sublinear_tf=True)
    x = vectorizer.fit_transform(keys)
    return (x @ x.T).toarray()


def _clusters(sims: Any, threshold: float) -> list[int]:
    """A cluster label per row: average linkage on 1 - similarity, cut at 1 - threshold."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = sims.shape[0]
    if n == 1:
        return [0]
    dist = np.clip(1.0 - sims, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2  # exactly symmetric for squareform
    tree = linkage(squareform(dist, checks=False), method="average")
    return [int(c) for c in fcluster(tree, t=1.0 - threshold, criterion="distance")]


def group_questions(
    items: Iterable[Asked],
    *,
    features: Features = char_features,
    threshold: float = SIMILAR,
    nearest: Callable[[str], tuple[NearCard | None, NearCard | None]] | None = None,
    limit: int | None = None,
) -> list[Group]:
    """Similar questions together, largest group first, then the most recently asked.

    `threshold` 0 puts everything in one group. `nearest(representative)` gives (the close
    card or None, the best-ranked card or None) for each of the first `limit` groups.
    Memory grows with the square of the distinct questions: the caller bounds them.
    """
    asked = sorted(items, key=lambda a: (a.at, a.ref), reverse=True)
    if not asked:
        return []
    by_key: dict[tuple[str, ...], list[Asked]] = {}
    for a in asked:
        key = tuple(features(a.text)) or (a.text,)
        by_key.setdefault(key, []).append(a)
    keys = list(by_key)
    sims = _similarities(keys)
    labels = _clusters(sims, threshold) if threshold > 0 else [0] * len(keys)

    members: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    groups = []
    for idx in members.values():
        weights = [len(by_key[keys[i]]) for i in idx]
        # The medoid: the distinct question with the highest similarity to the group's questions.
        medoid = max(idx, key=lambda i: (sum(w * float(sims[i, j]) for j, w in zip(idx, weights, strict=True)), -i))
        items_of = sorted((a for i in idx for a in by_key[keys[i]]), key=lambda a: (a.at, a.ref), reverse=True)
        groups.append(Group(items=items_of, representative=by_key[keys[medoid]][0].text))
    groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp(), g.representative))
    if nearest is not None:
        for g in groups[:limit] if limit is not None else groups:
            g.near, g.best = nearest(g.representative)
    return groups


def one_group(
    items: Iterable[Asked],
    *,
    features: Features = char_features,
    nearest: Callable[[str], tuple[NearCard | None, NearCard | None]] | None = None,
) -> Group | None:
    """The given questions as one group (the draft page's), or None when there are none."""
    groups = group_questions(items, features=features, threshold=0.0, nearest=nearest)
    return groups[0] if groups else None


def card_finder(
    kb: KnowledgeBase, min_score: float | None = None
) -> Callable[[str], tuple[NearCard | None, NearCard | None]]:
    """(the close card, the best card) for a question, ranked as the answer ranks them; a card
    is close from `min_score` on (default NEAR_CARD)."""
    from bot.understanding import understand

    floor = NEAR_CARD if min_score is None else min_score

    def find(question: str) -> tuple[NearCard | None, NearCard | None]:
        hits = kb.rank_cards(understand(question, kb.kb_dir), limit=1)
        if not hits:
            return None, None
        h = hits[0]
        card = NearCard(h.card.id, h.card.question, round(h.score, 3), h.card.source_file, h.card.topic)
        return (card if h.score >= floor else None), card

    return find
