"""特困人员救助供养: a member with no labour capacity (by age or disability), no income
source (own income below the 低保标准, property within the rules) and no legal supporter
able to support them. Each member is assessed alone; the best member's items are shown."""

from __future__ import annotations

from bot.eligibility.amounts import below, money
from bot.eligibility.conditions import members_known, property_within_rules
from bot.eligibility.context import ScreeningContext
from bot.eligibility.entities import Person
from bot.eligibility.programs.tekun_supporters import no_able_supporter
from bot.eligibility.results import NEED_INFO, UNLIKELY, Result, best, parameters_used
from bot.eligibility.units import format_value


def tekun(context: ScreeningContext) -> Result:
    result = Result("tekun")
    if not members_known(context, result):
        return result
    per_member = [_member(context, i, member) for i, member in enumerate(context.members)]
    top = best(*(m.status for m in per_member))
    for member_result in per_member:
        if member_result.status == top or top == UNLIKELY:
            result.explanation.extend(member_result.explanation)
            if member_result.status == NEED_INFO:
                result.missing.extend(m for m in member_result.missing if m not in result.missing)
    result.status_override = top
    if top != UNLIKELY:
        _basic_standard(context, result)
    return result


def _member(context: ScreeningContext, i: int, member: Person) -> Result:
    result = Result("tekun")
    who = context.member_label(i)
    no_capacity = _no_labor_capacity(context, i, member, result)
    if no_capacity is False:
        return result
    _no_income_source(context, i, member, result)
    property_within_rules(context, result, "tekun.no_income")
    unable, text, missing = no_able_supporter(context)
    result.add(
        "no_able_supporter",
        unable,
        context.text("tekun.supporters.item", who=who, text=text),
        context.rule_citation("tekun.supporter"),
    )
    result.need(*missing)
    adult = context.parameter("adult_age")
    if (
        member.age is not None
        and adult.is_set
        and member.age < adult.value
        and member.parents_situation in ("orphan", "de_facto_unsupported")
    ):
        result.add(
            "children_choice",
            None,
            context.text("tekun.children_choice", who=who),
            context.rule_citation("tekun.children_choice"),
            kind="info",
        )
    return result


def _no_labor_capacity(context: ScreeningContext, i: int, member: Person, result: Result) -> bool | None:
    """无劳动能力: old enough, young enough (or still at school while supported), or disabled enough."""
    elderly = context.parameter("tekun_elderly_age")
    minor = context.parameter("tekun_minor_age")
    grades = context.parameter("tekun_disability_max_grade")
    receiving = "tekun" in (context.household.currently_receiving or [])
    age = member.age
    passed, why, citation = None, "", context.rule_citation("tekun.rule")
    if age is not None and elderly.is_set and age >= elderly.value:
        passed, why, citation = (
            True,
            context.text("tekun.labor.elderly", age=age, limit=elderly.value),
            elderly.citation,
        )
    elif age is not None and minor.is_set and age < minor.value:
        passed, why, citation = True, context.text("tekun.labor.minor", age=age, limit=minor.value), minor.citation
    elif age is not None and minor.is_set and age >= minor.value and member.in_school and receiving:
        passed, why = True, context.text("tekun.labor.still_in_school", age=age, limit=minor.value)
        citation = context.rule_citation("tekun.in_school")
    elif member.disabled and member.disability_grade is not None and grades.is_set:
        limit = grades.value.get(member.disability_type)
        if limit is not None and member.disability_grade <= limit:
            passed, citation = True, grades.citation
            why = context.text(
                "tekun.labor.disabled",
                disability=context.term("disability", member.disability_type),
                grade=context.term("grade", member.disability_grade),
            )
        elif limit is None and member.disability_type == "multiple":
            passed, why, citation = None, context.text("tekun.labor.multiple_disabilities"), grades.citation
        else:
            passed = False if age is not None else None
    else:
        passed = (
            False
            if (
                age is not None
                and member.disabled is not None
                and (member.disabled is False or member.disability_grade is not None)
            )
            else None
        )
    if passed is False:
        if minor.is_set and elderly.is_set:
            why = context.text("tekun.labor.none", age=age, elderly=elderly.value, minor=minor.value)
        else:
            why = context.text("tekun.labor.none_generic")
        if age is not None and minor.is_set and age >= minor.value and member.in_school and not receiving:
            why += context.text("tekun.labor.in_school_not_supported")
    elif passed is None and not why:
        why = context.text("tekun.labor.unclear")
        if age is None:
            result.need(f"members[{i}].age")
        if member.disability_type is None:
            result.need(f"members[{i}].disability_type")
        elif member.disabled and member.disability_grade is None:
            result.need(f"members[{i}].disability_grade")
    result.add(
        "no_labor_capacity",
        passed,
        context.text("tekun.labor.item", who=context.member_label(i), reason=why),
        citation,
        parameters_used(elderly, minor, grades),
    )
    return passed


def _no_income_source(context: ScreeningContext, i: int, member: Person, result: Result) -> None:
    """无生活来源: own income below the 低保标准 (no income at all counts while the standard is unset)."""
    who = context.member_label(i)
    standard = context.dibao_standard()
    income = member.monthly_income
    if income is None:
        ok = None
        result.need(f"members[{i}].monthly_income")
        text = context.text("tekun.income_source.unknown", who=who)
    else:
        ok = (
            below(income, income, standard.low, standard.high)
            if income > 0
            else (True if (standard.low is None or standard.low > 0) else None)
        )
        if ok is None:
            result.need(*context.dibao_standard_missing(standard.parameters))
            text = context.text("tekun.income_source.standard_unset", who=who, income=money(income))
        elif ok:
            text = context.text("tekun.income_source.below", who=who, income=money(income))
        else:
            text = context.text("tekun.income_source.not_below", who=who, income=money(income))
    result.add(
        "no_income_source", ok, text, context.rule_citation("tekun.no_income"), parameters_used(*standard.parameters)
    )


def _basic_standard(context: ScreeningContext, result: Result) -> None:
    multiplier = context.parameter("tekun_basic_multiplier")
    standard = context.dibao_standard()
    if multiplier.is_set and standard.low is not None and standard.low == standard.high:
        ratio = format_value(multiplier.value, "ratio")
        result.estimate = {
            "amount": None,
            "low": round(multiplier.value * standard.low, 2),
            "high": None,
            "unit": context.term("estimate_unit", "yuan_per_person_month"),
            "formula": context.text(
                "tekun.basic_standard.formula",
                multiplier=ratio,
                standard=money(standard.low),
                amount=money(multiplier.value * standard.low),
            ),
        }
        result.add(
            "basic_standard",
            True,
            context.text("tekun.basic_standard.rule"),
            multiplier.citation,
            parameters_used(multiplier, *standard.parameters),
            kind="info",
        )
