"""Knowledge-base bench: retrieval quality on our own set, latency, real questions on topic.

- hit@1, hit@3, MRR of `KnowledgeBase.search` on policy_kb/eval/questions.yml
  (a question counts as a hit when one of its labelled provisions is ranked there);
- search latency p50/p95 in ms (warm, one process, this machine);
- the share of ../shared/eval/real_questions_dev.jsonl whose answer's topics
  contain the question's topic under EVAL_TOPIC_TO_PROGRAMS (measure only: the
  knowledge base is not tuned to those sentences; topic `other` is not counted).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT, settings

REAL_QUESTIONS = PROJECT_ROOT.parent / "shared" / "eval" / "real_questions_dev.jsonl"

# Topics of the shared eval set -> program ids an on-topic answer carries.
EVAL_TOPIC_TO_PROGRAMS: dict[str, set[str]] = {
    "dibao_eligibility": {"dibao"},
    "dibao_application": {"dibao", "application"},
    "dibao_amount": {"dibao"},
    "dibao_edge": {"dibao_edge"},
    "single_person_household": {"dibao_single"},
    "gradual_exit": {"dibao"},
    "tekun": {"tekun"},
    "temporary_assistance": {"temporary_assistance"},
    "medical_assistance": {"medical_assistance"},
    "education_assistance": {"education_assistance"},
    "housing_assistance": {"housing_assistance"},
    "employment_assistance": {"employment_assistance"},
    "children": {"children"},
    "disability": {"disability_subsidies"},
    "vagrancy": {"vagrancy"},
    "hotline": {"hotline"},
    "supervision_complaint": {"supervision"},
}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def evaluate(kb, questions: list[dict]) -> dict:
    ranks, times = [], []
    by_style: dict[str, list[int | None]] = defaultdict(list)
    misses = []
    for item in questions:
        t = time.perf_counter()
        hits = kb.search(item["q"], jurisdiction=item.get("jurisdiction"), limit=10)
        times.append((time.perf_counter() - t) * 1000)
        ids = [h.id for h in hits]
        rank = next((i + 1 for i, pid in enumerate(ids) if pid in set(item["relevant"])), None)
        ranks.append(rank)
        by_style[item.get("style", "formal")].append(rank)
        if rank != 1:
            misses.append(f"{item['id']} {item['q']} -> {ids[:3]}")
    n = len(ranks)
    out = {
        "questions": n,
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
        "hit@3": round(sum(1 for r in ranks if r and r <= 3) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
        "search_p50_ms": round(statistics.median(times), 2),
        "search_p95_ms": round(_pct(times, 0.95), 2),
    }
    for style, rs in sorted(by_style.items()):
        out[f"hit@1_{style}"] = round(sum(1 for r in rs if r == 1) / len(rs), 3)
        out[f"hit@3_{style}"] = round(sum(1 for r in rs if r and r <= 3) / len(rs), 3)
        out[f"questions_{style}"] = len(rs)
    return out | {"_misses": misses}


def on_topic_share(kb, path: Path = REAL_QUESTIONS) -> tuple[float, int]:
    if not path.is_file():
        return float("nan"), 0
    total = ok = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        wanted = EVAL_TOPIC_TO_PROGRAMS.get(item.get("topic"))
        if not wanted:
            continue
        total += 1
        if wanted & set(kb.answer(item["q"], jurisdiction=None)["topics"]):
            ok += 1
    return (round(ok / total, 3) if total else float("nan")), total


def run() -> dict:
    from bot.kb import KnowledgeBase

    kb_dir = Path(settings().policy_kb_dir)
    started = time.perf_counter()
    kb = KnowledgeBase.load(kb_dir)
    load_s = time.perf_counter() - started
    questions = yaml.safe_load((kb_dir / "eval" / "questions.yml").read_text(encoding="utf-8"))["questions"]
    for item in questions[:20]:  # warm-up (jieba, caches)
        kb.search(item["q"], jurisdiction=item.get("jurisdiction"))
    figures = evaluate(kb, questions)
    figures.pop("_misses")
    share, n_real = on_topic_share(kb)
    return {
        **figures,
        "provisions": len(kb.provisions),
        "load_s": round(load_s, 2),
        "real_questions_on_topic": share,
        "real_questions_counted": n_real,
    }


if __name__ == "__main__":  # python -m bench.bench_kb: figures plus the misses
    from bot.kb import KnowledgeBase

    kb = KnowledgeBase.load()
    qs = yaml.safe_load((Path(settings().policy_kb_dir) / "eval" / "questions.yml").read_text(encoding="utf-8"))[
        "questions"
    ]
    res = evaluate(kb, qs)
    for m in res.pop("_misses"):
        print("MISS", m)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    print("on topic", on_topic_share(kb))
