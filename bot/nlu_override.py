"""Second opinions on the NLU classifier, for two cases that must not go wrong.

1. Danger to life and urgent hardship (bot.safety) always reach the urgent flow,
   whatever the classifier thought: such a message is never an ordinary FAQ.
2. The other way round, only such a message opens an urgent case: a question
   with hardship words in it ("学费交不起咋办", "看病钱不够怎么办") is a policy
   question, and so is a question about another person that does not say it
   reports them (a volunteer's report says so: 我是网格员, 发现, 反映…).
3. A question about one's own situation ("我有辆三轮车能吃低保不") is answered
   first; the screen is offered then, not started unasked. A request for the
   screen itself ("帮我看看能不能吃低保") still starts it.
4. A message that asks something and names a program (低保, 临时救助, 两项补贴…)
   is a policy question, even when the classifier heard small talk ("…可以在线申领吗?"
   scored as goodbye) or nothing it knew (nlu_fallback).

Plain Python (standard library and PyYAML): the Rasa pipeline runs it through
nlu_components/overrides.py, and the tests run it directly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from bot.safety import LIFE, URGENT, danger_level
from bot.text import looks_like_question

VOCAB_DIR = Path(__file__).resolve().parent.parent / "policy_kb" / "vocab"

# Intents a policy question can be mistaken for.
SMALL_TALK = {
    "greet",
    "thank",
    "goodbye",
    "affirm",
    "deny",
    "stop",
    "chitchat",
    "out_of_scope",
    "bot_challenge",
    "nlu_fallback",
}
URGENT_FLOW = {"report_danger", "report_urgent"}
SCREEN_INTENTS = {"start_screen", "inform"}
# "帮我看看能不能吃低保" asks for the screen itself, not for the rules.
SCREEN_REQUEST = re.compile(r"帮我|帮忙|给我|测一?测|算一?算|看一?看|评估一下")
# How a volunteer or grid worker says they are reporting someone.
REPORTING = re.compile(r"网格员|志愿者|社工|村干部|村委|居委|发现|反映|报告|上报|登记一下|帮他们?登记|帮她登记")
# Words that make a question a social-assistance question besides the programs' own names.
GENERAL_WORDS = (
    "救助",
    "补贴",
    "补助",
    "民政",
    "热线",
    "12345",
    "12349",
    "申领",
    "申请",
    "收入",
    "审核",
    "审批",
    "公示",
    "困难户",
    "困难家庭",
    "社工",
    "残疾",
    "户籍",
    "户口",
    "医保",
    "住院",
    "学费",
    "工资",
    "取消",
)
# A case-status lookup names the case: its number, check code, or "my case / its progress".
CASE_WORDS = re.compile(r"工单|查询码|GD\d|进度|办得咋样|办得怎么样|到哪一步|处理了没|有结果没|有回复没|受理了没")
# The classifier was unsure or heard something else: a message with the domain's words is
# more likely a policy question than small talk.
UNSURE = {"nlu_fallback", "out_of_scope"}


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
    question = looks_like_question(text)
    domain = any(w in text for w in policy_words(vocab_dir))
    # Only a question about the programs steps down from the urgent flow: a worried message
    # with no policy words in it ("隔壁老人好几天没出门了…") stays urgent, whatever its form.
    if intent in URGENT_FLOW and level is None:
        return "ask_policy" if question and domain else None
    if intent == "report_discovery" and question and not REPORTING.search(text):
        return "ask_policy"
    if intent in SCREEN_INTENTS and question and not SCREEN_REQUEST.search(text):
        return "ask_policy"
    if intent == "check_case" and question and domain and not CASE_WORDS.search(text):
        return "ask_policy"  # "审核过后低保金额还会变吗" asks a rule, not a case's status
    if intent in UNSURE and domain:
        return "ask_policy"
    if intent in SMALL_TALK and question and domain:
        return "ask_policy"
    return None
