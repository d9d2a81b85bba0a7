"""残疾人两项补贴: 重度残疾人护理补贴 for grade 1–2, 困难残疾人生活补贴 for disabled members
of a household likely on (or receiving) 低保 or 特困; amounts where the place sets them."""

from __future__ import annotations

from bot.eligibility.amounts import money
from bot.eligibility.context import ScreeningContext
from bot.eligibility.results import LIKELY, NEED_INFO, Result, best, parameters_used

POOR_HOUSEHOLD = ("dibao", "dibao_single", "tekun")


def disability_subsidies(context: ScreeningContext) -> Result:
    result = Result("disability_subsidies")
    members = context.household.members or []
    citation = context.rule_citation("disability_subsidies.rule")
    if not members:
        result.add(
            "disabled_member", None, context.text("disability_subsidies.disabled_member.members_unknown"), citation
        )
        result.need("household.members")
        return result
    disabled = [i for i, m in enumerate(members) if m.disabled]
    unknown = [i for i, m in enumerate(members) if m.disabled is None]
    if not disabled:
        if unknown:
            result.add("disabled_member", None, context.text("disability_subsidies.disabled_member.unknown"), citation)
        else:
            result.add("disabled_member", False, context.text("disability_subsidies.disabled_member.none"), citation)
        result.need(*[f"members[{i}].disability_type" for i in unknown])
        return result
    care = context.parameter("disability_care_subsidy_monthly")
    living = context.parameter("disability_living_subsidy_monthly")
    severe = [i for i in disabled if members[i].disability_grade in (1, 2)]
    grade_unknown = [i for i in disabled if members[i].disability_grade is None]
    poor = best(*(context.status(p) for p in POOR_HOUSEHOLD))
    if any(p in (context.household.currently_receiving or []) for p in POOR_HOUSEHOLD):
        poor = LIKELY
    total = 0.0
    parts = []
    if severe:
        names = context.list_of(context.member_label(i) for i in severe)
        result.add("care_subsidy", True, context.text("disability_subsidies.care_subsidy", names=names), citation)
        if care.is_set:
            for i in severe:
                grade = members[i].disability_grade
                amount = care.value.get(grade) or care.value.get(str(grade))
                if amount:
                    total += amount
                    parts.append(
                        context.text(
                            "disability_subsidies.estimate.care_part",
                            amount=money(amount),
                            grade=context.term("grade", grade),
                        )
                    )
    if poor == LIKELY:
        result.add("living_subsidy", True, context.text("disability_subsidies.living_subsidy.likely"), citation)
        if living.is_set:
            total += living.value * len(disabled)
            parts.append(
                context.text(
                    "disability_subsidies.estimate.living_part", amount=money(living.value), persons=len(disabled)
                )
            )
    elif not severe:
        undecided = poor == NEED_INFO or grade_unknown
        if undecided:
            result.add("living_subsidy", None, context.text("disability_subsidies.living_subsidy.unknown"), citation)
            result.need(*[f"members[{i}].disability_grade" for i in grade_unknown])
            for fact, purpose in context.result("dibao").missing:
                if purpose == "status":
                    result.need(fact)
        else:
            result.add("living_subsidy", False, context.text("disability_subsidies.living_subsidy.none"), citation)
    if parts:
        result.estimate = {
            "amount": round(total, 2),
            "low": round(total, 2),
            "high": round(total, 2),
            "unit": context.term("estimate_unit", "yuan_per_month"),
            "formula": context.text(
                "disability_subsidies.estimate.formula", parts=context.term("separator", "clause").join(parts)
            ),
        }
        result.add(
            "amounts",
            True,
            context.text("disability_subsidies.estimate.amounts"),
            (care if severe else living).citation,
            parameters_used(care, living),
            kind="info",
        )
    return result
