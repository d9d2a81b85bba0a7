"""特困: has the person no legal supporter (法定赡养、抚养、扶养义务人) able to support them?

A supporter is unable if told so, if 特困 themself, on 低保 above ``tekun_supporter_dibao_age``,
or if incapacitated / above ``tekun_supporter_elderly_age`` / severely disabled with low
income (below the local disposable income) and property within the rules.
"""

from __future__ import annotations

from bot.eligibility.context import ScreeningContext
from bot.eligibility.entities import Supporter


def no_able_supporter(context: ScreeningContext) -> tuple[bool | None, str, list[str]]:
    """(passed, text, missing facts)."""
    household = context.household
    if household.supporters:
        verdicts: list[bool | None] = []
        missing: list[str] = []
        for j, supporter in enumerate(household.supporters):
            verdicts.append(_unable(context, supporter, f"household.supporters[{j}].", missing))
        if all(v is True for v in verdicts):
            return True, context.text("tekun.supporters.all_unable"), []
        if any(v is False for v in verdicts):
            return False, context.text("tekun.supporters.someone_able"), []
        return None, context.text("tekun.supporters.undecided"), missing
    told_able = household.has_able_supporter
    if told_able is None:
        return None, context.text("tekun.supporters.able_supporter.unknown"), ["household.has_able_supporter"]
    if told_able:
        return False, context.text("tekun.supporters.able_supporter.yes"), []
    return True, context.text("tekun.supporters.able_supporter.no"), []


def _unable(context: ScreeningContext, supporter: Supporter, where: str, missing: list[str]) -> bool | None:
    """Is this supporter unable to support? Appends to ``missing`` what would tell."""
    disposable = context.parameter("per_capita_disposable_income_annual")
    dibao_age = context.parameter("tekun_supporter_dibao_age").value
    old_age = context.parameter("tekun_supporter_elderly_age").value
    if supporter.able is not None:
        return not supporter.able
    if supporter.is_tekun:
        return True
    if supporter.receives_dibao and supporter.age is not None and supporter.age >= dibao_age:
        return True
    low_income = None
    if supporter.monthly_income is not None and disposable.value is not None:
        low_income = supporter.monthly_income * 12 < disposable.value
    elif supporter.monthly_income is not None and supporter.monthly_income == 0:
        low_income = True
    severe = context.is_severely_disabled(supporter)
    if supporter.incapacitated or (supporter.age is not None and supporter.age >= old_age) or severe:
        income_matters = not supporter.incapacitated
        if supporter.property_ok is False or (income_matters and low_income is False):
            return False
        if supporter.property_ok and (not income_matters or low_income):
            return True
        if supporter.property_ok is None:
            missing.append(where + "property_ok")
        if income_matters and low_income is None:
            missing.append(
                where + "monthly_income"
                if supporter.monthly_income is None
                else "standards.per_capita_disposable_income_annual"
            )
        return None
    if supporter.age is None and supporter.incapacitated is None:
        missing.append(where + "able")
        return None
    return False  # in none of the listed situations: able to support
