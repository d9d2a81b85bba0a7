"""Buttons the actions send, and the service's answers sized for a chat.

Every fixed text the actions send is a domain response (domain/*.yml, `utter_*`, with
variables such as {case_number}); only texts built from a service answer are made here.
"""

from bot.places import NATIONAL

PLACE_BUTTONS = [
    {"title": "渠县", "payload": '/tell_place{"place": "渠县"}'},
    {"title": "达州", "payload": '/tell_place{"place": "达州市"}'},
    {"title": "巴中", "payload": '/tell_place{"place": "巴中市"}'},
    {"title": "会宁", "payload": '/tell_place{"place": "会宁县"}'},
]

SOURCES_BUTTON = {"title": "看原文", "payload": "/show_sources"}
SCREEN_OFFER_BUTTONS = [{"title": "帮我算一算", "payload": "/start_screen"}, {"title": "不用了", "payload": "/deny"}]

HANDOVER_BUTTONS = [{"title": "转给工作人员", "payload": "/request_human"}, {"title": "不用了", "payload": "/deny"}]


def chat_answer(result: dict) -> str:
    """A knowledge-base answer sized for a phone screen: the short answer first, then its
    basis as one compact line (《title》clause). The quoted text comes on request (看原文)."""
    lines = [result.get("short_answer") or result["answer"]]
    if result.get("basis"):
        lines.append(result["basis"])
    return "\n".join(lines)


def sources_text(result: dict, quote_chars: int = 300) -> str:
    """The cited clauses (up to `quote_chars` each), for the 看原文 button."""
    lines = []
    for c in result.get("citations") or []:
        label = {"draft": "（征求意见稿，仅供参考）", "overridden": "（已被新规定取代）"}.get(c.get("status"), "")
        source = "，".join(x for x in (c.get("issuer"), c.get("number"), c.get("date")) if x)
        text = (c.get("text") or "").replace("\n", "")
        quote = text if len(text) <= quote_chars else text[:quote_chars] + "……"
        lines.append(f"《{c['title']}》{c.get('clause') or ''}{label}（{source}）：“{quote}”")
    return "\n\n".join(lines)


def place_intro(place: str, rule_place: str | None) -> str:
    """How a re-answer for the place the resident just gave starts: whose rule it really is
    (a county with no rule of its own on this follows the national one, or its city's)."""
    if rule_place == NATIONAL:
        return f"好的，{place}也是按国家的规定办："
    if rule_place and rule_place != place:
        return f"好的，{place}按{rule_place}的规定办："
    return f"好的，按{place}的规定再给您说一下："
