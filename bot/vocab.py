"""The domain vocabulary: synonyms, typos, Sichuan phrasings and the jieba dictionary.

One source of truth in policy_kb/vocab/ read by search, spaCy and Rasa alike (the knowledge
base, bot/kb/, and the understanding step, bot/understanding.py, both build on it, so it sits
below both rather than inside bot.kb):
- vocab/jieba/userdict.txt: the jieba user dictionary ("word freq tag"); it is
  the only file in that folder because Rasa's JiebaTokenizer loads them all;
- vocab/synonyms.yml: canonical word -> variants (synonyms, typos, dialect);
- vocab/topics.yml: program topic ids and the words that signal them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.text import clean_message

VOCAB_GROUPS = ("synonyms", "typos", "sichuan")
CROSS_CUTTING_TOPICS = ("application", "supervision", "hotline")
CUE_WEIGHT = 0.6
CROSS_CUTTING_WEIGHT = 0.5
SUBWORD_MIN_LEN = 2  # words longer than this also yield their known 2-/3-character parts
USERDICT_RELPATH = Path("vocab") / "jieba" / "userdict.txt"

# Words that carry no meaning for retrieval (after normalisation).
STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 嘛 哦 么 是 在 有 和 与 及 或 我 你 他 她 它 我们 你们 他们 我家 这 那 这个 那个 哪个
    什么 怎么 怎么样 怎样 如何 为什么 能 能不能 可以 可不可以 会 要 想 请问 请 一下 一个 都 也 就 还 又 被 把 给 让 对 吗? 呢?
    多少 几 个 人 些 啥 么样 没 不 到 从 向 以 为 之 其 等 所 由 于 上 下 中 里 得 地 着 过 该 应 应当 应该 按照 根据 规定
    我们家 您 您好 你好 谢谢 问 知道 现在 今年 目前 已经 如果 但是 因为 所以 然后 那么 这样 那样 自己 他家 家里""".split()
)
_PUNCT = re.compile(
    r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~“”‘’—…·、《》〈〉【】〔〕（）]+"
)


