"""The context of one screen: the situation, parameters and clauses in force for its date
and place, the explanation texts, the figures several programs share, and each program's
result — decided the first time any program (or the answer) asks for it, then kept.

Because a program asks for the results it builds on (``context.status("dibao")``,
``context.result("dibao").missing``), programs can be decided in any order and no order
has to be kept by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple

from bot.eligibility.entities import Person, Situation, Supporter
from bot.eligibility.explanations import Explanations
from bot.eligibility.facts import member_label
from bot.eligibility.income import HouseholdIncome, count_household_income
from bot.eligibility.parameters import ParameterSet, Resolved
from bot.eligibility.results import Result
from bot.eligibility.units import format_value

ANSWER_SUFFIX = {True: "yes", False: "no", None: "unknown"}
Rule = Callable[["ScreeningContext"], Result]


class DibaoStandard(NamedTuple):
    """The applicable 低保标准 as [low, high] over the possible categories (None = unknown)."""

    low: float | None
    high: float | None
    parameters: list[Resolved]


class ScreeningContext:
    def __init__(
        self, situation: Situation, parameter_set: ParameterSet, explanations: Explanations, rules: Mapping[str, Rule]
    ):
        self.situation = situation
        self.household = situation.household
        self.jurisdiction = situation.jurisdiction
        self.as_of: date = situation.as_of
        self.parameter_set = parameter_set
        self.explanations = explanations
        # The texts, bound once: a screen fills some sixty of them.
        self.text = explanations.text
        self.term = explanations.term
        self._enumeration = explanations.term("separator", "enumeration")
        self.relations = [m.relation for m in self.household.members] if self.household.members else []
        self._rules = rules
        self._results: dict[str, Result] = {}
        self._statuses: dict[str, str] = {}
        self._deciding: set[str] = set()
        self._parameters: dict[str, Resolved] = {}

    # -- results of programs, on demand
    def result(self, program: str) -> Result:
        done = self._results.get(program)
        if done is not None:
            return done
        if program in self._deciding:
            raise RuntimeError(f"program {program!r} depends on its own result")
        self._deciding.add(program)
        try:
            done = self._results[program] = self._rules[program](self)
        finally:
            self._deciding.discard(program)
        return done

    def status(self, program: str) -> str:
        """The status of a program's result (worked out once: a decided result does not change)."""
        known = self._statuses.get(program)
        if known is None:
            known = self._statuses[program] = self.result(program).status
        return known

    # -- parameters, clauses, texts
    def parameter(self, name: str) -> Resolved:
        """The parameter in force here and now; an unset local figure falls back to the user's."""
        hit = self._parameters.get(name)
        if hit is None:
            hit = self._parameters[name] = self._with_user_figure(
                self.parameter_set.get(name, self.jurisdiction, self.as_of)
            )
        return hit

    def _with_user_figure(self, resolved: Resolved) -> Resolved:
        if resolved.value is not None:
            return resolved  # an official value wins over the user's figure
        for key in self.parameter_set.parameters[resolved.name].user_override:
            if key in self.situation.standards:
                value = self.situation.standards[key]
                citation = {
                    "title": self.text("common.user_figure.title"),
                    "clause": "",
                    "issuer": self.text("common.user_figure.issuer"),
                    "date": self.as_of.isoformat(),
                    "jurisdiction": self.jurisdiction,
                    "status": self.text("common.user_figure.status"),
                    "source": self.text("common.user_figure.source", key=key),
                    "text": self.text(
                        "common.user_figure.text", label=resolved.label, value=format_value(value, resolved.unit)
                    ),
                }
                return Resolved(
                    resolved.name, value, resolved.unit, resolved.label, self.jurisdiction, self.as_of, "user", citation
                )
        return resolved

    def rule_citation(self, concept: str) -> dict[str, Any] | None:
        """The clause a rule (not a number) rests on here and now (``_rules.yml``)."""
        return self.parameter_set.rule_citation(concept, self.jurisdiction, self.as_of)

    def text_by_answer(self, answer: bool | None, key: str, /, **values: object) -> str:
        """The text for a yes / no / not told: template ``{key}.yes``, ``{key}.no`` or ``{key}.unknown``."""
        return self.text(f"{key}.{ANSWER_SUFFIX[answer]}", **values)

    @property
    def members(self) -> list[Person]:
        """The household's members ([] while they are not told: programs ask for them first)."""
        return self.household.members or []

    def list_of(self, parts: Iterable[str]) -> str:
        """Names run together as a Chinese list (甲、乙、丙)."""
        return self._enumeration.join(parts)

    def member_label(self, index: int) -> str:
        return member_label(index, self.relations[index] if index < len(self.relations) else None)

    # -- figures several programs share
    @cached_property
    def income(self) -> HouseholdIncome:
        return count_household_income(self)

    def is_severely_disabled(self, person: Person | Supporter) -> bool | None:
        """重度残疾 per severe_disability_max_grade (None = not told)."""
        if person.disability_type is None:
            return None
        if person.disability_type == "none":
            return False
        if person.disability_grade is None:
            return None
        table = self.parameter("severe_disability_max_grade").value or {}
        limit = table.get(person.disability_type, table.get("default"))
        return None if limit is None else person.disability_grade <= limit

    def dibao_categories(self) -> list[str]:
        """Which 低保标准 (urban, rural) may apply: both while the hukou is not told."""
        hukou = self.situation.hukou
        if hukou == "urban":
            return ["urban"]
        if hukou == "rural":
            years = self.parameter("urban_dibao_residence_years")
            h = self.household
            if (
                years.is_set
                and h.urban_residence_years is not None
                and h.urban_residence_years >= years.value
                and h.has_contracted_land is False
                and h.collective_income_share is False
            ):
                return ["urban"]  # rural hukou living in town may apply for the urban standard
            return ["rural"]
        return ["urban", "rural"]

    def dibao_standard(self) -> DibaoStandard:
        resolved = [self.parameter(f"dibao_monthly_{category}") for category in self.dibao_categories()]
        values = [r.value for r in resolved]
        if any(v is None for v in values):
            return DibaoStandard(None, None, resolved)
        return DibaoStandard(min(values), max(values), resolved)

    def dibao_standard_missing(self, resolved: list[Resolved]) -> list[str]:
        """Facts that would pin the standard down: the figure itself, or the hukou choosing it."""
        facts = []
        unknown = [r for r in resolved if r.value is None]
        if unknown:
            facts.append("standards.dibao_monthly")
        if self.situation.hukou is None and len(resolved) > 1 and (unknown or len({r.value for r in resolved}) > 1):
            facts.append("hukou")
        return facts
