"""Screen a household: run every program's rules and shape the answer.

``screen(request_dict)`` → ``{ruleset_version, as_of, jurisdiction, jurisdiction_path,
per_capita_income, per_capita_income_range, results, missing, next_steps, disclaimer}``;
each result is ``{program, name, status, status_text, summary, explanation, missing,
estimate, ruleset_version, disclaimer}``. See ``bot.eligibility`` for the formats.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from bot.eligibility.entities import Situation
from bot.eligibility.facts import question_for
from bot.eligibility.parameters import ParameterSet, get_parameters
from bot.eligibility.rules import LIKELY, NEED_INFO, PROGRAM_ORDER, UNLIKELY, Ctx, money
from bot.places import jurisdiction_path
from bot.programs import program_name

DISCLAIMER = "以上只是根据您说的情况做的初步判断，不是审批结论，最终以乡镇（街道）审核确认结果为准"
STATUS_ZH = {LIKELY: "可能符合", UNLIKELY: "可能不符合", NEED_INFO: "还需要了解"}
OUTPUT_ORDER = (
    "dibao", "dibao_single", "dibao_edge", "rigid_expense", "tekun", "temporary_assistance",
    "medical_assistance", "education_assistance", "housing_assistance", "employment_assistance",
    "disability_subsidies", "children",
)


def screen(request: dict | Situation, pset: ParameterSet | None = None, today: date | None = None) -> dict:
    """Screen one household. Raises ``InputError`` (a ValueError) on impossible input."""
    situation = request if isinstance(request, Situation) else Situation.from_dict(request, today=today)
    pset = pset or get_parameters()
    ctx = Ctx(situation, pset)
    for program, rule in PROGRAM_ORDER:
        res = rule(ctx)
        ctx.results[program] = {"status": res.status, "_missing": res.missing, "_result": res}
    results = []
    for program in OUTPUT_ORDER:
        res = ctx.results[program]["_result"]
        status = res.status
        missing = [
            {"fact": f, "question": question_for(f, ctx.relations), "for": purpose}
            for f, purpose in res.missing
            if status == NEED_INFO or purpose == "estimate"
        ]
        results.append({
            "program": program,
            "name": program_name(program),
            "status": status,
            "status_text": STATUS_ZH[status],
            "summary": _summary(program, status, res),
            "explanation": res.items,
            "missing": missing,
            "estimate": res.estimate,
            "ruleset_version": pset.version,
            "disclaimer": DISCLAIMER,
        })
    inc = ctx.income() if situation.household.members else None
    pc_lo = inc["pc_lo"] if inc else None
    pc_hi = inc["pc_hi"] if inc else None
    exact = pc_hi is not None and abs(pc_hi - pc_lo) < 0.005
    return {
        "ruleset_version": pset.version,
        "as_of": situation.as_of.isoformat(),
        "jurisdiction": situation.jurisdiction,
        "jurisdiction_path": jurisdiction_path(situation.jurisdiction),
        "per_capita_income": round(pc_hi, 2) if exact else None,
        "per_capita_income_range": [round(pc_lo, 2), round(pc_hi, 2) if pc_hi is not None else None] if inc else None,
        "results": results,
        "missing": _all_missing(results),
        "next_steps": _next_steps(ctx, results),
        "disclaimer": DISCLAIMER,
    }


def _summary(program: str, status: str, res: Any) -> str:
    name = program_name(program)
    first_fail = next((i["text"] for i in res.items if i["kind"] == "condition" and i["passed"] is False), None)
    if status == LIKELY:
        core = f"{name}：可能符合。"
        if res.estimate and res.estimate.get("formula"):
            core += f"估算：{res.estimate['formula']}。"
    elif status == UNLIKELY:
        core = f"{name}：可能不符合。{first_fail or ''}"
    else:
        core = f"{name}：还需要了解一些情况才能判断。"
    return f"{core}{DISCLAIMER}"


def _all_missing(results: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
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


def _next_steps(ctx: Ctx, results: list[dict]) -> list[str]:
    status = {r["program"]: r["status"] for r in results}
    steps: list[str] = []
    docs = ctx.cite("application.documents")
    if docs and "一证一书" in docs["text"]:
        doc_text = "带上“一证一书”（身份证、户口簿或居住证，加上社会救助申请及授权书）"
    else:
        doc_text = "带上身份证、户口簿等有效身份证件"
    base = [p for p in ("dibao", "dibao_single", "dibao_edge", "rigid_expense", "tekun") if status[p] == LIKELY]
    if base:
        names = "、".join(program_name(p) for p in base)
        steps.append(f"可以{doc_text}，到户籍所在地乡镇（街道）社会救助窗口申请{names}；申请有困难的，可以请村（社区）代为申请。")
    if status["temporary_assistance"] == LIKELY:
        steps.append("临时救助请向急难发生地的乡镇（街道）申请；情况紧急的，可以请求先行救助。")
    ask = [r for r in results if r["status"] == NEED_INFO]
    if ask:
        steps.append("补充上面“还需要了解”的情况后，可以再帮您看一次。")
    if any(r["missing"] and any(m["fact"].startswith("standards.") for m in r["missing"]) for r in results):
        steps.append("当地的低保标准等数额，以当地民政部门公布的为准，可以问村（社区）或乡镇（街道）民政办。")
    hotline = ctx.cite("application.hotline")
    if hotline:
        steps.append("也可以拨打 12345 政务服务便民热线咨询。")
    else:
        steps.append("有疑问可以拨打当地 12345 政务服务便民热线，或向村（社区）、乡镇（街道）咨询。")
    return steps


__all__ = ["screen", "DISCLAIMER", "STATUS_ZH", "money"]
