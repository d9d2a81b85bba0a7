"""Second opinions on the NLU classifier, for two cases that must not go wrong.

1. Danger to life and urgent hardship (bot.safety) always reach the urgent flow,
   whatever the classifier thought: such a message is never an ordinary FAQ.
2. A message that asks something and names a program (低保, 临时救助, 两项补贴…)
   is a policy question, even when the classifier heard small talk ("…可以在线申领吗?"
   scored as goodbye) or nothing it knew (nlu_fallback).

Plain Python (standard library and PyYAML): the Rasa pipeline runs it through
nlu_components/overrides.py, and the tests run it directly.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.safety import LIFE, URGENT, danger_level
from bot.text import looks_like_question

VOCAB_DIR = Path(__file__).resolve().parent.parent / "policy_kb" / "vocab"

# Intents a policy question can be mistaken for.
SMALL_TALK = {"greet", "thank", "goodbye", "affirm", "deny", "stop", "chitchat", "out_of_scope",
              "bot_challenge", "nlu_fallback"}
URGENT_FLOW = {"report_danger", "report_urgent"}
# Words that make a question a social-assistance question besides the programs' own names.
GENERAL_WORDS = ("救助", "补贴", "补助", "民政", "热线", "12345", "12349", "申领", "申请")


@lru_cache(maxsize=4)
def policy_words(vocab_dir: Path = VOCAB_DIR) -> tuple[str, ...]:
    """Program names and the variants residents type, from the one vocabulary in policy_kb/."""
    topics = yaml.safe_load((vocab_dir / "topics.yml").read_text(encoding="utf-8"))["topics"]
    words = {w for t in topics.values() for w in t.get("keywords", [])}
    synonyms = yaml.safe_load((vocab_dir / "synonyms.yml").read_text(encoding="utf-8"))
    for group in ("synonyms", "typos"):
        for canonical, variants in (synonyms.get(group) or {}).items():
            words.add(canonical)
            words.update(variants or [])
    words.update(GENERAL_WORDS)
    return tuple(sorted((w for w in words if len(w) >= 2), key=len, reverse=True))


def override_intent(text: str, intent: str | None, vocab_dir: Path = VOCAB_DIR) -> str | None:
    """The intent to use instead of the classifier's, or None to keep it."""
    level = danger_level(text)
    if level == LIFE and intent != "report_danger":
        return "report_danger"
    if level == URGENT and intent not in URGENT_FLOW:
        return "report_urgent"
    if intent in SMALL_TALK and looks_like_question(text) and any(w in text for w in policy_words(vocab_dir)):
        return "ask_policy"
    return None
