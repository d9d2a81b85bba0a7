"""Ranking knowledge cards for a resident's question.

A card is recognised by its question and variants (the ways residents ask it).
Three signals, added up (weights measured in bench/bench_cards.py on our own
labelled set):
- a linear classifier (LinearSVC) over TF-IDF of character n-grams and jieba
  words, trained on every card's texts and answer when the index is built (a second or two):
  it learns what all of a card's phrasings share, where a nearest-variant match
  follows the one phrasing that happens to share the most words;
- the best cosine similarity between the message and one of the card's texts
  (TF-IDF of words and character bigrams), which keeps the score honest for a
  message far from every card;
- a bonus when the card answers the kind of question asked (材料, 时限, 金额…),
  and a penalty when the message names a program the card is not about;
optionally (JZ_SEMANTIC=1) a semantic similarity from multilingual-e5-small
(bot.kb.semantic): it adds a few points on our set but costs 10–20 ms a message
on this machine, above the answer's latency budget, so it is off by default.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from bot.kb.cards import Card
from bot.understanding import normalize_text
from bot.vocab import Vocabulary, char_ngrams, tokenize

CHAR_WEIGHT = 0.5  # a bigram feature weighs half a word feature (cosine)
LEXICAL_WEIGHT = 2.0  # weight of the best-variant cosine
KIND_MATCH = 0.3  # the card answers the kind of question asked
PROGRAM_MISMATCH = 1.0  # the message names a program the card is not about
SEMANTIC_WEIGHT = 2.0  # weight of the rescaled e5 similarity, when on
VIEW_WEIGHTS = (1.0, 1.0, 0.7)  # characters, words, pinyin syllables in the classifier
CLASSIFIER_VERSION = 3  # part of the cache key: bump when _Classifier changes
_CJK = re.compile(r"[^\u4e00-\u9fff]")


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


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin syllables and their pairs: residents type with a pinyin keyboard, so a
    wrong character is most often a homophone (住防救助 for 住房救助, 就叶 for 就业)."""
    from pypinyin import lazy_pinyin

    syl = [s for s in lazy_pinyin(_CJK.sub("", text)) if s]
    return syl + [a + "_" + b for a, b in pairwise(syl)]


class _Words:
    """jieba search tokens, as a picklable analyzer (the vocabulary is found again by its folder)."""

    def __init__(self, kb_dir: str):
        self.kb_dir = kb_dir

    def __call__(self, text: str) -> list[str]:
        from bot.vocab import vocabulary

        return tokenize(vocabulary(self.kb_dir), text, normalized=True)


class _Classifier:
    """LinearSVC over character 1–3-grams, jieba words and pinyin syllables; decision values per card.

    Training takes several seconds on this machine, so a trained classifier is kept on
    disk, keyed on everything it learns from (texts, labels, view weights, library versions)."""

    def __init__(self, vocab: Vocabulary, texts: list[str], owners: list[int], n_cards: int):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.n_cards = n_cards
        self.views = [
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
            TfidfVectorizer(analyzer=_Words(str(vocab.kb_dir)), sublinear_tf=True, min_df=2),
            TfidfVectorizer(analyzer=pinyin_syllables, sublinear_tf=True, min_df=2),
        ]
        x = self._stack([v.fit_transform(texts) * w for v, w in zip(self.views, VIEW_WEIGHTS, strict=True)])
        self.model = LinearSVC(C=0.5, random_state=0).fit(x, owners)
        # Feature-major float32 weights: a message's few features pick their rows (a dense
        # product over every feature costs ~12 ms a message); half the disk and memory of float64.
        self.weights = np.ascontiguousarray(self.model.coef_.T, dtype=np.float32)
        self.intercept = self.model.intercept_.astype(np.float32)
        self.classes = self.model.classes_
        self.model = None
        for v in self.views:
            v.stop_words_ = None  # the features dropped by min_df: not needed to transform

    @staticmethod
    def _stack(parts):
        from scipy.sparse import hstack

        return hstack(parts).tocsr()

    @classmethod
    def cached(cls, vocab: Vocabulary, texts: list[str], owners: list[int], n_cards: int) -> _Classifier:
        import pickle

        import sklearn

        from bot.kb.semantic import cache_dir

        key = hashlib.sha256(
            json.dumps(
                [
                    CLASSIFIER_VERSION,
                    texts,
                    owners,
                    VIEW_WEIGHTS,
                    sklearn.__version__,
                    str(vocab.kb_dir),
                    _vocab_stamp(vocab),
                ],
                ensure_ascii=False,
            ).encode()
        ).hexdigest()[:24]
        path = cache_dir("cards") / f"classifier-{key}.pkl"
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            pass
        model = cls(vocab, texts, owners, n_cards)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(model, fh)
        os.replace(tmp, path)
        return model

    def scores(self, normalized: str) -> np.ndarray:
        """Decision values for one message; the same numbers as the fitted vectorizers'
        transform (sublinear tf × idf, l2 per view), computed directly: sklearn's input
        validation around transform costs more than the arithmetic for a single message."""
        rows: list[int] = []
        values: list[float] = []
        offset = 0
        for (analyze, vocabulary, idf), weight in zip(self._fast_views(), VIEW_WEIGHTS, strict=True):
            counts: dict[int, int] = {}
            for term in analyze(normalized):
                col = vocabulary.get(term)
                if col is not None:
                    counts[col] = counts.get(col, 0) + 1
            if counts:
                cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
                w = tf * idf[cols]
                w *= weight / (np.sqrt(w @ w) or 1.0)
                rows.extend((cols + offset).tolist())
                values.extend(w.tolist())
            offset += len(vocabulary)
        out = np.full(self.n_cards, -2.0)
        out[self.classes] = np.asarray(values, dtype=np.float32) @ self.weights[rows] + self.intercept
        return out

    def _fast_views(self):
        # Computed on first use rather than pickled, so a classifier cached by an earlier
        # version still loads.
        views = getattr(self, "_fast", None)
        if views is None:
            views = self._fast = [(v.build_analyzer(), v.vocabulary_, v.idf_) for v in self.views]
        return views


def _vocab_stamp(vocab: Vocabulary) -> list[str]:
    """The vocabulary files' contents hash: normalisation and tokens depend on them."""
    digest = hashlib.sha256()
    for path in sorted((vocab.kb_dir / "vocab").rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return [digest.hexdigest()]


class CardIndex:
    def __init__(self, cards: list[Card], vocab: Vocabulary, semantic=None):
        self.cards = cards
        self.vocab = vocab
        self.semantic = semantic
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
            _Classifier.cached(vocab, self._texts + answers, self._owner + list(range(len(cards))), len(cards))
            if len(cards) > 1
            else None
        )
        if semantic is not None:
            semantic.index(self._texts)

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
        return self._by_feature[ids].T @ weights

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
