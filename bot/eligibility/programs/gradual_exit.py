"""低保渐退: a household on 低保 whose income rose above the standard through work keeps
低保 for a while (``gradual_exit_months``; longer in special circumstances where the place
allows it). Adds its items to the 低保 result."""

from __future__ import annotations

from bot.eligibility.context import ScreeningContext
from bot.eligibility.parameters import Resolved
from bot.eligibility.results import Result, parameters_used


def gradual_exit(context: ScreeningContext, result: Result) -> None:
    household = context.household
    base = context.parameter("gradual_exit_months")
    special = context.parameter("gradual_exit_months_special")
    employed = [m.employed for m in context.members]
    if not any(employed):
        if any(e is None for e in employed):
            result.add(
                "gradual_exit.employment",
                None,
                context.text("gradual_exit.employment.unknown"),
                base.citation,
                parameters_used(base),
            )
            result.need(*[f"members[{i}].employed" for i, e in enumerate(employed) if e is None])
        else:
            result.add(
                "gradual_exit.employment",
                False,
                context.text("gradual_exit.employment.not_from_work"),
                context.rule_citation("dibao.exit_other"),
                parameters_used(base),
            )
        return
    months = household.months_above_standard
    if months is None:
        result.add(
            "gradual_exit",
            None,
            context.text("gradual_exit.months_unknown", limit=base.value),
            base.citation,
            parameters_used(base, special),
        )
        result.need("household.months_above_standard")
        return
    if base.value is not None and months <= base.value:
        result.add(
            "gradual_exit",
            True,
            context.text("gradual_exit.within", months=months, limit=base.value),
            base.citation,
            parameters_used(base),
        )
        result.estimate = {
            "amount": None,
            "low": 0,
            "high": base.value - months,
            "unit": context.term("estimate_unit", "months"),
            "formula": context.text(
                "gradual_exit.remaining", limit=base.value, months=months, remaining=base.value - months
            ),
        }
        return
    if special.is_set and months <= special.value:
        _special_circumstances(context, result, months, base, special)
        return
    limit = special.value if special.is_set else base.value
    result.add(
        "gradual_exit",
        False,
        context.text("gradual_exit.exceeded", months=months, limit=limit),
        (special if special.is_set else base).citation,
        parameters_used(base, special),
    )


def _special_circumstances(
    context: ScreeningContext, result: Result, months: int, base: Resolved, special: Resolved
) -> None:
    told = context.household.exit_special_circumstances
    verdict = context.text_by_answer(told, "gradual_exit.special.told_special_circumstances")
    text = context.text(
        "gradual_exit.special.beyond_base",
        months=months,
        limit=base.value,
        special_limit=special.value,
        verdict=verdict,
    )
    result.add("gradual_exit", told, text, special.citation, parameters_used(base, special))
    if told is None:
        result.need("household.exit_special_circumstances")
    elif told:
        result.estimate = {
            "amount": None,
            "low": 0,
            "high": special.value - months,
            "unit": context.term("estimate_unit", "months"),
            "formula": context.text(
                "gradual_exit.special.remaining", limit=special.value, months=months, remaining=special.value - months
            ),
        }
