"""单人户 (单独施保): a severely disabled or seriously ill member taken into 低保 alone, by
either of two routes, whichever looks better for the resident:

* A — a member of a 低保边缘 family (the household is not on 低保 but below the edge line);
* B — an adult, unemployed, severely disabled member whose own income is below the standard.
"""

from __future__ import annotations

from bot.eligibility.amounts import below, money
from bot.eligibility.conditions import income_below_line, members_known, not_on_dibao, property_within_rules
from bot.eligibility.context import ScreeningContext
from bot.eligibility.results import LIKELY, STATUS_RANK, UNLIKELY, Result, parameters_used


def dibao_single(context: ScreeningContext) -> Result:
    result = Result("dibao_single")
    if not members_known(context, result):
        return result
    if context.status("dibao") == LIKELY:
        result.add(
            "household_not_dibao",
            False,
            context.text("dibao_single.household_is_dibao"),
            context.rule_citation("dibao.household"),
        )
        return result
    candidates, unclear = _severe_or_ill_members(context)
    severity = context.parameter("severe_disability_max_grade")
    citation = context.rule_citation("dibao_single.edge_member")
    if not candidates:
        if unclear:
            _unclear_members(context, result, unclear)
        else:
            result.add(
                "member_severe_or_ill",
                False,
                context.text("dibao_single.member.none"),
                citation,
                parameters_used(severity),
            )
        return result
    names = context.list_of(context.member_label(i) for i in candidates)
    result.add(
        "member_severe_or_ill",
        True,
        context.text("dibao_single.member.found", names=names),
        citation,
        parameters_used(severity),
    )
    route_a = _edge_family_member(context)
    route_b = _best_adult_disabled(context, candidates)
    chosen = route_a if route_b is None or STATUS_RANK[route_a.status] > STATUS_RANK[route_b.status] else route_b
    if chosen is route_a:
        route = context.text("dibao_single.route.edge_family_member")
    else:
        route = context.text("dibao_single.route.adult_disabled")
    for item in chosen.explanation:
        item["text"] = context.text("dibao_single.route.labelled", route=route, text=item["text"])
    result.explanation.extend(chosen.explanation)
    result.missing.extend(chosen.missing)
    if chosen.status != UNLIKELY:
        standard = context.dibao_standard()
        if standard.low is not None and standard.low == standard.high:
            result.estimate = {
                "amount": None,
                "low": None,
                "high": round(standard.low * len(candidates), 2),
                "unit": context.term("estimate_unit", "yuan_per_month"),
                "formula": context.text("dibao_single.estimate", standard=money(standard.low)),
            }
    return result


def _severe_or_ill_members(context: ScreeningContext) -> tuple[list[int], list[int]]:
    """Members who are 重度残疾 or 重病, and members of whom that is not yet known."""
    candidates, unclear = [], []
    for i, member in enumerate(context.members):
        severe = context.is_severely_disabled(member)
        ill = member.serious_illness
        if severe or ill:
            candidates.append(i)
        elif severe is None or ill is None:
            unclear.append(i)
    return candidates, unclear


def _unclear_members(context: ScreeningContext, result: Result, unclear: list[int]) -> None:
    """No candidate yet: ask about the unclear members, unless no route could pass anyway."""
    severity = context.parameter("severe_disability_max_grade")
    citation = context.rule_citation("dibao_single.edge_member")
    members = context.members
    probe = Result("dibao_single")
    income_below_line(
        context, probe, "household_below_edge_line", multiplier=context.parameter("dibao_edge_multiplier")
    )
    adult_age = context.parameter("adult_age").value
    standard = context.dibao_standard()
    route_b_open = any(
        not (
            members[i].monthly_income is not None
            and below(members[i].monthly_income, members[i].monthly_income, standard.low, standard.high) is False
        )
        and not (members[i].age is not None and members[i].age < adult_age)
        and members[i].employed is not True
        and context.is_severely_disabled(members[i]) is not False
        for i in unclear
    )
    if probe.status == UNLIKELY and not route_b_open:
        result.add(
            "member_severe_or_ill",
            None,
            context.text("dibao_single.member.unclear"),
            citation,
            parameters_used(severity),
            kind="info",
        )
        probe.explanation[-1]["text"] += context.text("dibao_single.member.no_route_left")
        result.explanation.extend(probe.explanation)
        return
    result.add(
        "member_severe_or_ill", None, context.text("dibao_single.member.ask"), citation, parameters_used(severity)
    )
    for i in unclear:
        member = members[i]
        if member.disability_type is None:
            result.need(f"members[{i}].disability_type")
        elif member.disability_grade is None and member.disability_type != "none":
            result.need(f"members[{i}].disability_grade")
        if member.serious_illness is None:
            result.need(f"members[{i}].serious_illness")


