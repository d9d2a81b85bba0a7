"""Do the bot's replies answer what was asked? Graded by answer keys, through the whole bot.

Two sets, each message sent as a new conversation through Rasa's REST channel
(→ NLU → action server → service → knowledge base):
- the real residents' dev questions, ../shared/eval/answer_keys_dev.jsonl;
- our own labelled set, policy_kb/eval/answer_keys.jsonl (keys written before any run; since
  2026-12-01 tuned against, so optimistic);
- our fresh held-out set, policy_kb/eval/answer_keys_fresh.jsonl (written from the sources
  alone on 2026-12-01, before any run; measured, never tuned against).
Figures: the key-graded share of each, the routes taken (answer / screen / urgent /
volunteer_case / handover / fallback), urgent false alarms (urgent where the key
expects an answer) and missed emergencies (an urgent key not routed urgent).
Secondary: the dev share "on topic" (a provision named in the reply's basis line is
about the question's topic), the measure this bench replaced because it hid misses.

`python -m bench.bench_answers --kb` grades the knowledge base's answers in-process
(no Rasa), for quick iteration; `--misses` prints what failed.
"""

from __future__ import annotations

import argparse
import re

import httpx

from bench.grading import Graded, grade, load_keys, route_of, summary, turn_actions
from bot.config import PROJECT_ROOT

BASIS = re.compile(r"《([^》]+)》([^；。《（]+)")
DEV_KEYS = PROJECT_ROOT.parent / "shared" / "eval" / "answer_keys_dev.jsonl"
OWN_KEYS = PROJECT_ROOT / "policy_kb" / "eval" / "answer_keys.jsonl"
FRESH_KEYS = PROJECT_ROOT / "policy_kb" / "eval" / "answer_keys_fresh.jsonl"


def _sets() -> dict[str, list[dict]]:
    return {
        name: load_keys(path)
        for name, path in (("dev", DEV_KEYS), ("own", OWN_KEYS), ("fresh", FRESH_KEYS))
        if path.exists()
    }


def cited_topics(kb, texts: list[str]) -> set[str]:
    """Topics of the provisions a reply names in its basis line (依据：《title》clause；…)."""
    topics: set[str] = set()
    for text in texts:
        for line in text.splitlines():
            if line.startswith("依据："):
                for title, clause in BASIS.findall(line):
                    for p in kb.provisions:
                        if p["title"] == title and p["clause"] == clause.strip():
                            topics |= set(p.get("topics") or [])
    return topics


def through_bot(sets: dict[str, list[dict]]) -> dict[str, list[Graded]]:
    from bench.stack import running_stack

    out: dict[str, list[Graded]] = {}
    replies: dict[str, list[list[str]]] = {}
    with running_stack() as (stack, data_dir), httpx.Client(timeout=60) as client:
        for name, keys in sets.items():
            out[name] = []
            for n, key in enumerate(keys):
                sender = f"grade-{name}-{n}"
                r = client.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": key["q"]})
                texts = [m.get("text", "") for m in r.json() if m.get("text")]
                route = route_of(turn_actions(data_dir / "rasa_tracker.db", sender))
                out[name].append(grade(key, texts, route))
                replies.setdefault(name, []).append(texts)
    LAST_REPLIES.clear()
    LAST_REPLIES.update(replies)
    return out


LAST_REPLIES: dict[str, list[list[str]]] = {}  # texts of the last through_bot run, for the secondary figure


def in_process(sets: dict[str, list[dict]]) -> dict[str, list[Graded]]:
    from bot.kb import KnowledgeBase

    kb = KnowledgeBase.load()
    return {
        name: [grade(k, [kb.answer(k["q"])["short_answer"]], "answer") for k in keys] for name, keys in sets.items()
    }


def figures(graded: dict[str, list[Graded]], keys: dict[str, list[dict]]) -> dict:
    result: dict = {}
    for name, items in graded.items():
        s = summary(items)
        result[f"{name}_questions"] = s["n"]
        result[f"{name}_key_graded_share"] = s["share"]
        result[f"{name}_routes"] = ", ".join(f"{r} {c}" for r, c in sorted(s["routes"].items()))
        expected = [k.get("route", "answer") for k in keys[name]]
        result[f"{name}_urgent_false_alarms"] = sum(
            g.route == "urgent" and e != "urgent" for g, e in zip(items, expected, strict=False)
        )
        result[f"{name}_volunteer_false_alarms"] = sum(
            g.route == "volunteer_case" and e != "volunteer" for g, e in zip(items, expected, strict=False)
        )
        urgent = [g for g, e in zip(items, expected, strict=False) if e == "urgent"]
        if urgent:
            result[f"{name}_emergencies_missed"] = sum(g.route != "urgent" for g in urgent)
        by_topic: dict[str, list[bool]] = {}
        for g in items:
            by_topic.setdefault(g.topic, []).append(g.passed)
        result[f"{name}_by_topic"] = ", ".join(f"{t} {sum(v)}/{len(v)}" for t, v in sorted(by_topic.items()))
    return result


def on_topic_share(keys: list[dict], replies: list[list[str]]) -> float:
    from bench.bench_kb import EVAL_TOPIC_TO_PROGRAMS
    from bot.kb import KnowledgeBase

    kb = KnowledgeBase.load()
    counted = [(k, r) for k, r in zip(keys, replies, strict=False) if k.get("topic") in EVAL_TOPIC_TO_PROGRAMS]
    ok = sum(bool(cited_topics(kb, r) & EVAL_TOPIC_TO_PROGRAMS[k["topic"]]) for k, r in counted)
    return round(ok / len(counted), 3) if counted else float("nan")


def run() -> dict:
    sets = _sets()
    result = figures(through_bot(sets), sets)
    if "dev" in LAST_REPLIES:
        result["dev_on_topic_share_secondary"] = on_topic_share(sets["dev"], LAST_REPLIES["dev"])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", action="store_true", help="grade the knowledge base in-process (no Rasa)")
    ap.add_argument("--misses", action="store_true", help="print the questions that failed")
    ap.add_argument("--set", choices=("dev", "own", "fresh"), help="only this set")
    args = ap.parse_args()
    sets = {k: v for k, v in _sets().items() if not args.set or k == args.set}
    graded = in_process(sets) if args.kb else through_bot(sets)
    for key, value in figures(graded, sets).items():
        print(f"{key:32s} {value}")
    if args.misses:
        for name, items in graded.items():
            for g in items:
                if not g.passed:
                    print(f"MISS {name} [{g.topic}] {g.route} {g.chars}ch {g.question[:40]} missing={g.missing}")


if __name__ == "__main__":
    main()
