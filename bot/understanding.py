"""One understanding step: a resident's message read once into a `Query`.

Built on spaCy (a blank `zh` pipeline segmenting with jieba and our user
dictionary), with components of our own:
- the tokenizer first cleans the text (NFKC, control characters), turns
  traditional characters into simplified ones (OpenCC t2s) and applies the
  domain vocabulary (synonyms, typos, Sichuan phrasings: 底保 → 低保), so that
  every later step reads the same words;
- `jz_gazetteer` marks served places, programs, relations and disability
  types from policy_kb/vocab/ (found by characters and snapped to tokens:
  jieba's cuts do not always align with vocabulary phrases, which is why this is
  not a token-pattern EntityRuler);
- `jz_other_places` marks places we do not serve (成都, 沈阳市, 黑龙江), from
  jieba's own place-name tags (`ns`), so ordinary words (市区, 县城) never
  become a place;
- `jz_numbers` reads Chinese numerals (cn2an via bot.numbers) into Arabic ones.

The `Query` carries what the knowledge base, routing and fact reading need:
the normalised text, tokens, the asker's place, another place named, programs,
the question kind (定义/条件/材料/流程/时限/金额/发放/计算/退出/投诉/热线) and
whether the message tells a personal story or asks in general.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from bot.numbers import normalize_numbers
from bot.places import _ALIASES, NATIONAL, find_place_in_text
from bot.text import clean_message, looks_like_question, to_simplified
from bot.vocab import CROSS_CUTTING_TOPICS

# Words jieba tags as place names that are not places someone lives in.
_NOT_PLACES = frozenset(
    """城市 农村 城镇 城乡 乡镇 乡村 社区 小区 村里 城里 县城 市区 城区 郊区 山区 本地 外地 当地 全国 国家 中国
    内地 大陆 基层 街道 地方 老家 家乡 中央 西部 东部 中部 西部地区 省里 市里 县里 镇上 乡里""".split()
)
_SERVED_ALIASES = tuple(a for a in _ALIASES if len(a) >= 2 and a not in ("国家", "中国", "national", "全国"))

RELATIONS = {
    "spouse": "老伴 老婆 老公 丈夫 妻子 爱人 媳妇 婆娘 男人",
    "child": "儿子 女儿 娃儿 娃娃 孩子 小孩 子女 儿女",
    "parent": "父亲 母亲 爸爸 妈妈 老汉 老妈 我妈 我爸 老人 父母 爹 娘",
    "sibling": "哥哥 姐姐 弟弟 妹妹 兄弟 姐妹",
    "grandparent": "爷爷 奶奶 外公 外婆 姥姥 姥爷",
    "grandchild": "孙子 孙女 外孙",
}
DISABILITY_TYPES = {
    "limb": "肢体",
    "visual": "视力 盲人 眼睛看不见",
    "hearing": "听力 聋",
    "speech": "言语 哑巴",
    "intellectual": "智力 智障",
    "mental": "精神病 精神残疾",
    "multiple": "多重残疾",
}

# What a question asks for, most specific first. Read on normalised text.
QUESTION_KINDS: tuple[tuple[str, str], ...] = (
    ("热线", r"12345|12349|热线|打电话|电话号码|哪个电话"),
    ("投诉", r"举报|投诉|不公平|不公正|关系保|人情保|说了算|乱评|骗取|复议|诉讼|不服|凭什么|不合理"),
    ("材料", r"材料|证件|证明|带什么|带啥|要什么东西|准备什么|准备啥|手续|资料|一证一书"),
    ("时限", r"多久|多长时间|几天|多少天|几个月|期限|时限|什么时候能批|好久|批下来|公示.{0,4}[几多]"),
    ("发放", r"几号|哪天|什么时候发|啥时候发|好久发|发放|到账|打到|发到|领取方式|怎么领|按月|按季"),
    ("计算", r"怎么算|如何计算|咋个算|怎么计算|按人|按户|人头|差额|为什么.{0,8}少|咋.{0,4}少|怎么.{0,4}少"),
    (
        "金额",
        r"多少钱|多少元|多少块|标准是多少|标准多少|能领多少|能拿多少|发多少|给多少|补多少|每月多少|一个月多少|几块|好多钱|金额",
    ),
    ("退出", r"取消|停发|停了|退出|不给了|渐退|还能继续|会不会被|影响低保|没了"),
    (
        "流程",
        r"怎么申请|如何申请|咋个申请|咋申请|去哪|到哪|找谁|哪里办|在哪办|流程|程序|步骤|怎么办理|如何办理|申请.{0,4}(?:步骤|手续)|怎么弄|咋个弄|咋个办|怎么办",
    ),
    ("定义", r"是什么|什么是|什么叫|啥子是|是啥|是指|啥意思|什么意思|指的是"),
    (
        "条件",
        r"条件|要求|多少岁|几岁|年龄|年纪|能不能|能否|可不可以|可以.{0,12}[吗不]|符合|够不够|算不算|得不得|有没有资格|资格|哪些人|谁可以|吗[?？]?$|不[?？]?$",
    ),
)
_FIRST_PERSON = re.compile(
    r"我家|我们家|我屋|屋头|本人|我是|我今年|我[妈爸母父儿女老丈妻媳孙]|我们[一两三四五六七八九\d]|我[一个]|我[在住有没离失得现已]"
)
_FIGURE = re.compile(r"\d")


@dataclass(frozen=True)
class Query:
    raw: str
    text: str  # cleaned, simplified, vocabulary-normalised
    tokens: tuple[str, ...]  # jieba tokens of `text`, punctuation dropped
    numeric_text: str  # `text` with Chinese numerals as digits
    place: str | None  # a served place named in the message
    other_place: str | None  # a place we do not serve (成都, 沈阳市)
    programs: tuple[str, ...]  # program ids named or hinted, strongest first
    kind: str  # a QUESTION_KINDS label, or 其他
    personal: bool  # tells the writer's own situation
    questions: tuple[str, ...] = ()  # the question sentences of a longer message
    relations: tuple[str, ...] = ()
    disability_types: tuple[str, ...] = ()
    entities: tuple[tuple[str, str, str], ...] = field(default=())  # (label, text, id)

    @cached_property
    def literal(self) -> str:
        """Cleaned and simplified, numbers as digits, words as written (not the vocabulary's):
        what bot/facts.py reads, computed only when asked (the knowledge base never asks)."""
        return normalize_numbers(to_simplified(clean_message(self.raw)))

    @property
    def has_figures(self) -> bool:
        return bool(_FIGURE.search(self.numeric_text))


# Numbering copied from FAQ pages and letters: "Q1:", "问：", "四、", "解读二:", "5.".
_ENUMERATOR = re.compile(
    r"^\s*(?:[Qq]\d*\s*[:：.、]|问\s*[:：]|解读[一二三四五六七八九十\d]+\s*[:：]"
    r"|[一二三四五六七八九十]+\s*、|\d{1,2}\s*[.、](?!\d))\s*"
)
# Where a message's sentences end; a question is one of them.
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


def normalize_text(text: str, vocab) -> str:
    """What every reader compares: cleaned, simplified characters, the vocabulary's words."""
    return vocab.normalize(_ENUMERATOR.sub("", to_simplified(clean_message(text))))


def question_sentences(normalized: str) -> tuple[str, ...]:
    """The sentences of a longer message that ask something ("…公示几天？"), in order;
    empty when the message is a single sentence."""
    parts = [p.strip() for p in _SENTENCE.findall(normalized) if p.strip()]
    if len(parts) < 2:
        return ()
    return tuple(p for p in parts if looks_like_question(p) and len(p) >= 4)


class _NormalizingTokenizer:
    """spaCy tokenizer: clean, t2s and vocabulary-normalise, then jieba's segmentation."""

    def __init__(self, inner, vocab):
        self.inner, self.vocab = inner, vocab

    def __call__(self, text: str):
        raw = text
        text = normalize_text(text, self.vocab)
        doc = self.inner(text)
        doc.user_data["raw"] = raw
        return doc


def _char_spans(doc, pattern: re.Pattern):
    for m in pattern.finditer(doc.text):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is not None:
            yield m, span


def _alternation(words) -> re.Pattern:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else re.compile(r"(?!)")


def _set_entities(doc, spans) -> None:
    from spacy.util import filter_spans

    doc.ents = filter_spans([*doc.ents, *spans])


def _build_pipeline(kb_dir: Path):
    from spacy.language import Language
    from spacy.tokens import Doc, Span

    from bot.vocab import load_vocabulary, spacy_nlp

    vocab = load_vocabulary(kb_dir)
    nlp = spacy_nlp(kb_dir)
    nlp.tokenizer = _NormalizingTokenizer(nlp.tokenizer, vocab)
    if not Doc.has_extension("numeric_text"):
        Doc.set_extension("numeric_text", default="")

    keyword_owner: dict[str, str] = {}
    for topic, words in vocab.topic_keywords.items():
        for w in words:
            keyword_owner.setdefault(vocab.normalize(w), topic)
    labelled = [
        ("PLACE", _alternation(_SERVED_ALIASES), lambda t: _ALIASES[t]),
        ("PROGRAM", _alternation(keyword_owner), lambda t: keyword_owner[t]),
    ]
    for label, table in (("RELATION", RELATIONS), ("DISABILITY", DISABILITY_TYPES)):
        owner = {w: key for key, words in table.items() for w in words.split()}
        labelled.append((label, _alternation(owner), owner.__getitem__))

    @Language.component("jz_gazetteer")
    def gazetteer(doc):
        spans = []
        for label, pattern, id_of in labelled:
            for m, span in _char_spans(doc, pattern):
                spans.append(Span(doc, span.start, span.end, label=label, kb_id=id_of(m.group(0))))
        _set_entities(doc, spans)
        return doc

    @Language.component("jz_other_places")
    def other_places(doc):
        import jieba.posseg as pseg

        spans, pos = [], 0
        for word, flag in pseg.cut(doc.text):
            start, pos = pos, pos + len(word)
            if flag.startswith("ns") and len(word) >= 2 and word not in _NOT_PLACES and not find_place_in_text(word):
                span = doc.char_span(start, pos, alignment_mode="expand")
                if span is not None:
                    spans.append(Span(doc, span.start, span.end, label="OTHER_PLACE", kb_id=word))
        _set_entities(doc, spans)
        return doc

    @Language.component("jz_numbers")
    def numbers(doc):
        doc._.numeric_text = normalize_numbers(doc.text)
        return doc

    for name in ("jz_gazetteer", "jz_other_places", "jz_numbers"):
        nlp.add_pipe(name)
    return nlp, vocab


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _pipeline(kb_dir: str):
    with _LOCK:
        return _build_pipeline(Path(kb_dir))


def _default_kb_dir() -> str:
    from bot.config import settings

    return str(Path(settings().policy_kb_dir).resolve())


def question_kind(normalized: str) -> str:
    for kind, pattern in QUESTION_KINDS:
        if re.search(pattern, normalized):
            return kind
    return "其他"


def understand(text: str, kb_dir: Path | str | None = None) -> Query:
    """Read a resident's message once; everything downstream uses the result."""
    nlp, vocab = _pipeline(str(kb_dir) if kb_dir else _default_kb_dir())
    doc = nlp(text or "")
    ents = tuple((e.label_, e.text, e.kb_id_) for e in doc.ents)
    served = [kb for label, _, kb in ents if label == "PLACE"]
    place = find_place_in_text(" ".join(served)) if served else None
    other = next((kb for label, _, kb in ents if label == "OTHER_PLACE"), None)
    named = [kb for label, _, kb in ents if label == "PROGRAM"]
    # Programs before cross-cutting topics (申请, 热线): "申请低保要多久" is about 低保.
    programs = tuple(
        sorted(dict.fromkeys([*named, *vocab.question_topics(doc.text)]), key=lambda t: t in CROSS_CUTTING_TOPICS)
    )
    tokens = tuple(t.text for t in doc if not t.is_punct and not t.is_space)
    return Query(
        raw=text or "",
        text=doc.text,
        tokens=tokens,
        numeric_text=doc._.numeric_text,
        place=None if place == NATIONAL else place,
        other_place=None if place else other,
        programs=programs,
        kind=question_kind(doc.text),
        personal=bool(_FIRST_PERSON.search(doc.text)),
        questions=question_sentences(doc.text),
        relations=tuple(dict.fromkeys(kb for label, _, kb in ents if label == "RELATION")),
        disability_types=tuple(dict.fromkeys(kb for label, _, kb in ents if label == "DISABILITY")),
        entities=ents,
    )
