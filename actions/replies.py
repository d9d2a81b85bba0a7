"""Chinese texts the actions send that don't come from the knowledge base."""

SERVICE_DOWN = (
    "抱歉，政策查询暂时出了点问题，我这会儿答不上来。"
    "您可以稍后再问，或者拨打 12345 政务服务便民热线、12349 民政服务热线，工作人员会帮您解答。"
)


def format_citations(citations: list[dict], limit: int = 2) -> str:
    """'依据：《title》clause（issuer，date）' lines, a draft or overridden rule labelled."""
    lines = []
    for c in citations[:limit]:
        label = ""
        if c.get("status") == "draft":
            label = "（征求意见稿，仅供参考）"
        elif c.get("status") == "overridden":
            label = "（已被新规定取代）"
        source = "，".join(x for x in (c.get("issuer"), c.get("date")) if x)
        lines.append(f"《{c['title']}》{c.get('clause') or ''}{label}" + (f"（{source}）" if source else ""))
    return "依据：\n" + "\n".join(lines) if lines else ""
