"""低保 (最低生活保障): per-capita income below the 低保标准 and property within the rules;
the whole household is taken in. A household already on 低保 whose income is now above
the standard is looked at for a gradual exit (``gradual_exit.py``)."""

from __future__ import annotations

from typing import Any

from bot.eligibility.amounts import money
from bot.eligibility.conditions import income_below_line, members_known, property_within_rules
from bot.eligibility.context import ScreeningContext
from bot.eligibility.programs.gradual_exit import gradual_exit
from bot.eligibility.results import UNLIKELY, Result, parameters_used
from bot.eligibility.units import format_value


def dibao(context: ScreeningContext) -> Result:
    result = Result("dibao")
    if not members_known(context, result):
        return result
    household = context.household
    categories = context.dibao_categories()
    result.explanation.extend(context.income.trace)
    if household.hukou_local is False:
        _where_to_apply(context, result)
    _urban_standard_access(context, result, categories)
    receiving = "dibao" in (household.currently_receiving or [])
    passed = income_below_line(context, result, "income_below_standard")
    if receiving and passed is False:
        # Already on 低保 and income now above the line: the income test only informs;
        # whether 低保 goes on is the gradual exit's question.
        result.explanation[-1]["kind"] = "info"
        gradual_exit(context, result)
        return result
    property_within_rules(context, result)
    result.add(
        "whole_household",
        True,
        context.text("dibao.whole_household"),
        context.rule_citation("dibao.household"),
        kind="info",
    )
    if result.status != UNLIKELY:
        _estimate(context, result, categories)
    return result


def _where_to_apply(context: ScreeningContext, result: Result) -> None:
    permit = context.parameter("residence_permit_application")
    if context.household.residence_permit and permit.value is True:
        result.add(
            "apply_where",
            True,
            context.text("dibao.apply_where.with_residence_permit"),
            permit.citation,
            parameters_used(permit),
            kind="info",
        )
    else:
        result.add(
            "apply_where",
            None,
            context.text("dibao.apply_where.where_registered"),
            context.rule_citation("dibao.apply_where"),
            parameters_used(permit),
            kind="info",
        )


def _urban_standard_access(context: ScreeningContext, result: Result, categories: list[str]) -> None:
    """Rural hukou: say when the urban standard would apply, or that it does."""
    rural_hukou = context.situation.hukou == "rural"
    if rural_hukou and context.parameter("urban_dibao_residence_years").is_set and categories == ["rural"]:
        years = context.parameter("urban_dibao_residence_years")
        result.add(
            "urban_access",
            None,
            context.text("dibao.urban_access.conditions", years=money(years.value)),
            years.citation,
            parameters_used(years),
            kind="info",
        )
    elif categories == ["urban"] and rural_hukou:
        years = context.parameter("urban_dibao_residence_years")
        result.add(
            "urban_access", True, context.text("dibao.urban_access.granted"), years.citation, parameters_used(years)
        )


def _estimate(context: ScreeningContext, result: Result, categories: list[str]) -> None:
    result.estimate = _amount(context, categories)
    if result.estimate is None:
        standard = context.dibao_standard()
        result.need(*context.dibao_standard_missing(standard.parameters), purpose="estimate")
        result.need(*context.income.missing, purpose="estimate")
    elif result.estimate["amount"] is None:
        result.need(*[f for f in context.income.missing if f.startswith("standards.")], purpose="estimate")
    else:
        result.add(
            "amount",
            True,
            context.text("dibao.amount"),
            context.rule_citation("dibao.amount"),
            parameters_used(*context.dibao_standard().parameters),
            kind="info",
        )


def _amount(context: ScreeningContext, categories: list[str]) -> dict[str, Any] | None:
    """The monthly 低保金 as the gap to the standard (a range while deductions are open)."""
    income = context.income
    standard = context.dibao_standard()
    if (
        standard.low is None
        or standard.low != standard.high
        or income.per_capita_high is None
        or income.per_capita_low is None
        or income.persons == 0
    ):
        return None
    line, persons = standard.low, income.persons
    gap_low = max(0.0, (line - income.per_capita_high) * persons)
    gap_high = max(0.0, (line - income.per_capita_low) * persons)
    if abs(gap_high - gap_low) < 0.005:
        formula = context.text(
            "dibao.estimate.exact",
            standard=money(line),
            per_capita=money(income.per_capita_high),
            persons=persons,
            amount=money(gap_low),
        )
    else:
        formula = context.text(
            "dibao.estimate.range",
            standard=money(line),
            per_capita_low=money(income.per_capita_low),
            per_capita_high=money(income.per_capita_high),
            persons=persons,
            low=money(gap_low),
            high=money(gap_high),
        )
    extra = 0.0
    uplift = context.parameter("disabled_dibao_uplift_rate")
    if uplift.is_set and categories == ["urban"]:
        disabled = sum(1 for m in context.members if m.disabled)
        if disabled:
            extra = uplift.value * line * disabled
            formula += context.text(
                "dibao.estimate.disabled_uplift",
                rate=format_value(uplift.value, "rate"),
                standard=money(line),
                disabled=disabled,
                extra=money(extra),
            )
    low, high = round(gap_low + extra, 2), round(gap_high + extra, 2)
    return {
        "amount": low if low == high else None,
        "low": low,
        "high": high,
        "unit": context.term("estimate_unit", "yuan_per_month"),
        "formula": formula + context.text("dibao.estimate.note"),
    }