@dataclass
class Vocabulary:
    """Loaded vocabulary: variant -> canonical map and topic keywords."""

    kb_dir: Path
    variants: dict[str, str] = field(default_factory=dict)
    topic_keywords: dict[str, list[str]] = field(default_factory=dict)
    topic_definitions: dict[str, list[str]] = field(default_factory=dict)
    topic_cues: dict[str, list[str]] = field(default_factory=dict)
    expansions: dict[str, list[str]] = field(default_factory=dict)
    _pattern: re.Pattern | None = None
    _replace: dict[str, str] = field(default_factory=dict)
    _topic_pattern: re.Pattern | None = None
    _keyword_topic: dict[str, str] = field(default_factory=dict)
    _cue_pattern: re.Pattern | None = None
    _cue_topics: dict[str, list[str]] = field(default_factory=dict)

    @property
    def userdict_path(self) -> Path:
        return self.kb_dir / USERDICT_RELPATH

    @property
    def pattern(self) -> re.Pattern | None:
        if self._pattern is None and self.variants:
            # Canonical words match too (as themselves), so that a longer
            # canonical word already in the text is never cut by a shorter
            # variant inside it (低保边缘家庭 stays whole, not 低保边缘→…家庭家庭).
            self._replace = {**{c: c for c in self.variants.values()}, **self.variants}
            alts = sorted(self._replace, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(a) for a in alts))
        return self._pattern

    def normalize(self, text: str) -> str:
        """NFKC-cleaned text with every variant replaced by its canonical word.

        Applied until stable (at most three passes), so that a typo inside a
        variant still reaches the canonical word (低宝户 → 低保户 → 低保).
        """
        text = clean_message(text)
        if self.pattern is None:
            return text
        for _ in range(3):
            new = self.pattern.sub(lambda m: self._replace[m.group(0)], text)
            if new == text:
                break
            text = new
        return text

    def topics_in(self, normalized_text: str) -> list[str]:
        """Topic ids whose keywords occur in already-normalised text, most mentions first.

        Keywords match longest first and do not overlap, so 低保边缘家庭 counts
        for dibao_edge only, not for dibao too.
        """
        counts = self._topic_counts(normalized_text)
        order = list(self.topic_keywords)
        return sorted(counts, key=lambda t: (-counts[t], order.index(t)))

    def _topic_counts(self, normalized_text: str) -> dict[str, int]:
        if self._topic_pattern is None:
            owners: dict[str, str] = {}
            for topic, words in self.topic_keywords.items():
                for w in words:
                    owners.setdefault(w, topic)
            self._keyword_topic = owners
            alts = sorted(owners, key=len, reverse=True)
            self._topic_pattern = re.compile("|".join(re.escape(a) for a in alts)) if alts else re.compile(r"(?!)")
        counts: dict[str, int] = {}
        for m in self._topic_pattern.finditer(normalized_text):
            topic = self._keyword_topic[m.group(0)]
            counts[topic] = counts.get(topic, 0) + 1
        return counts

    def question_topics(self, normalized_text: str) -> list[str]:
        """Topics of a resident's question: official keywords (as `topics_in`) and
        everyday cues (topics.yml `cues`), strongest first.

        A keyword counts 1, a cue 0.6 (a cue is a hint, the program's own name
        is a statement); a keyword of a cross-cutting topic (application,
        supervision, hotline) counts half, since nearly every question says
        申请, and on equal weight program topics rank first.
        """
        weights: dict[str, float] = {
            t: float(n) * (CROSS_CUTTING_WEIGHT if t in CROSS_CUTTING_TOPICS else 1.0)
            for t, n in self._topic_counts(normalized_text).items()
        }
        if self._cue_pattern is None:
            owners: dict[str, list[str]] = {}
            for topic, words in self.topic_cues.items():
                for w in words:
                    w = self.normalize(w)
                    if w:
                        owners.setdefault(w, [])
                        if topic not in owners[w]:
                            owners[w].append(topic)
            self._cue_topics = owners
            alts = sorted(owners, key=len, reverse=True)
            self._cue_pattern = re.compile("|".join(re.escape(a) for a in alts)) if alts else re.compile(r"(?!)")
        for m in self._cue_pattern.finditer(normalized_text):
            for topic in self._cue_topics[m.group(0)]:
                weights[topic] = weights.get(topic, 0.0) + CUE_WEIGHT
        order = list(self.topic_keywords)
        return sorted(
            weights, key=lambda t: (-weights[t], t in CROSS_CUTTING_TOPICS, order.index(t) if t in order else 99)
        )

    def expand(self, normalized_text: str) -> list[str]:
        """Official words to add to a question for the colloquial phrasings it contains."""
        extra: list[str] = []
        for key, words in self.expansions.items():
            if key in normalized_text:
                extra += [w for w in words if w not in extra]
        return extra

    def canonical_words(self) -> set[str]:
        return set(self.variants.values())


def load_vocabulary(kb_dir: Path) -> Vocabulary:
    kb_dir = Path(kb_dir)
    syn = yaml.safe_load((kb_dir / "vocab" / "synonyms.yml").read_text(encoding="utf-8")) or {}
    variants: dict[str, str] = {}
    for group in VOCAB_GROUPS:
        for canonical, alts in (syn.get(group) or {}).items():
            for alt in alts or []:
                alt = str(alt)
                if alt and alt != canonical:
                    variants.setdefault(alt, str(canonical))
    topics = yaml.safe_load((kb_dir / "vocab" / "topics.yml").read_text(encoding="utf-8")) or {}
    keywords = {t: [str(w) for w in (v or {}).get("keywords", [])] for t, v in topics.get("topics", {}).items()}
    definitions = {t: list((v or {}).get("definition", []) or []) for t, v in topics.get("topics", {}).items()}
    cues = {t: [str(w) for w in (v or {}).get("cues", []) or []] for t, v in topics.get("topics", {}).items()}
    expansions = {str(k): [str(w) for w in (v or [])] for k, v in (syn.get("expansions") or {}).items()}
    return Vocabulary(
        kb_dir=kb_dir,
        variants=variants,
        topic_keywords=keywords,
        topic_definitions=definitions,
        topic_cues=cues,
        expansions=expansions,
    )


def read_userdict_words(path: Path) -> set[str]:
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.split()[0])
    return words


