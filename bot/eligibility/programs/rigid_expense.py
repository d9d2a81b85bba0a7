"""刚性支出困难家庭: in no other category, per-capita income below the local disposable
income, property within the rules, and necessary spending (medical, schooling) above the
local share of the household's income."""

from __future__ import annotations

from bot.eligibility.amounts import below, money
from bot.eligibility.conditions import members_known, property_within_rules
from bot.eligibility.context import ScreeningContext
from bot.eligibility.results import LIKELY, Result, parameters_used
from bot.eligibility.units import format_value


def rigid_expense(context: ScreeningContext) -> Result:
    result = Result("rigid_expense")
    if not members_known(context, result):
        return result
    _not_in_other_category(context, result)
    _income_below_disposable_income(context, result)
    property_within_rules(context, result)
    _expense_share(context, result)
    return result


def _not_in_other_category(context: ScreeningContext, result: Result) -> None:
    receiving = context.household.currently_receiving
    citation = context.rule_citation("rigid_expense.not_other")
    in_other = [p for p in ("dibao", "tekun", "dibao_edge") if p in (receiving or [])]
    screened = [p for p in ("dibao", "dibao_edge") if context.status(p) == LIKELY]
    if in_other:
        result.add("not_in_other_category", False, context.text("rigid_expense.other_category.receiving"), citation)
    elif screened:
        result.add("not_in_other_category", False, context.text("rigid_expense.other_category.likely"), citation)
    elif receiving is None:
        result.add("not_in_other_category", None, context.text("rigid_expense.other_category.unknown"), citation)
        result.need("household.currently_receiving")
    else:
        result.add("not_in_other_category", True, context.text("rigid_expense.other_category.none"), citation)


def _income_below_disposable_income(context: ScreeningContext, result: Result) -> None:
    income = context.income
    disposable = context.parameter("per_capita_disposable_income_annual")
    annual_low = income.per_capita_low * 12 if income.per_capita_low is not None else None
    annual_high = income.per_capita_high * 12 if income.per_capita_high is not None else None
    passed = below(annual_low, annual_high, disposable.value, disposable.value)
    if passed is None:
        if disposable.value is None and annual_high is not None:
            text = context.text("rigid_expense.disposable_income.unset", annual=money(annual_high))
            result.need("standards.per_capita_disposable_income_annual")
        else:
            text = context.text("rigid_expense.disposable_income.income_incomplete")
            result.need(*income.missing)
            if disposable.value is None:
                result.need("standards.per_capita_disposable_income_annual")
    else:
        annual = money(annual_high if annual_high is not None else annual_low)
        if passed:
            text = context.text(
                "rigid_expense.disposable_income.below", annual=annual, standard=money(disposable.value)
            )
        else:
            text = context.text(
                "rigid_expense.disposable_income.not_below", annual=annual, standard=money(disposable.value)
            )
    result.add(
        "income_below_disposable_income",
        passed,
        text,
        disposable.citation or context.rule_citation("rigid_expense.rule"),
        parameters_used(disposable),
    )


def _expense_share(context: ScreeningContext, result: Result) -> None:
    share = context.parameter("rigid_expense_share_threshold")
    citation = share.citation or context.rule_citation("rigid_expense.rule")
    expense = context.household.monthly_rigid_expense
    total = context.income.total_high
    if expense is None:
        result.add(
            "rigid_expense_share",
            None,
            context.text("rigid_expense.share.expense_unknown"),
            citation,
            parameters_used(share),
        )
        result.need("household.monthly_rigid_expense")
        return
    if total is None:
        result.add(
            "rigid_expense_share",
            None,
            context.text("rigid_expense.share.income_incomplete"),
            citation,
            parameters_used(share),
        )
        result.need(*context.income.missing)
        return
    ratio = float("inf") if total <= 0 else expense / total
    if ratio == float("inf"):
        ratio_text = context.text("rigid_expense.share.ratio.no_income")
    else:
        ratio_text = context.text("rigid_expense.share.ratio.of_income", percent=f"{ratio * 100:.0f}")
    ok: bool | None
    if expense <= 0:
        ok = False
    elif share.value is None:
        ok = True if ratio == float("inf") else None  # no income at all exceeds any share
    else:
        ok = ratio > share.value
    if ok is None:
        text = context.text(
            "rigid_expense.share.threshold_unset",
            expense=money(expense),
            ratio=ratio_text,
            percent=f"{ratio * 100:.0f}",
        )
        result.need("standards.rigid_expense_share")
    elif share.value is None:
        text = context.text("rigid_expense.share.above_unset_threshold", expense=money(expense), ratio=ratio_text)
    elif ok:
        text = context.text(
            "rigid_expense.share.above",
            expense=money(expense),
            ratio=ratio_text,
            threshold=format_value(share.value, "rate"),
        )
    else:
        text = context.text(
            "rigid_expense.share.not_above",
            expense=money(expense),
            ratio=ratio_text,
            threshold=format_value(share.value, "rate"),
        )
    result.add("rigid_expense_share", ok, text, citation, parameters_used(share))