def _edge_family_member(context: ScreeningContext) -> Result:
    """Route A: the household is not on 低保, is below the 低保边缘 line, property within the rules."""
    route = Result("dibao_single")
    item, below_standard = not_on_dibao(context, route, "household_not_dibao")
    if below_standard is True:
        item["text"] += context.text("dibao_single.edge_family_member.household_can_apply")
    elif below_standard is False:
        item["text"] += context.text("dibao_single.edge_family_member.household_not_dibao")
    income_below_line(
        context, route, "household_below_edge_line", multiplier=context.parameter("dibao_edge_multiplier")
    )
    property_within_rules(context, route)
    return route


def _best_adult_disabled(context: ScreeningContext, candidates: list[int]) -> Result | None:
    """Route B, for each severely disabled candidate; the best for the resident (first if tied)."""
    best_route = None
    for i in candidates:
        if not context.is_severely_disabled(context.members[i]):
            continue
        route = _adult_disabled(context, i)
        if best_route is None or STATUS_RANK[route.status] > STATUS_RANK[best_route.status]:
            best_route = route
    return best_route


def _adult_disabled(context: ScreeningContext, i: int) -> Result:
    member = context.members[i]
    who = context.member_label(i)
    adult = context.parameter("adult_age")
    exemption = context.parameter("disabled_support_exemption")
    route = Result("dibao_single")
    is_adult = None if member.age is None else member.age >= adult.value
    route.add(
        "adult",
        is_adult,
        context.text_by_answer(is_adult, "dibao_single.adult_disabled.adult", who=who),
        adult.citation,
        parameters_used(adult),
    )
    if is_adult is None:
        route.need(f"members[{i}].age")
    jobless = None if member.employed is None else not member.employed
    route.add(
        "unemployed",
        jobless,
        context.text_by_answer(jobless, "dibao_single.adult_disabled.unemployed", who=who),
        context.rule_citation("dibao_single.adult_disabled"),
    )
    if jobless is None:
        route.need(f"members[{i}].employed")
    own = member.monthly_income
    support = context.household.support_from_siblings_or_elderly or 0.0
    exempted = ""
    if support and exemption.value:
        exempted = context.text("dibao_single.adult_disabled.own_income.support_exempted", support=money(support))
        support = 0.0
    standard = context.dibao_standard()
    if own is None:
        ok = None
        route.need(f"members[{i}].monthly_income")
    else:
        ok = below(own + support, own + support, standard.low, standard.high)
    if ok is None and standard.low is None:
        route.need(*context.dibao_standard_missing(standard.parameters))
    route.add(
        "own_income_below_standard",
        ok,
        _own_income_text(context, i, own, support, ok, exempted),
        exemption.citation if exempted else context.rule_citation("dibao_single.adult_disabled"),
        parameters_used(exemption, *standard.parameters),
    )
    return route


def _own_income_text(
    context: ScreeningContext, i: int, own: float | None, support: float, ok: bool | None, exempted: str
) -> str:
    who = context.member_label(i)
    if context.relations[i] == "self":
        subject = context.text("dibao_single.adult_disabled.own_income.subject.self", who=who)
    else:
        subject = context.text("dibao_single.adult_disabled.own_income.subject.other", who=who)
    counted = (
        context.text("dibao_single.adult_disabled.own_income.support_counted", support=money(support))
        if support
        else ""
    )
    if ok:
        verdict = context.text("dibao_single.adult_disabled.own_income.verdict.below")
    elif ok is False:
        verdict = context.text("dibao_single.adult_disabled.own_income.verdict.not_below")
    elif own is not None:  # the standard is what is missing (or the line is a range)
        verdict = context.text("dibao_single.adult_disabled.own_income.verdict.standard_unset")
    else:
        verdict = context.text("dibao_single.adult_disabled.own_income.verdict.unknown")
    return context.text(
        "dibao_single.adult_disabled.own_income.sentence",
        subject=subject,
        income=money(own),
        support=counted,
        verdict=verdict,
        exempted=exempted,
    )
