"""临时救助: an emergency that leaves the household in serious difficulty, applied for where
it happened; an estimate where the place sets a method (``temporary_assistance_method``):
a multiple of the 低保标准 per person (达州), or the urban standard × persons × months (会宁),
within the household's yearly cap where one is set."""

from __future__ import annotations

from bot.eligibility.amounts import money
from bot.eligibility.context import ScreeningContext
from bot.eligibility.entities import MAJOR_EMERGENCIES, URGENT_EMERGENCIES, Emergency
from bot.eligibility.parameters import Resolved
from bot.eligibility.results import Result, parameters_used
from bot.eligibility.units import format_value

# (low, high, formula, the parameters it used)
Estimate = tuple[float, float, str, list[Resolved]]


def temporary_assistance(context: ScreeningContext) -> Result:
    result = Result("temporary_assistance")
    emergency = context.household.emergency
    rule = context.rule_citation("temporary_assistance.rule")
    if emergency is None or emergency.type is None:
        result.add("emergency", None, context.text("temporary_assistance.emergency.unknown"), rule)
        result.need("household.emergency")
        return result
    if emergency.type == "none":
        result.add("emergency", False, context.text("temporary_assistance.emergency.none"), rule)
        return result
    kind = context.term("emergency", emergency.type)
    result.add("emergency", True, context.text("temporary_assistance.emergency.told", kind=kind), rule)
    result.add(
        "apply_where",
        True,
        context.text("temporary_assistance.apply_where"),
        context.rule_citation("temporary_assistance.where"),
        kind="info",
    )
    if emergency.urgent or emergency.type in URGENT_EMERGENCIES:
        result.add(
            "first_aid",
            True,
            context.text("temporary_assistance.first_aid"),
            context.rule_citation("temporary_assistance.first_aid"),
            kind="info",
        )
    major = emergency.type in MAJOR_EMERGENCIES
    if major:
        result.add(
            "major_case",
            True,
            context.text("temporary_assistance.major_case"),
            context.rule_citation("temporary_assistance.major"),
            kind="info",
        )
    _estimate(context, result, emergency, major)
    return result


def _estimate(context: ScreeningContext, result: Result, emergency: Emergency, major: bool) -> None:
    method = context.parameter("temporary_assistance_method")
    members = context.household.members
    persons = emergency.persons_affected or (len(members) if members else None)
    if method.value is None:
        result.add(
            "estimate_method",
            None,
            context.text("temporary_assistance.estimate.no_method"),
            method.citation,
            parameters_used(method),
            kind="info",
        )
        return
    if persons is None:
        result.need("household.members", purpose="estimate")
        return
    if method.value == "multiplier_range":
        estimate = _by_multiplier(context, result, persons)
    else:  # standard_x_persons_x_months
        estimate = _by_months(context, result, emergency, persons)
    if estimate is None:
        return
    low, high, formula, used = estimate
    cap = context.parameter("temporary_assistance_household_annual_cap")
    if cap.is_set:
        used.append(cap)
        received = emergency.assistance_received_this_year
        room = max(0.0, cap.value - (received or 0.0))
        if high > room:
            high = room
            low = min(low, room)
            received_text = (
                context.text("temporary_assistance.estimate.received", received=money(received)) if received else ""
            )
            formula += context.text(
                "temporary_assistance.estimate.capped", cap=money(cap.value), received=received_text
            )
    if major:
        formula += context.text("temporary_assistance.estimate.major_raise")
    result.estimate = {
        "amount": round(low, 2) if low == high else None,
        "low": round(low, 2),
        "high": round(high, 2),
        "unit": context.term("estimate_unit", "yuan"),
        "formula": formula,
    }
    result.add(
        "estimate",
        True,
        context.text("temporary_assistance.estimate.result", formula=formula),
        (cap.citation if cap.is_set else None) or method.citation,
        parameters_used(*used),
        kind="info",
    )


def _by_multiplier(context: ScreeningContext, result: Result, persons: int) -> Estimate | None:
    """(low, high, formula, parameters used), or None after explaining what is missing."""
    low_multiplier = context.parameter("temporary_assistance_min_multiplier")
    high_multiplier = context.parameter("temporary_assistance_max_multiplier")
    standard = context.dibao_standard()
    low_ratio = format_value(low_multiplier.value, "ratio")
    high_ratio = format_value(high_multiplier.value, "ratio")
    if standard.low is None or standard.low != standard.high:
        result.need(*context.dibao_standard_missing(standard.parameters), purpose="estimate")
        result.add(
            "estimate",
            None,
            context.text(
                "temporary_assistance.estimate.multiplier.standard_unset",
                low_multiplier=low_ratio,
                high_multiplier=high_ratio,
            ),
            low_multiplier.citation,
            parameters_used(low_multiplier, high_multiplier, *standard.parameters),
            kind="info",
        )
        return None
    low = low_multiplier.value * standard.low * persons
    high = high_multiplier.value * standard.low * persons
    formula = context.text(
        "temporary_assistance.estimate.multiplier.formula",
        standard=money(standard.low),
        low_multiplier=low_ratio,
        high_multiplier=high_ratio,
        persons=persons,
        low=money(low),
        high=money(high),
    )
    return low, high, formula, [low_multiplier, high_multiplier, *standard.parameters]


def _by_months(context: ScreeningContext, result: Result, emergency: Emergency, persons: int) -> Estimate | None:
    """(low, high, formula, parameters used), or None after explaining what is missing."""
    urban = context.parameter("dibao_monthly_urban")
    max_months = context.parameter("temporary_assistance_max_months")
    used = [urban, max_months]
    if urban.value is None:
        asked = (
            "standards.dibao_monthly_urban"
            if "dibao_monthly_urban" not in context.situation.standards
            else "standards.dibao_monthly"
        )
        result.need(asked, purpose="estimate")
        result.add(
            "estimate",
            None,
            context.text("temporary_assistance.estimate.months.standard_unset"),
            max_months.citation,
            parameters_used(*used),
            kind="info",
        )
        return None
    if emergency.duration_months is None:
        result.need("household.emergency.duration_months", purpose="estimate")
        result.add(
            "estimate",
            None,
            context.text(
                "temporary_assistance.estimate.months.duration_unknown",
                standard=money(urban.value),
                max_months=max_months.value,
            ),
            max_months.citation,
            parameters_used(*used),
            kind="info",
        )
        return None
    months = min(emergency.duration_months, max_months.value)
    amount = urban.value * persons * months
    formula = context.text(
        "temporary_assistance.estimate.months.formula",
        standard=money(urban.value),
        persons=persons,
        months=months,
        amount=money(amount),
    )
    if emergency.duration_months > max_months.value:
        formula += context.text(
            "temporary_assistance.estimate.months.capped_months",
            duration=emergency.duration_months,
            max_months=max_months.value,
        )
    return amount, amount, formula, used
