"""Chinese texts the actions send that don't come from the service."""

SERVICE_DOWN = (
    "抱歉，政策查询暂时出了点问题，我这会儿答不上来。"
    "您可以稍后再问，或者拨打 12345 政务服务便民热线、12349 民政服务热线，工作人员会帮您解答。"
)

EMERGENCY_FOOTER = "如果有生命危险，请立即拨打 110、120 或 119。"

PLACE_BUTTONS = [
    {"title": "渠县", "payload": '/tell_place{"place": "渠县"}'},
    {"title": "达州", "payload": '/tell_place{"place": "达州市"}'},
    {"title": "巴中", "payload": '/tell_place{"place": "巴中市"}'},
    {"title": "会宁", "payload": '/tell_place{"place": "会宁县"}'},
]

HANDOVER_BUTTONS = [
    {"title": "转给工作人员", "payload": "/request_human"},
    {"title": "不用了", "payload": "/deny"},
]


def chat_answer(result: dict, quotes: int = 2, quote_chars: int = 80) -> str:
    """A knowledge-base answer sized for a phone screen: the short answer, then each
    clause it rests on as 《title》clause（issuer，date）with the start of its text."""
    lines = [result.get("short_answer") or result["answer"]]
    citations = result.get("citations") or []
    if citations and result.get("short_answer"):
        lines.append("政策依据：")
        for c in citations[:quotes]:
            label = {"draft": "（征求意见稿，仅供参考）", "overridden": "（已被新规定取代）"}.get(c.get("status"), "")
            source = "，".join(x for x in (c.get("issuer"), c.get("number"), c.get("date")) if x)
            text = c.get("text") or ""
            quote = text if len(text) <= quote_chars else text[:quote_chars] + "……"
            lines.append(f"《{c['title']}》{c.get('clause') or ''}{label}（{source}）：“{quote}”")
    return "\n".join(lines)
