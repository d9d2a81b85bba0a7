"""低保边缘家庭: not on 低保 (income not below the 低保标准), per-capita income below the
edge line (``dibao_edge_multiplier`` × 低保标准) and property within the rules."""

from __future__ import annotations

from bot.eligibility.conditions import income_below_line, members_known, not_on_dibao, property_within_rules
from bot.eligibility.context import ScreeningContext
from bot.eligibility.results import UNLIKELY, Result


def dibao_edge(context: ScreeningContext) -> Result:
    result = Result("dibao_edge")
    if not members_known(context, result):
        return result
    result.explanation.extend(context.income.trace)
    item, below_standard = not_on_dibao(context, result, "not_dibao")
    if below_standard:
        item["text"] += context.text("dibao_edge.below_standard_is_dibao")
    income_below_line(context, result, "below_edge_line", multiplier=context.parameter("dibao_edge_multiplier"))
    property_within_rules(context, result)
    if result.status != UNLIKELY:
        result.add(
            "benefits",
            True,
            context.text("dibao_edge.benefits"),
            context.rule_citation("dibao_edge.benefits"),
            kind="info",
        )
    return result
