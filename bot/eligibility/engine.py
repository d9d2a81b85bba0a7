"""Screen a household: decide every program and shape the answer.

``screen(request_dict)`` → ``{ruleset_version, as_of, jurisdiction, jurisdiction_path,
per_capita_income, per_capita_income_range, results, missing, next_steps, disclaimer}``;
each result is ``{program, name, status, status_text, summary, explanation, missing,
estimate, ruleset_version, disclaimer}``. See ``bot.eligibility`` for the formats.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.eligibility.amounts import money
from bot.eligibility.context import ScreeningContext
from bot.eligibility.entities import Situation
from bot.eligibility.explanations import get_explanations
from bot.eligibility.facts import question_for
from bot.eligibility.parameters import ParameterSet, get_parameters
from bot.eligibility.programs import PROGRAMS
from bot.eligibility.results import LIKELY, NEED_INFO, UNLIKELY, Result
from bot.places import jurisdiction_path
from bot.programs import program_name

DISCLAIMER = "以上只是根据您说的情况做的初步判断，不是审批结论，最终以乡镇（街道）审核确认结果为准"
STATUS_ZH = {LIKELY: "可能符合", UNLIKELY: "可能不符合", NEED_INFO: "还需要了解"}
# Programs one applies for at the 乡镇（街道） social-assistance window of the hukou place.
APPLIED_FOR_AT_HOME = ("dibao", "dibao_single", "dibao_edge", "rigid_expense", "tekun")


def screen(
    request: dict[str, Any] | Situation, pset: ParameterSet | None = None, today: date | None = None
) -> dict[str, Any]:
    """Screen one household. Raises ``InputError`` (a ValueError) on impossible input."""
    situation = request if isinstance(request, Situation) else Situation.from_dict(request, today=today)
    pset = pset or get_parameters()
    context = ScreeningContext(situation, pset, get_explanations(pset.explanations_dir), PROGRAMS)
    results = [_present(context, program, context.result(program), pset.version) for program in PROGRAMS]
    income = context.income if situation.household.members else None
    return {
        "ruleset_version": pset.version,
        "as_of": situation.as_of.isoformat(),
        "jurisdiction": situation.jurisdiction,
        "jurisdiction_path": jurisdiction_path(situation.jurisdiction),
        "per_capita_income": round(income.per_capita_high, 2)
        if income and income.per_capita_exact and income.per_capita_high is not None
        else None,
        "per_capita_income_range": [
            round(income.per_capita_low, 2) if income.per_capita_low is not None else None,
            round(income.per_capita_high, 2) if income.per_capita_high is not None else None,
        ]
        if income
        else None,
        "results": results,
        "missing": _all_missing(results),
        "next_steps": _next_steps(context, results),
        "disclaimer": DISCLAIMER,
    }


def _present(context: ScreeningContext, program: str, result: Result, version: str) -> dict[str, Any]:
    status = result.status
    missing = [
        {"fact": fact, "question": question_for(fact, context.relations), "for": purpose}
        for fact, purpose in result.missing
        if status == NEED_INFO or purpose == "estimate"  # a decided status needs no more status facts
    ]
    return {
        "program": program,
        "name": program_name(program),
        "status": status,
        "status_text": STATUS_ZH[status],
        "summary": _summary(context, program, status, result),
        "explanation": result.explanation,
        "missing": missing,
        "estimate": result.estimate,
        "ruleset_version": version,
        "disclaimer": DISCLAIMER,
    }


def _summary(context: ScreeningContext, program: str, status: str, result: Result) -> str:
    name = program_name(program)
    if status == LIKELY:
        core = context.text("answer.summary.likely", name=name)
        if result.estimate and result.estimate.get("formula"):
            core += context.text("answer.summary.estimate", formula=result.estimate["formula"])
    elif status == UNLIKELY:
        first_failed = next(
            (i["text"] for i in result.explanation if i["kind"] == "condition" and i["passed"] is False), None
        )
        core = context.text("answer.summary.unlikely", name=name, reason=first_failed or "")
    else:
        core = context.text("answer.summary.need_info", name=name)
    return f"{core}{DISCLAIMER}"


def _all_missing(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status facts of all results, most-needed first, each with the programs needing it."""
    seen: dict[str, dict[str, Any]] = {}
    count: dict[str, int] = {}
    for r in results:
        for m in r["missing"]:
            if m["for"] != "status":
                continue
            seen.setdefault(m["fact"], {"fact": m["fact"], "question": m["question"], "for": "status", "programs": []})
            seen[m["fact"]]["programs"].append(r["program"])
            count[m["fact"]] = count.get(m["fact"], 0) + 1
    order = sorted(seen, key=lambda f: (-count[f], list(seen).index(f)))
    return [seen[f] for f in order]


def _next_steps(context: ScreeningContext, results: list[dict[str, Any]]) -> list[str]:
    status = {r["program"]: r["status"] for r in results}
    steps: list[str] = []
    documents = context.rule_citation("application.documents")
    # Where the place has adopted 一证一书, say exactly what it means.
    if documents and "一证一书" in documents["text"]:
        documents_text = context.text("answer.next_steps.documents.one_certificate")
    else:
        documents_text = context.text("answer.next_steps.documents.identity")
    at_home = [p for p in APPLIED_FOR_AT_HOME if status[p] == LIKELY]
    if at_home:
        names = context.list_of(program_name(p) for p in at_home)
        steps.append(context.text("answer.next_steps.apply", documents=documents_text, programs=names))
    if status["temporary_assistance"] == LIKELY:
        steps.append(context.text("answer.next_steps.temporary_assistance"))
    if any(r["status"] == NEED_INFO for r in results):
        steps.append(context.text("answer.next_steps.tell_more"))
    if any(r["missing"] and any(m["fact"].startswith("standards.") for m in r["missing"]) for r in results):
        steps.append(context.text("answer.next_steps.local_standards"))
    if context.rule_citation("application.hotline"):
        steps.append(context.text("answer.next_steps.hotline.local"))
    else:
        steps.append(context.text("answer.next_steps.hotline.general"))
    return steps


__all__ = ["screen", "DISCLAIMER", "STATUS_ZH", "money"]
