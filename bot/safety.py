"""Recognising danger to life and urgent hardship in a resident's message.

Used twice on purpose: as a safety net inside the Rasa pipeline (so a message
about danger is never handled as an ordinary question, whatever the
classifier thinks) and by the actions. Standard library only, because the
Rasa environment imports it too.
"""

from __future__ import annotations

import re

from bot.hotlines import MENTAL_HEALTH_HOTLINE, call_now
from bot.text import looks_like_question

LIFE = "life"  # call 110 / 120 / 119 now
URGENT = "urgent"  # urgent hardship: log a 急难 case now

_LIFE_PATTERNS = {
    "119": r"着火了|失火了|起火了|烧起来了|火很大|房子烧着了|煤气泄漏|燃气泄漏",
    "120": r"晕倒|昏倒|昏迷|倒在地上|倒地不起|没(?:有)?呼吸|不省人事|抽搐|口吐白沫|大出血|心脏病(?:犯|发)|喊不醒|叫不醒|中毒"
    r"|一动不动|叫(?:他|她)?(?:也)?没反应|喊(?:他|她)?(?:也)?没反应|叫不应|喊不应|敲门没人应|好几天没出门"
    # A fever with convulsions (a child's 高热惊厥); a leg cramp (腿抽筋) alone is not one.
    r"|惊厥|抽风|(?:高烧|发烧|烧得)[^，。,.!！?？]{0,6}抽",
    "110": r"打人|家暴|被打|砍人|杀人|要杀|威胁我|拿刀|被关|被拐|有人闯",
    "self_harm": r"想死|不想活|活不下去了|自杀|轻生|跳楼|跳河|割腕|喝农药|吃安眠药|结束生命|寻短见"
    r"|(?:要|想|准备|打算)(?:从[^，。,.!！?？]{1,8})?跳下去",
}
_URGENT_PATTERN = (
    r"没饭吃|吃不上饭|揭不开锅|断粮|饿了(?:好几|几)天|没地方住|无家可归|露宿|睡大街|流落街头|今晚没(?:处|地方)"
    r"|等着救命|救命钱|孩子一个人在家|娃儿没人管|孩子没人管"
    r"|赶出来|今晚睡哪|今晚住哪|没处住|房子塌了|房子垮了|房子烧没了|烧光了"
)
# Words of distress that are also everyday words of policy questions ("急难型临时救助是什么",
# "急需用钱能申请临时救助吗"): a report only when the message does not ask a question.
_SOFT_URGENT_PATTERN = r"急需|走投无路|没人照顾|快活不下去|急得很|住院押金|交不起押金|医院要押金|押金交不起"


# "没到吃不上饭的地步", "还不至于没地方住": a negated phrase is not a report.
_NEGATION = re.compile(
    r"(?:没到|没有到|还没|不至于|不到|不是|不会|并没有?|没那么|以免|怕|担心|如果|万一)[^，。,.!！?？]{0,3}$"
)


def _reports(pattern: str, text: str) -> bool:
    return any(not _NEGATION.search(text[max(0, m.start() - 8) : m.start()]) for m in re.finditer(pattern, text))


def danger_level(text: str) -> str | None:
    """LIFE, URGENT or None."""
    if any(_reports(p, text) for p in _LIFE_PATTERNS.values()):
        return LIFE
    if _reports(_URGENT_PATTERN, text):
        return URGENT
    if _reports(_SOFT_URGENT_PATTERN, text) and not looks_like_question(text):
        return URGENT
    return None


def emergency_numbers(text: str) -> list[str]:
    """Which of 110 / 120 / 119 fit the message; all three when unsure."""
    numbers = [n for n, p in _LIFE_PATTERNS.items() if n.isdigit() and _reports(p, text)]
    if re.search(_LIFE_PATTERNS["self_harm"], text):
        numbers = ["120", "110"]
    return numbers or ["110", "120", "119"]


def emergency_reply(text: str) -> str:
    """The first thing a person in danger reads."""
    numbers = emergency_numbers(text)
    reply = f"您现在有危险，请马上拨打 {call_now(numbers)}！先保证人身安全，离开危险的地方。"
    if re.search(_LIFE_PATTERNS["self_harm"], text):
        reply += f"您不是一个人，也可以拨打心理援助热线 {MENTAL_HEALTH_HOTLINE}。请留在有人的地方，我们也会尽快联系您。"
    return reply