# --- jieba -----------------------------------------------------------------

_JIEBA_LOCK = threading.Lock()
_JIEBA_LOADED: set = set()  # resolved paths, and the paths as asked


def configure_jieba(userdict: Path):
    """Load the user dictionary into jieba's default tokenizer (once per path)."""
    import jieba

    if userdict in _JIEBA_LOADED:  # the hot path: every tokenisation asks
        return jieba
    key = str(Path(userdict).resolve())
    with _JIEBA_LOCK:
        if key not in _JIEBA_LOADED:
            jieba.setLogLevel(60)
            jieba.initialize()
            jieba.load_userdict(key)
            _JIEBA_LOADED.update((key, userdict))
    return jieba


# "A-not-A" questions (能不能, 是不是, 有没有, 可不可以…) carry no meaning for retrieval.
_A_NOT_A = re.compile(r"可不可以|([\u4e00-\u9fff])[不没]\1")


def _words(vocab: Vocabulary, text: str, normalized: bool) -> list[str]:
    """jieba's accurate cut of normalised text, without punctuation and stopwords."""
    jieba = configure_jieba(vocab.userdict_path)
    if not normalized:
        text = vocab.normalize(text)
    text = _A_NOT_A.sub(" ", text)
    words = []
    for w in jieba.lcut(text):
        w = w.strip().lower()
        if not w or _PUNCT.fullmatch(w) or w in STOPWORDS:
            continue
        words.append(w)
    return words


def tokenize(vocab: Vocabulary, text: str, *, normalized: bool = False) -> list[str]:
    """Search tokens: normalised text, jieba search-mode cut, no punctuation or stopwords.

    Search mode as jieba's: a long word also yields its known 2- and 3-character
    parts (最低生活保障 → 最低, 生活, 保障, 最低生活保障); a stopword is dropped
    whole, parts included (能不能 yields nothing, not 不能).
    """
    jieba = configure_jieba(vocab.userdict_path)
    freq = jieba.dt.FREQ
    tokens = []
    for w in _words(vocab, text, normalized):
        if len(w) > SUBWORD_MIN_LEN:
            for n in (2, 3):
                if len(w) > n:
                    tokens += [
                        w[i : i + n]
                        for i in range(len(w) - n + 1)
                        if freq.get(w[i : i + n]) and w[i : i + n] not in STOPWORDS
                    ]
        tokens.append(w)
    return tokens


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+|[0-9]+")


def char_ngrams(vocab: Vocabulary, text: str, *, normalized: bool = False) -> list[str]:
    """Character bigrams of the meaningful words (stopwords removed), across word
    boundaries too: robust to typos and odd segmentation (刚姓支出 → 刚姓, 姓支, 支出)."""
    joined = "".join(_words(vocab, text, normalized))
    grams = []
    for run in _CJK_RUN.findall(joined):
        if len(run) == 1:
            grams.append(run)
        grams += [run[i : i + 2] for i in range(len(run) - 1)]
    return grams


# --- spaCy -----------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_kb_dir() -> Path:
    from bot.config import settings

    return Path(settings().policy_kb_dir)


def spacy_nlp(kb_dir: Path | None = None):
    """A blank Chinese spaCy pipeline segmenting with jieba and our user dictionary."""
    import spacy

    kb_dir = Path(kb_dir) if kb_dir else _default_kb_dir()
    configure_jieba(kb_dir / USERDICT_RELPATH)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    # spaCy's ChineseTokenizer keeps a handle on the jieba module it imported;
    # make sure that handle has our dictionary too.
    seg = getattr(nlp.tokenizer, "jieba_seg", None)
    import jieba

    if seg is not None and seg is not jieba and hasattr(seg, "load_userdict"):
        seg.load_userdict(str(kb_dir / USERDICT_RELPATH))
    return nlp


@lru_cache(maxsize=4)
def vocabulary(kb_dir: str | None = None) -> Vocabulary:
    """Cached vocabulary for a knowledge-base directory (default from settings)."""
    return load_vocabulary(Path(kb_dir) if kb_dir else _default_kb_dir())


def normalize_query(text: str, kb_dir: Path | None = None) -> str:
    return vocabulary(str(kb_dir) if kb_dir else None).normalize(text)
