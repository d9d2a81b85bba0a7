"""The cards' classifier: LinearSVC over TF-IDF of character 1–3-grams, jieba words and pinyin
syllables, trained on every card's texts (bot/kb/card_index.py adds it to the other signals).

Fitting needs scikit-learn; scoring does not: the fitted model is kept as plain arrays, which
is also what the derived-data cache (bot/kb/derived.py) stores.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from bot.vocab import Vocabulary, tokenize

VIEW_WEIGHTS = (1.0, 1.0, 0.7)  # characters, words, pinyin syllables
_CJK = re.compile(r"[^\u4e00-\u9fff]")


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin syllables and their pairs: residents type with a pinyin keyboard, so a
    wrong character is most often a homophone (住防救助 for 住房救助, 就叶 for 就业)."""
    from pypinyin import lazy_pinyin

    syl = [s for s in lazy_pinyin(_CJK.sub("", text)) if s]
    return syl + [a + "_" + b for a, b in pairwise(syl)]


class _Words:
    """jieba search tokens of normalised text (the vocabulary is found again by its folder)."""

    def __init__(self, kb_dir: str):
        self.kb_dir = kb_dir

    def __call__(self, text: str) -> list[str]:
        from bot.vocab import vocabulary

        return tokenize(vocabulary(self.kb_dir), text, normalized=True)


_WHITE_SPACES = re.compile(r"\s\s+")


def char_grams(text: str) -> list[str]:
    """Character 1–3-grams inside words, each word padded with a space: scikit-learn's
    `char_wb` analyzer (lowercase, ngram_range (1, 3)), here so that a message is scored
    without importing scikit-learn (tests/kb/test_derived.py compares the two)."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        word = " " + word + " "
        for n in (1, 2, 3):
            grams += [word[i : i + n] for i in range(max(len(word) - n, 0) + 1)]
            if len(word) <= n:  # a short word counts once
                break
    return grams


Analyzer = Callable[[str], list[str]]


def _analyzers(vocab: Vocabulary) -> tuple[Analyzer, ...]:
    """The classifier's views, in VIEW_WEIGHTS order: characters, words, pinyin syllables."""
    return (char_grams, _Words(str(vocab.kb_dir)), pinyin_syllables)


class Classifier:
    """LinearSVC over character 1–3-grams, jieba words and pinyin syllables; decision values per card.

    Kept as plain arrays (each view's vocabulary and idf, the weights), which is what scoring
    needs and what the derived-data cache stores: scikit-learn is imported only to fit."""

    def __init__(
        self,
        vocab: Vocabulary,
        terms: list[list[str]],
        idf: list[np.ndarray],
        weights: np.ndarray,
        intercept: np.ndarray,
        classes: np.ndarray,
        n_cards: int,
    ):
        self.terms = terms
        self.views: list[tuple[Analyzer, dict[str, int], np.ndarray]] = [
            (analyze, {t: k for k, t in enumerate(words)}, view_idf)
            for analyze, words, view_idf in zip(_analyzers(vocab), terms, idf, strict=True)
        ]
        self.weights = weights
        self.intercept = intercept
        self.classes = classes
        self.n_cards = n_cards

    @classmethod
    def fit(cls, vocab: Vocabulary, texts: list[str], owners: list[int], n_cards: int) -> Classifier:
        """Trains on the cards' texts (several seconds on this machine)."""
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        views = [TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=2) for analyze in _analyzers(vocab)]
        x = hstack([v.fit_transform(texts) * w for v, w in zip(views, VIEW_WEIGHTS, strict=True)]).tocsr()
        model = LinearSVC(C=0.5, random_state=0).fit(x, owners)
        return cls(
            vocab,
            [v.get_feature_names_out().tolist() for v in views],
            [v.idf_ for v in views],
            # Feature-major float32 weights: a message's few features pick their rows (a dense
            # product over every feature costs ~12 ms a message); half the memory of float64.
            np.ascontiguousarray(model.coef_.T, dtype=np.float32),
            model.intercept_.astype(np.float32),
            model.classes_,
            n_cards,
        )

    def scores(self, normalized: str) -> np.ndarray:
        """Decision values for one message; the same numbers as the fitted vectorizers'
        transform (sublinear tf × idf, l2 per view), computed directly: sklearn's input
        validation around transform costs more than the arithmetic for a single message."""
        rows: list[int] = []
        values: list[float] = []
        offset = 0
        for (analyze, vocabulary, idf), weight in zip(self.views, VIEW_WEIGHTS, strict=True):
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
