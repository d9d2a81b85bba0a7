"""孤儿 and 事实无人抚养儿童 保障: a minor whose parents died or cannot be found, cannot
support them (重残、重病、服刑…), or have lost contact long enough. Any such minor makes it
likely; a minor whose parents' situation is not told keeps it open."""

from __future__ import annotations

from bot.eligibility.context import ScreeningContext
from bot.eligibility.results import LIKELY, NEED_INFO, UNLIKELY, Result, parameters_used


def children(context: ScreeningContext) -> Result:
    result = Result("children")
    members = context.household.members or []
    adult = context.parameter("adult_age")
    if not members:
        result.add(
            "minor", None, context.text("children.minor.members_unknown"), context.rule_citation("children.orphan")
        )
        result.need("household.members")
        return result
    verdicts: list[bool | None] = []
    for i, member in enumerate(members):
        if member.age is None:
            verdicts.append(None)
            result.need(f"members[{i}].age")
            continue
        if member.age >= adult.value:
            continue
        verdicts.append(_minor(context, result, i))
    if any(v is True for v in verdicts):
        result.status_override = LIKELY
    elif any(v is None for v in verdicts):
        result.status_override = NEED_INFO
        if not result.explanation:
            result.add(
                "minor",
                None,
                context.text("children.minor.parents_unknown"),
                context.rule_citation("children.de_facto"),
            )
    else:
        result.status_override = UNLIKELY
        if not any(i["kind"] == "condition" for i in result.explanation):
            result.add("minor", False, context.text("children.minor.none"), context.rule_citation("children.orphan"))
    if result.status_override != NEED_INFO:
        result.missing = []
    return result


def _minor(context: ScreeningContext, result: Result, i: int) -> bool | None:
    """Whether this minor is covered (None: the parents' situation is not yet known)."""
    member = context.members[i]
    who = context.member_label(i)
    adult = context.parameter("adult_age")
    situation = member.parents_situation
    if situation == "orphan":
        result.add(
            "orphan",
            True,
            context.text("children.orphan", who=who, adult_age=adult.value),
            context.rule_citation("children.orphan"),
            parameters_used(adult),
        )
        return True
    if situation == "de_facto_unsupported":
        result.add(
            "de_facto", True, context.text("children.de_facto", who=who), context.rule_citation("children.de_facto")
        )
        return True
    if situation == "lost_contact":
        return _lost_contact(context, result, i)
    if situation == "normal":
        return False
    result.need(f"members[{i}].parents_situation")
    return None


def _lost_contact(context: ScreeningContext, result: Result, i: int) -> bool | None:
    months = context.members[i].parent_lost_contact_months
    who = context.member_label(i)
    required = context.parameter("de_facto_lost_contact_months")
    other_parent = context.text("children.lost_contact.other_parent")
    ok = None if months is None else months >= required.value
    if months is None:
        text = context.text(
            "children.lost_contact.duration_unknown", who=who, required=required.value, other_parent=other_parent
        )
    elif ok:
        text = context.text(
            "children.lost_contact.long_enough",
            who=who,
            months=months,
            required=required.value,
            other_parent=other_parent,
        )
    else:
        text = context.text(
            "children.lost_contact.not_long_enough",
            who=who,
            months=months,
            required=required.value,
            other_parent=other_parent,
        )
    result.add("lost_contact", ok, text, required.citation, parameters_used(required))
    if ok is None:
        result.need(f"members[{i}].parent_lost_contact_months")
    return ok
