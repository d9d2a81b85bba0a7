"""Conditions several programs share: the household is known, its income is below a line
(the 低保标准 or a multiple of it), its property is within the local rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.eligibility.amounts import below, money
from bot.eligibility.parameters import Resolved
from bot.eligibility.results import Result, parameters_used
from bot.eligibility.units import format_value

if TYPE_CHECKING:
    from bot.eligibility.context import ScreeningContext


def members_known(context: ScreeningContext, result: Result) -> bool:
    """False (with a trace item asking for them) while the household's members are not told."""
    if not context.household.members:
        result.add(
            "household.members",
            None,
            context.text("common.members.unknown"),
            context.rule_citation("application.documents"),
        )
        result.need("household.members")
        return False
    return True


def income_below_line(
    context: ScreeningContext, result: Result, test: str, multiplier: Resolved | None = None
) -> bool | None:
    """Per-capita income below the 低保标准 (× ``multiplier``, e.g. the 低保边缘 line)."""
    income = context.income
    standard = context.dibao_standard()
    factor = multiplier.value if multiplier is not None else 1
    line_low, line_high = standard.low, standard.high
    if multiplier is not None and multiplier.value is None:
        line_low = line_high = None
    line_low = line_low * factor if line_low is not None else None
    line_high = line_high * factor if line_high is not None else None
    passed = below(income.per_capita_low, income.per_capita_high, line_low, line_high)
    per_capita = _per_capita_text(context)
    categories = context.list_of(
        context.term("dibao_category", "urban" if r.name.endswith("urban") else "rural") for r in standard.parameters
    )
    line_name = (
        context.text("common.income_line.name.standard")
        if multiplier is None
        else context.text("common.income_line.name.multiple", multiplier=format_value(factor, "ratio"))
    )
    if line_low is not None and line_low == line_high:
        line = context.text(
            "common.income_line.line.single", categories=categories, name=line_name, amount=money(line_low)
        )
    elif line_low is not None:
        line = context.text("common.income_line.line.range", name=line_name, low=money(line_low), high=money(line_high))
    else:
        line = None
    if passed is True:
        text = context.text("common.income_line.below", income=per_capita, line=line)
    elif passed is False:
        text = context.text("common.income_line.not_below", income=per_capita, line=line)
    elif line is None:
        known = income.per_capita_high
        if known is not None:
            # The standard would have to exceed this for the income to be below the line.
            bound = known if multiplier is None else known / factor
            text = context.text(
                "common.income_line.standard_unset.income_known",
                categories=categories,
                income=per_capita,
                bound=money(bound),
            )
        else:
            text = context.text("common.income_line.standard_unset.income_incomplete", categories=categories)
    else:
        text = context.text("common.income_line.undecided", income=per_capita, line=line)
    used = list(standard.parameters) + ([multiplier] if multiplier is not None else [])
    citation = (multiplier.citation if multiplier is not None else None) or context.rule_citation("dibao.income")
    result.add(test, passed, text, citation, parameters_used(*used))
    if passed is None:
        result.need(*income.missing)
        result.need(*context.dibao_standard_missing(standard.parameters))
        if context.household.members is None:
            result.need("household.members")
    return passed


def not_on_dibao(context: ScreeningContext, result: Result, test: str) -> tuple[dict[str, Any], bool | None]:
    """The test "not on 低保" (低保边缘, 单人户 route A): an income below the 低保标准 fails it.
    Returns the explanation item (for the caller's own text) and whether the income is below."""
    below_standard = income_below_line(context, result, test)
    item = result.explanation[-1]
    if below_standard is not None:
        item["passed"] = not below_standard
    return item, below_standard


def _per_capita_text(context: ScreeningContext) -> str:
    income = context.income
    if income.per_capita_exact:
        return context.text("common.income_line.per_capita.exact", amount=money(income.per_capita_low))
    if income.per_capita_high is not None:
        return context.text(
            "common.income_line.per_capita.range", low=money(income.per_capita_low), high=money(income.per_capita_high)
        )
    return context.text("common.income_line.per_capita.at_least", low=money(income.per_capita_low))


def property_within_rules(context: ScreeningContext, result: Result, concept: str = "dibao.property") -> bool | None:
    told = context.household.property_ok
    result.add(
        "property", told, context.text_by_answer(told, "common.property_within_rules"), context.rule_citation(concept)
    )
    if told is None:
        result.need("household.property_ok")
    return told
