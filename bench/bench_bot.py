"""The real residents' questions (../shared/eval/real_questions_dev.jsonl) through the whole bot:
Rasa REST channel → NLU → action server → service → knowledge base.

A reply is on topic when the provisions it cites carry one of the programs the question's
topic maps to (bench_kb.EVAL_TOPIC_TO_PROGRAMS). Measurement only: nothing is tuned to these
sentences. Questions whose topic is `other` are not counted.
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import httpx

from bench.bench_kb import EVAL_TOPIC_TO_PROGRAMS, REAL_QUESTIONS
from bot.config import Settings
from bot.kb import KnowledgeBase
from bot.stack import Stack, free_port

# A cited clause in a reply: 《title》clause（issuer…）：“the start of its text……”
QUOTE = re.compile(r"》[^\n]*?：“([\s\S]+?)(?:……)?”")


def cited_topics(kb, reply: str) -> set[str]:
    """Topics of the provisions a reply quotes, found by the quoted text itself."""
    topics: set[str] = set()
    for quote in QUOTE.findall(reply):
        for p in kb.provisions:
            if (p.get("text") or "").startswith(quote):
                topics |= set(p.get("topics") or [])
                break
    return topics


def run() -> dict:
    items = [json.loads(line) for line in REAL_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [i for i in items if i.get("topic") in EVAL_TOPIC_TO_PROGRAMS]
    kb = KnowledgeBase.load()
    on_topic = screened = 0
    misses = []
    with tempfile.TemporaryDirectory() as d:
        stack = Stack(Settings(data_dir=Path(d), rasa_port=free_port(), action_port=free_port(),
                               service_port=free_port()))
        stack.start()
        try:
            for n, item in enumerate(items):
                r = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                               json={"sender": f"eval-{n}", "message": item["q"]}, timeout=60)
                reply = "\n".join(m.get("text", "") for m in r.json())
                wanted = EVAL_TOPIC_TO_PROGRAMS[item["topic"]]
                if cited_topics(kb, reply) & wanted:
                    on_topic += 1
                elif "初步看看" in reply and wanted & {"dibao", "dibao_single", "dibao_edge", "tekun"}:
                    on_topic += 1  # "can my family get 低保?" rightly starts the eligibility screen
                    screened += 1
                else:
                    misses.append(f"{item['topic']}: {item['q'][:30]}")
        finally:
            stack.stop()
    return {
        "real_dev_questions": len(items),
        "real_dev_on_topic_share_end_to_end": round(on_topic / len(items), 3),
        "real_dev_routed_to_screening": screened,
        "real_dev_misses": "; ".join(misses[:8]),
    }
