"""The household's monthly income as counted for the income tests, and how it was counted.

Unknown incomes make the total a range: ``total_high`` / ``per_capita_high`` are None while
an income is not told. The employment-cost deduction is a range too while the minimum wage
or a member's employment is not known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.eligibility.amounts import money
from bot.eligibility.entities import Household
from bot.eligibility.parameters import ParameterSet, Resolved
from bot.eligibility.results import parameters_used, trace_item
from bot.eligibility.units import format_value


class IncomeContext(Protocol):
    """What counting the income reads from a screen: bot.eligibility.context.ScreeningContext
    (whose `income` counts it with itself). Said here, so this module does not import the context."""

    @property
    def household(self) -> Household: ...
    @property
    def parameter_set(self) -> ParameterSet: ...

    def parameter(self, name: str) -> Resolved: ...
    def text(self, key: str, /, **values: object) -> str: ...
    def term(self, table: str, key: object) -> str: ...
    def list_of(self, parts: Iterable[str]) -> str: ...


@dataclass(frozen=True)
class HouseholdIncome:
    persons: int
    total_low: float
    total_high: float | None  # None: some income not told
    per_capita_low: float | None  # None: no members
    per_capita_high: float | None
    missing: list[str]  # facts that would narrow the range
    employment_cost_deducted: float  # surely deducted (the low end of the deduction)
    trace: list[dict[str, Any]]  # info items shared by the income-based programs

    @property
    def per_capita_exact(self) -> bool:
        return (
            self.per_capita_high is not None
            and self.per_capita_low is not None
            and abs(self.per_capita_high - self.per_capita_low) < 0.005
        )


def count_household_income(context: IncomeContext) -> HouseholdIncome:
    household = context.household
    members = household.members or []
    low = high = 0.0
    high_unknown = False
    missing: list[str] = []
    rate = context.parameter("employment_cost_deduction_rate")
    wage = context.parameter("minimum_wage_monthly")
    deducted = 0.0
    for i, member in enumerate(members):
        if member.monthly_income is None:
            high_unknown = True
            missing.append(f"members[{i}].monthly_income")
            continue
        income = member.monthly_income
        deduction_low = deduction_high = 0.0
        if rate.is_set and income > 0 and member.employed is not False:
            if wage.is_set:
                deduction = min(income, rate.value * wage.value)
                deduction_low, deduction_high = (deduction, deduction) if member.employed else (0.0, deduction)
            else:
                # Wage not known: deduct anything up to the rate of the highest possible wage.
                wage_range = context.parameter_set.parameters["minimum_wage_monthly"].range
                assert wage_range is not None  # a money parameter always has its plausible range
                wage_max = wage_range[1]
                deduction_high = min(income, rate.value * wage_max)
                missing.append("standards.minimum_wage_monthly")
            if member.employed is None:
                missing.append(f"members[{i}].employed")
            deducted += deduction_low
        low += income - deduction_high
        high += income - deduction_low
    if household.other_monthly_income is None:
        high_unknown = True
        missing.append("household.other_monthly_income")
    else:
        low += household.other_monthly_income
        high += household.other_monthly_income
    if household.support_from_siblings_or_elderly:
        low += household.support_from_siblings_or_elderly
        high += household.support_from_siblings_or_elderly
    persons = len(household.members) if household.members else 0
    return HouseholdIncome(
        persons=persons,
        total_low=low,
        total_high=None if high_unknown else high,
        per_capita_low=low / persons if persons else None,
        per_capita_high=(None if high_unknown else high / persons) if persons else None,
        missing=list(dict.fromkeys(missing)),
        employment_cost_deducted=deducted,
        trace=_trace(context, rate, wage, deducted),
    )


def _trace(context: IncomeContext, rate: Resolved, wage: Resolved, deducted: float) -> list[dict[str, Any]]:
    household = context.household
    trace = []
    anyone_employed = any(m.employed for m in household.members or [])
    if rate.is_set and anyone_employed:
        if wage.is_set:
            text = context.text(
                "income.employment_cost_deduction.counted",
                wage=money(wage.value),
                rate=format_value(rate.value, "rate"),
                deducted=money(deducted),
            )
            passed = True
        else:
            text = context.text("income.employment_cost_deduction.wage_unset", rate=format_value(rate.value, "rate"))
            passed = None
        trace.append(
            trace_item(
                "income.employment_cost_deduction",
                passed,
                text,
                rate.citation,
                parameters_used(rate, wage),
                kind="info",
            )
        )
    elif not rate.is_set and anyone_employed:
        trace.append(
            trace_item(
                "income.employment_cost_deduction",
                None,
                context.text("income.employment_cost_deduction.rate_unset"),
                rate.citation,
                parameters_used(rate),
                kind="info",
            )
        )
    if household.excluded_income:
        exclusions = context.parameter("income_exclusions")
        allowed = set(exclusions.value or [])
        listed = context.list_of(
            context.text("income.exclusions.item", name=context.term("income_category", k), amount=money(v))
            for k, v in household.excluded_income.items()
            if k in allowed
        )
        if listed:
            trace.append(
                trace_item(
                    "income.exclusions",
                    True,
                    context.text("income.exclusions.not_counted", listed=listed),
                    exclusions.citation,
                    parameters_used(exclusions),
                    kind="info",
                )
            )
    return trace
