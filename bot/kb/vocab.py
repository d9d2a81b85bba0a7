"""The domain vocabulary: synonyms, typos, Sichuan phrasings and the jieba dictionary.

One source of truth in policy_kb/vocab/ read by search, spaCy and Rasa alike:
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
USERDICT_RELPATH = Path("vocab") / "jieba" / "userdict.txt"

# Words that carry no meaning for retrieval (after normalisation).
STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 嘛 哦 么 是 在 有 和 与 及 或 我 你 他 她 它 我们 你们 他们 我家 这 那 这个 那个 哪个
    什么 怎么 怎么样 怎样 如何 为什么 能 能不能 可以 可不可以 会 要 想 请问 请 一下 一个 都 也 就 还 又 被 把 给 让 对 吗? 呢?
    多少 几 个 人 些 啥 么样 没 不 到 从 向 以 为 之 其 等 所 由 于 上 下 中 里 得 地 着 过 该 应 应当 应该 按照 根据 规定
    我们家 您 您好 你好 谢谢 问 知道 现在 今年 目前 已经 如果 但是 因为 所以 然后 那么 这样 那样 自己 他家 家里""".split()
)
_PUNCT = re.compile(r"[\s\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65!-/:-@\[-`{-~“”‘’—…·、《》〈〉【】〔〕（）]+")


@dataclass
class Vocabulary:
    """Loaded vocabulary: variant -> canonical map and topic keywords."""

    kb_dir: Path
    variants: dict[str, str] = field(default_factory=dict)
    topic_keywords: dict[str, list[str]] = field(default_factory=dict)
    topic_definitions: dict[str, list[str]] = field(default_factory=dict)
    expansions: dict[str, list[str]] = field(default_factory=dict)
    _pattern: re.Pattern | None = None
    _topic_pattern: re.Pattern | None = None
    _keyword_topic: dict[str, str] = field(default_factory=dict)

    @property
    def userdict_path(self) -> Path:
        return self.kb_dir / USERDICT_RELPATH

    @property
    def pattern(self) -> re.Pattern | None:
        if self._pattern is None and self.variants:
            alts = sorted(self.variants, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(a) for a in alts))
        return self._pattern

    def normalize(self, text: str) -> str:
        """NFKC-cleaned text with every variant replaced by its canonical word."""
        text = clean_message(text)
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.variants[m.group(0)], text)

    def topics_in(self, normalized_text: str) -> list[str]:
        """Topic ids whose keywords occur in already-normalised text, most mentions first.

        Keywords match longest first and do not overlap, so 低保边缘家庭 counts
        for dibao_edge only, not for dibao too.
        """
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
        order = list(self.topic_keywords)
        return sorted(counts, key=lambda t: (-counts[t], order.index(t)))

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
    expansions = {str(k): [str(w) for w in (v or [])] for k, v in (syn.get("expansions") or {}).items()}
    return Vocabulary(kb_dir=kb_dir, variants=variants, topic_keywords=keywords, topic_definitions=definitions,
                      expansions=expansions)


def read_userdict_words(path: Path) -> set[str]:
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.split()[0])
    return words


# --- jieba -----------------------------------------------------------------

_JIEBA_LOCK = threading.Lock()
_JIEBA_LOADED: set[str] = set()


def configure_jieba(userdict: Path):
    """Load the user dictionary into jieba's default tokenizer (once per path)."""
    import jieba

    key = str(Path(userdict).resolve())
    with _JIEBA_LOCK:
        if key not in _JIEBA_LOADED:
            jieba.setLogLevel(60)
            jieba.initialize()
            jieba.load_userdict(key)
            _JIEBA_LOADED.add(key)
    return jieba


def tokenize(vocab: Vocabulary, text: str, *, normalized: bool = False) -> list[str]:
    """Search tokens: normalised text, jieba search-mode cut, no punctuation or stopwords."""
    jieba = configure_jieba(vocab.userdict_path)
    if not normalized:
        text = vocab.normalize(text)
    tokens = []
    for tok in jieba.lcut_for_search(text):
        tok = tok.strip().lower()
        if not tok or _PUNCT.fullmatch(tok) or tok in STOPWORDS:
            continue
        tokens.append(tok)
    return tokens


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
