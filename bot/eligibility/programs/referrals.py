"""Special assistance (专项救助) for households in a base category (低保, 单人户, 低保边缘,
刚性支出困难, 特困): 医疗, 教育, 住房 and 就业救助. Each checks the base category, then the
need the assistance is for."""

from __future__ import annotations

from bot.eligibility.context import ScreeningContext
from bot.eligibility.results import LIKELY, NEED_INFO, Result, parameters_used
from bot.eligibility.units import format_value

BASE_CATEGORIES = ("dibao", "dibao_single", "dibao_edge", "rigid_expense", "tekun")


def in_base_category(
    context: ScreeningContext, result: Result, programs: tuple[str, ...] = BASE_CATEGORIES
) -> bool | None:
    """Receiving or likely in one of ``programs``; while undecided, asks what they ask."""
    citation = context.rule_citation(f"{result.program}.rule")
    receiving = [p for p in programs if p in (context.household.currently_receiving or [])]
    likely = [p for p in programs if context.status(p) == LIKELY]
    unknown = [p for p in programs if context.status(p) == NEED_INFO]
    names = context.list_of(context.term("program_short", p) for p in programs)
    if receiving:
        which = context.list_of(context.term("program_short", p) for p in receiving)
        result.add("base_category", True, context.text("referrals.base_category.receiving", programs=which), citation)
        return True
    if likely:
        which = context.list_of(context.term("program_short", p) for p in likely)
        result.add("base_category", True, context.text("referrals.base_category.likely", programs=which), citation)
        return True
    if unknown:
        result.add("base_category", None, context.text("referrals.base_category.unknown", programs=names), citation)
        for program in unknown:
            for fact, purpose in context.result(program).missing:
                if purpose == "status":
                    result.need(fact)
        return None
    result.add("base_category", False, context.text("referrals.base_category.none", programs=names), citation)
    return False


def medical_assistance(context: ScreeningContext) -> Result:
    result = Result("medical_assistance")
    if in_base_category(context, result) is not False:
        rate = context.parameter("medical_assistance_min_rate")
        if rate.is_set:
            share = format_value(rate.value, "rate")
            result.add(
                "rate",
                True,
                context.text("referrals.medical.rate", rate=share),
                rate.citation,
                parameters_used(rate),
                kind="info",
            )
            result.estimate = {
                "amount": None,
                "low": rate.value,
                "high": None,
                "unit": context.term("estimate_unit", "share_of_out_of_pocket"),
                "formula": context.text("referrals.medical.formula", rate=share),
            }
    return result


def education_assistance(context: ScreeningContext) -> Result:
    result = Result("education_assistance")
    in_base_category(context, result)
    members = context.household.members or []
    in_school = [m.in_school for m in members]
    citation = context.rule_citation("education_assistance.rule")
    if any(in_school):
        result.add("student", True, context.text("referrals.education.student.yes"), citation)
    elif members and all(f is False for f in in_school):
        result.add("student", False, context.text("referrals.education.student.no"), citation)
    else:
        result.add("student", None, context.text("referrals.education.student.unknown"), citation)
        result.need(*[f"members[{i}].in_school" for i, f in enumerate(in_school) if f is None] or ["household.members"])
    return result


def housing_assistance(context: ScreeningContext) -> Result:
    result = Result("housing_assistance")
    in_base_category(context, result)
    difficulty = context.household.housing_difficulty
    result.add(
        "housing_difficulty",
        difficulty,
        context.text_by_answer(difficulty, "referrals.housing.difficulty"),
        context.rule_citation("housing_assistance.rule"),
    )
    if difficulty is None:
        result.need("household.housing_difficulty")
    return result


def employment_assistance(context: ScreeningContext) -> Result:
    result = Result("employment_assistance")
    in_base_category(context, result, ("dibao", "dibao_edge", "rigid_expense"))
    members = context.household.members or []
    adult_age = context.parameter("adult_age").value
    citation = context.rule_citation("employment_assistance.rule")
    found, unknown = [], []
    for i, member in enumerate(members):
        if member.age is not None and member.age < adult_age:
            continue
        able = None if member.labor_capacity is None else member.labor_capacity in ("full", "partial")
        jobless = None if member.employed is None else not member.employed
        if able and jobless:
            found.append(i)
        elif able is None or jobless is None:
            unknown.append(i)
    if found:
        names = context.list_of(context.member_label(i) for i in found)
        result.add("unemployed_able_member", True, context.text("referrals.employment.found", names=names), citation)
    elif unknown:
        result.add("unemployed_able_member", None, context.text("referrals.employment.unknown"), citation)
        for i in unknown:
            if members[i].labor_capacity is None:
                result.need(f"members[{i}].labor_capacity")
            if members[i].employed is None:
                result.need(f"members[{i}].employed")
    elif members:
        result.add("unemployed_able_member", False, context.text("referrals.employment.none"), citation)
    else:
        result.add("unemployed_able_member", None, context.text("referrals.employment.members_unknown"), citation)
        result.need("household.members")
    return result
