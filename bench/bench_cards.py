"""Knowledge-card matching: which ranker wins, and where the "a card answers" threshold sits.

Measured on our own data only:
- 5-fold cross-validation on the cards' own variants: each fifth of them is matched
  by an index built from the rest; top-1 is right when its own card comes first;
- small talk and out-of-scope messages (data/nlu/chitchat.yml, the chitchat /
  out_of_scope / greet intents of general.yml) must fall below the threshold;
- our own labelled set (policy_kb/eval/answer_keys.jsonl), graded by its keys
  in-process, for each threshold: the share answered, so the threshold is the one
  residents are best served by;
- latency of `KnowledgeBase.answer` (the whole in-process answer: understanding,
  card ranking, composing), p50/p95, lexical and with the semantic score.

`python -m bench.bench_cards` prints the figures and the threshold sweep.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import yaml

from bench.grading import grade, load_keys
from bot.config import PROJECT_ROOT
from bot.understanding import normalize_text

OWN_KEYS = PROJECT_ROOT / "policy_kb" / "eval" / "answer_keys.jsonl"
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
NEGATIVE_INTENTS = ("chitchat", "out_of_scope", "greet", "thank", "goodbye", "bot_challenge")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def negatives() -> list[str]:
    out = []
    for name in ("chitchat.yml", "general.yml"):
        data = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / name).read_text(encoding="utf-8"))
        for item in data.get("nlu") or []:
            if item.get("intent") in NEGATIVE_INTENTS:
                out += [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
    return out


def cross_validated_top1(kb, folds: int = 5) -> float:
    """Top-1 accuracy of card variants matched by an index built without them (k-fold)."""
    from dataclasses import replace

    from bot.kb.card_index import CardIndex

    cards = kb.card_index.cards
    right = total = 0
    for fold in range(folds):
        held: list[tuple[str, str]] = []
        trimmed = []
        for card in cards:
            keep = tuple(v for j, v in enumerate(card.variants) if j % folds != fold)
            held += [(v, card.id) for j, v in enumerate(card.variants) if j % folds == fold]
            trimmed.append(replace(card, variants=keep))
        index = CardIndex(trimmed, kb.vocab)
        for text, cid in held:
            hits = index.rank(normalize_text(text, kb.vocab), limit=1)
            total += 1
            right += bool(hits) and hits[0].card.id == cid
    return round(right / total, 3) if total else float("nan")


def measure(semantic: bool) -> dict:
    os.environ["JZ_SEMANTIC"] = "1" if semantic else "0"
    from bot.kb import KnowledgeBase
    from bot.kb import answer as answer_mod
    from bot.understanding import understand

    kb = KnowledgeBase.from_dir(Path(PROJECT_ROOT / "policy_kb"))
    index = kb.card_index
    tag = "semantic" if semantic else "lexical"
    out: dict = {f"{tag}_variants_cv_top1": cross_validated_top1(kb)} if not semantic else {}
    neg = [kb.rank_cards(understand(t, kb.kb_dir)) for t in negatives()]
    neg_scores = [h[0].score if h else 0.0 for h in neg]
    keys = load_keys(OWN_KEYS) if OWN_KEYS.exists() else []
    best = (0.0, None)
    sweep = []
    saved = answer_mod.CARD_THRESHOLD
    try:
        for th in THRESHOLDS:
            answer_mod.CARD_THRESHOLD = th
            share = (
                sum(grade(k, [kb.answer(k["q"])["short_answer"]], "answer").passed for k in keys) / len(keys)
                if keys
                else float("nan")
            )
            false_accept = sum(s >= th for s in neg_scores) / len(neg_scores)
            sweep.append(f"{th}: own {share:.3f}, small talk over {false_accept:.3f}")
            if keys and share > best[0]:
                best = (share, th)
    finally:
        answer_mod.CARD_THRESHOLD = saved
    times = []
    questions = [k["q"] for k in keys] or index._texts[:200]
    for q in questions[:20]:
        kb.answer(q)
    for q in questions:
        t = time.perf_counter()
        kb.answer(q)
        times.append((time.perf_counter() - t) * 1000)
    out |= {
        f"{tag}_cards": len(index.cards),
        f"{tag}_own_best_share": round(best[0], 3),
        f"{tag}_own_best_threshold": best[1],
        f"{tag}_sweep": "; ".join(sweep),
        f"{tag}_answer_p50_ms": round(statistics.median(times), 2),
        f"{tag}_answer_p95_ms": round(_pct(times, 0.95), 2),
    }
    return out


def run() -> dict:
    figures = measure(semantic=False)
    if os.environ.get("JZ_BENCH_SEMANTIC") == "1":  # slow: embeds every card text once
        figures |= measure(semantic=True)
    return figures


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:30s} {v}")
