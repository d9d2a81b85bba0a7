"""Search over the policy provisions: jieba tokens + vocabulary + BM25 (bm25s).

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.kb.vocab import Vocabulary, load_vocabulary, tokenize
from bot.places import NATIONAL, find_place_in_text, jurisdiction_path, normalize_place

PROVISIONS_FILE = "provisions.jsonl"

# Weight of a provision by how far its place is from the asked place
# (0 = the place itself, 1 = its parent, ...); national rules weigh 1.0.
PLACE_WEIGHTS = (1.6, 1.35, 1.15, 1.0)
NO_PLACE_LOCAL_WEIGHT = 0.8   # nobody said where: national rules first
STATUS_WEIGHTS = {"in_force": 1.0, "draft": 0.85}
DEFINITION_BOOST = 1.6
TOPIC_BOOST = 1.15

_DEFINITION_Q = re.compile(r"(是什么|什么是|什么叫|指什么|是指|啥意思|什么意思|定义|是干什么|有什么用)")


@dataclass
class Hit:
    """One ranked provision; `superseded` lists the overridden rules it replaces."""

    provision: dict
    score: float
    superseded: list[dict] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.provision["id"]

    def __getitem__(self, key):  # hit["title"] reads the provision
        return self.provision[key]

    def to_dict(self) -> dict:
        return {**self.provision, "score": round(float(self.score), 4),
                "superseded": [dict(p) for p in self.superseded]}


class KnowledgeBase:
    """Provisions + search + answers. Use `KnowledgeBase.load()` (cached per folder)."""

    _cache: dict[str, "KnowledgeBase"] = {}
    _lock = threading.Lock()

    def __init__(self, kb_dir: Path, provisions: list[dict], vocab: Vocabulary):
        import bm25s

        self.kb_dir = Path(kb_dir)
        self.provisions = provisions
        self.by_id = {p["id"]: p for p in provisions}
        self.vocab = vocab
        self._index_tokens = [tokenize(vocab, self._index_text(p)) for p in provisions]
        self._bm25 = bm25s.BM25()
        self._bm25.index(self._index_tokens, show_progress=False)
        self._places = np.array([p["jurisdiction"] for p in provisions])
        self._status_w = np.array([STATUS_WEIGHTS.get(p["status"], 0.0) * p.get("search_weight", 1.0)
                                   if p["status"] != "overridden" else p.get("search_weight", 1.0)
                                   for p in provisions])
        self._definitions = {pid for ids in vocab.topic_definitions.values() for pid in ids}

    # --- loading -----------------------------------------------------------

    @classmethod
    def load(cls, kb_dir: Path | str | None = None) -> "KnowledgeBase":
        if kb_dir is None:
            from bot.config import settings

            kb_dir = settings().policy_kb_dir
        key = str(Path(kb_dir).resolve())
        with cls._lock:
            if key not in cls._cache:
                cls._cache[key] = cls.from_dir(Path(kb_dir))
            return cls._cache[key]

    @classmethod
    def from_dir(cls, kb_dir: Path) -> "KnowledgeBase":
        path = Path(kb_dir) / PROVISIONS_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path} missing: run `python -m bot.kb.build`")
        provisions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return cls(Path(kb_dir), provisions, load_vocabulary(Path(kb_dir)))

    @staticmethod
    def _index_text(p: dict) -> str:
        heading = " ".join(p.get("section_path") or [])
        return f"{p['title']} {heading} {p.get('clause_title') or ''} {p.get('clause_title') or ''} {p['text']}"

    # --- search ------------------------------------------------------------

    def resolve_place(self, question: str, jurisdiction: str | None) -> str | None:
        """The place a question is about: a known place named in it, else the asker's place."""
        asker = normalize_place(jurisdiction) if jurisdiction else None
        named = find_place_in_text(question or "")
        return named or asker

    def search(self, query: str, jurisdiction: str | None = None, limit: int = 5, *,
               topics: list[str] | None = None) -> list[Hit]:
        """Ranked provisions for a question; `jurisdiction` is the asker's place (or None).

        Raises bot.places.UnknownPlace for a place we do not serve.
        """
        place = self.resolve_place(query, jurisdiction)
        normalized = self.vocab.normalize(query)
        tokens = tokenize(self.vocab, normalized, normalized=True)
        extra = self.vocab.expand(normalized)
        if extra:
            tokens += tokenize(self.vocab, " ".join(extra), normalized=True)
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=float)
        scores = scores * self._place_weights(place) * self._status_w
        q_topics = topics if topics is not None else self.vocab.topics_in(normalized)
        if q_topics:
            main = q_topics[0]
            boost = np.array([TOPIC_BOOST if main in p["topics"] else 1.0 for p in self.provisions])
            scores = scores * boost
            if _DEFINITION_Q.search(normalized):
                for pid in self.vocab.topic_definitions.get(main, []):
                    idx = self._index_of(pid)
                    if idx is not None:
                        scores[idx] *= DEFINITION_BOOST
        return self._collect(scores, limit)

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

    def _superseded_by(self, p: dict) -> list[dict]:
        return [self.by_id[o] for o in p.get("overrides") or [] if o in self.by_id]

    # --- answers -----------------------------------------------------------

    def answer(self, question: str, jurisdiction: str | None = None) -> dict:
        """{"answer", "short_answer", "citations", "topics"} for a resident's question."""
        from bot.kb.answer import compose_answer

        return compose_answer(self, question, jurisdiction)
