"""The rules: one function per program, each returning a result with its trace.

Every number comes from a parameter (``ctx.p(name)``); every test cites the clause it
rests on (``ctx.cite(concept)`` or the parameter's own reference). A test is
``passed`` True / False / None (unknown); a result is ``unlikely`` if any condition
failed, else ``need_info`` if any is unknown, else ``likely``. Unknown incomes and
unset standards are handled as intervals, so "not told" never becomes "no".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.eligibility.entities import MAJOR_EMERGENCIES, URGENT_EMERGENCIES, Person, Situation, Supporter
from bot.eligibility.facts import member_label
from bot.eligibility.parameters import ParameterSet, Resolved, format_value

LIKELY, UNLIKELY, NEED_INFO = "likely", "unlikely", "need_info"
_RANK = {LIKELY: 2, NEED_INFO: 1, UNLIKELY: 0}
EMERGENCY_ZH = {
    "fire": "火灾", "traffic_accident": "交通事故", "accident": "意外事故", "sudden_illness": "突发重病",
    "disaster": "自然灾害", "unemployment": "失业没有收入", "expense_surge": "必需支出突然增加", "other": "其他突发困难",
}
DISABILITY_ZH = {
    "limb": "肢体", "visual": "视力", "hearing": "听力", "speech": "言语", "intellectual": "智力",
    "mental": "精神", "multiple": "多重",
}
GRADE_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}


def money(x: float | None) -> str:
    if x is None:
        return "未知"
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s or "0"


def below(lo: float, hi: float | None, t_lo: float | None, t_hi: float | None) -> bool | None:
    """Is a value in [lo, hi] strictly below a threshold in [t_lo, t_hi]? None = can't tell."""
    if hi is not None and t_lo is not None and hi < t_lo:
        return True
    if t_hi is not None and lo >= t_hi:
        return False
    return None


class Ctx:
    """One screen: the situation, the parameters as of its date and place, shared figures."""

    def __init__(self, situation: Situation, pset: ParameterSet):
        self.s = situation
        self.h = situation.household
        self.place = situation.jurisdiction
        self.as_of: date = situation.as_of
        self.pset = pset
        self._p: dict[str, Resolved] = {}
        self.relations = [m.relation for m in self.h.members] if self.h.members else []
        self.results: dict[str, dict] = {}
        self._income: dict | None = None

    # -- parameters and citations
    def p(self, name: str) -> Resolved:
        hit = self._p.get(name)
        if hit is not None:
            return hit
        r = self.pset.get(name, self.place, self.as_of)
        if r.value is None:
            param = self.pset.parameters[name]
            for key in param.user_override:
                if key in self.s.standards:
                    r = Resolved(
                        name, self.s.standards[key], r.unit, r.label, self.place, self.as_of, "user",
                        {
                            "title": "用户提供的数额（未核实）",
                            "clause": "",
                            "issuer": "用户自述",
                            "date": self.as_of.isoformat(),
                            "jurisdiction": self.place,
                            "status": "未经核实，仅用于这次估算；当地尚未录入官方数额",
                            "source": f"请求 standards.{key}",
                            "text": f"{r.label}：{format_value(self.s.standards[key], r.unit)}（您提供）",
                        },
                    )
                    break
        self._p[name] = r
        return r

    def cite(self, concept: str) -> dict | None:
        return self.pset.rule_citation(concept, self.place, self.as_of)

    def who(self, i: int) -> str:
        return member_label(i, self.relations[i] if i < len(self.relations) else None)

    # -- disability helpers
    def severe(self, m: Person | Supporter) -> bool | None:
        """重度残疾 per severe_disability_max_grade (None = not told)."""
        if m.disability_type is None:
            return None
        if m.disability_type == "none":
            return False
        if m.disability_grade is None:
            return None
        table = self.p("severe_disability_max_grade").value or {}
        limit = table.get(m.disability_type, table.get("default"))
        return None if limit is None else m.disability_grade <= limit

    # -- dibao standard and category
    def categories(self) -> list[str]:
        if self.s.hukou == "urban":
            return ["urban"]
        if self.s.hukou == "rural":
            years = self.p("urban_dibao_residence_years")
            h = self.h
            if (years.is_set and h.urban_residence_years is not None and h.urban_residence_years >= years.value
                    and h.has_contracted_land is False and h.collective_income_share is False):
                return ["urban"]
            return ["rural"]
        return ["urban", "rural"]

    def standard_range(self) -> tuple[float | None, float | None, list[Resolved]]:
        """The applicable dibao standard as [lo, hi] across possible categories (None = unknown)."""
        res = [self.p(f"dibao_monthly_{c}") for c in self.categories()]
        vals = [r.value for r in res]
        if any(v is None for v in vals):
            return None, None, res
        return min(vals), max(vals), res

    def standard_facts(self, res: list[Resolved]) -> list[str]:
        facts = []
        unknown = [r for r in res if r.value is None]
        if unknown:
            facts.append("standards.dibao_monthly")
        if self.s.hukou is None and len(res) > 1 and (unknown or len({r.value for r in res}) > 1):
            facts.append("hukou")
        return facts

    # -- household income (computed once)
    def income(self) -> dict:
        if self._income is not None:
            return self._income
        h = self.h
        lo = hi = 0.0
        unknown_hi = False
        missing: list[str] = []
        items: list[dict] = []
        rate = self.p("employment_cost_deduction_rate")
        wage = self.p("minimum_wage_monthly")
        deducted = 0.0
        for i, m in enumerate(h.members or []):
            if m.monthly_income is None:
                unknown_hi = True
                missing.append(f"members[{i}].monthly_income")
                continue
            inc = m.monthly_income
            ded_lo = ded_hi = 0.0
            if rate.is_set and inc > 0 and m.employed is not False:
                if wage.is_set:
                    d = min(inc, rate.value * wage.value)
                    ded_lo, ded_hi = (d, d) if m.employed else (0.0, d)
                else:
                    wage_max = self.pset.parameters["minimum_wage_monthly"].range[1]
                    ded_hi = min(inc, rate.value * wage_max)
                    ded_lo = 0.0
                    missing.append("standards.minimum_wage_monthly")
                if m.employed is None:
                    missing.append(f"members[{i}].employed")
                deducted += ded_lo
            lo += inc - ded_hi
            hi += inc - ded_lo
        if h.other_monthly_income is None:
            unknown_hi = True
            missing.append("household.other_monthly_income")
        else:
            lo += h.other_monthly_income
            hi += h.other_monthly_income
        if h.support_from_siblings_or_elderly:
            lo += h.support_from_siblings_or_elderly
            hi += h.support_from_siblings_or_elderly
        n = len(h.members) if h.members else 0
        out = {
            "n": n,
            "total_lo": lo,
            "total_hi": None if unknown_hi else hi,
            "pc_lo": lo / n if n else None,
            "pc_hi": (None if unknown_hi else hi / n) if n else None,
            "missing": list(dict.fromkeys(missing)),
            "deducted": deducted,
            "items": items,
        }
        # Trace of how the income was counted (shared by the income-based programs).
        if rate.is_set and any(m.employed for m in h.members or []):
            if wage.is_set:
                text = (f"已就业成员的收入按当地最低工资标准 {money(wage.value)} 元的 {format_value(rate.value, 'rate')} "
                        f"扣减必要就业成本，共扣减 {money(deducted)} 元/月。")
                passed = True
            else:
                text = (f"已就业成员的收入可按当地最低工资标准的 {format_value(rate.value, 'rate')} 扣减必要就业成本，"
                        "但当地最低工资标准还没有录入，扣减额暂按可能的范围计算。")
                passed = None
            items.append(item("income.employment_cost_deduction", passed, text, rate.citation,
                              params(rate, wage), kind="info"))
        elif not rate.is_set and any(m.employed for m in h.members or []):
            items.append(item("income.employment_cost_deduction", None,
                              "已就业成员的必要就业成本可以按规定适当扣减，当地扣减办法以乡镇（街道）核算为准，这里暂未扣减。",
                              rate.citation, params(rate), kind="info"))
        if h.excluded_income:
            excl = self.p("income_exclusions")
            allowed = set(excl.value or [])
            names = {"basic_pension": "城乡居民基础养老金", "special_care": "优待抚恤金", "family_planning": "计划生育奖励与扶助金",
                     "awards": "奖学金、见义勇为等奖励性补助", "assistance_payments": "政府发放的社会救助款物"}
            listed = "、".join(f"{names[k]} {money(v)} 元" for k, v in h.excluded_income.items() if k in allowed)
            if listed:
                items.append(item("income.exclusions", True, f"{listed}不计入家庭收入。", excl.citation,
                                  params(excl), kind="info"))
        self._income = out
        return out


def item(test: str, passed: bool | None, text: str, citation: dict | None, parameters: dict | None = None,
         kind: str = "condition") -> dict:
    return {"test": test, "passed": passed, "kind": kind, "text": text, "citation": citation,
            "parameters": parameters or {}}


def params(*resolved: Resolved) -> dict:
    return {
        r.name: {"value": r.value, "unit": r.unit, "origin": r.origin, "set_in": r.place,
                 "effective": r.effective.isoformat() if r.effective else None}
        for r in resolved
    }


@dataclass
class Result:
    program: str
    items: list
    missing: list
    estimate: dict | None = None
    forced: str | None = None

    def __init__(self, program: str):
        self.program = program
        self.items = []
        self.missing = []
        self.estimate = None
        self.forced = None

    def add(self, *args, **kwargs) -> bool | None:
        it = item(*args, **kwargs)
        self.items.append(it)
        return it["passed"]

    def need(self, *facts: str, purpose: str = "status") -> None:
        for f in facts:
            if not any(m[0] == f for m in self.missing):
                self.missing.append((f, purpose))

    @property
    def status(self) -> str:
        if self.forced:
            return self.forced
        conds = [i["passed"] for i in self.items if i["kind"] == "condition"]
        if any(p is False for p in conds):
            return UNLIKELY
        if any(p is None for p in conds):
            return NEED_INFO
        return LIKELY


def best(*statuses: str) -> str:
    return max(statuses, key=lambda s: _RANK[s]) if statuses else UNLIKELY


# ---------------------------------------------------------------------------- helpers
def _members_test(ctx: Ctx, r: Result) -> bool:
    if not ctx.h.members:
        r.add("household.members", None, "还不知道家里有几口人一起生活、各自情况怎样。", ctx.cite("application.documents"))
        r.need("household.members")
        return False
    return True


def _income_test(ctx: Ctx, r: Result, test: str, factor: Resolved | None = None,
                 t_range: tuple | None = None) -> bool | None:
    """Per-capita income below (factor ×) the dibao standard; adds the trace item."""
    inc = ctx.income()
    t_lo, t_hi, res = t_range or ctx.standard_range()
    mult = factor.value if factor is not None else 1
    if factor is not None and factor.value is None:
        t_lo = t_hi = None
    line_lo = t_lo * mult if t_lo is not None else None
    line_hi = t_hi * mult if t_hi is not None else None
    passed = below(inc["pc_lo"], inc["pc_hi"], line_lo, line_hi)
    pc_text = (f"约 {money(inc['pc_lo'])} 元" if inc["pc_hi"] is not None and abs(inc["pc_hi"] - inc["pc_lo"]) < 0.005
               else (f"在 {money(inc['pc_lo'])}–{money(inc['pc_hi'])} 元之间" if inc["pc_hi"] is not None
                     else f"至少 {money(inc['pc_lo'])} 元（还有收入没说）"))
    cat = "、".join("城市" if x.name.endswith("urban") else "农村" for x in res)
    line_name = "低保标准" if factor is None else f"低保标准的 {format_value(mult, 'ratio')}"
    if line_lo is not None and line_lo == line_hi:
        line_text = f"当地{cat}{line_name}（{money(line_lo)} 元/人·月）"
    elif line_lo is not None:
        line_text = f"当地{line_name}（{money(line_lo)}–{money(line_hi)} 元/人·月，要看户口类别）"
    else:
        line_text = None
    if passed is True:
        text = f"家庭人均月收入{pc_text}，低于{line_text}。"
    elif passed is False:
        text = f"家庭人均月收入{pc_text}，不低于{line_text}。"
    elif line_text is None:
        known = inc["pc_hi"] if inc["pc_hi"] is not None else None
        if known is not None:
            bound = known if factor is None else known / mult
            text = (f"当地{cat}低保标准还没有录入。您家人均月收入{pc_text}：如果当地低保标准高于 {money(bound)} 元，"
                    "就可能符合；请告诉我们当地标准，或向乡镇（街道）询问。")
        else:
            text = f"当地{cat}低保标准还没有录入，家里的收入也还没说全，暂时判断不了。"
    else:
        text = f"家庭人均月收入{pc_text}，和{line_text}比，还需要补充情况才能判断。"
    used = list(res) + ([factor] if factor is not None else [])
    cit = (factor.citation if factor is not None else None) or ctx.cite("dibao.income")
    r.add(test, passed, text, cit, params(*used))
    if passed is None:
        r.need(*[f for f in inc["missing"]])
        r.need(*ctx.standard_facts(res))
        if ctx.h.members is None:
            r.need("household.members")
    return passed


def _property_test(ctx: Ctx, r: Result, concept: str = "dibao.property") -> bool | None:
    ok = ctx.h.property_ok
    text = {True: "家庭财产符合当地规定（按您说的情况）。", False: "家庭财产超出当地规定（按您说的情况）。",
            None: "还不知道家庭财产（存款、房产、车辆等）是否符合当地规定。"}[ok]
    r.add("property", ok, text, ctx.cite(concept))
    if ok is None:
        r.need("household.property_ok")
    return ok


def _dibao_amount(ctx: Ctx, cats: list[str]) -> dict | None:
    inc = ctx.income()
    t_lo, t_hi, res = ctx.standard_range()
    if t_lo is None or t_lo != t_hi or inc["pc_hi"] is None or inc["n"] == 0:
        return None
    n = inc["n"]
    gap_lo = max(0.0, (t_lo - inc["pc_hi"]) * n)
    gap_hi = max(0.0, (t_lo - inc["pc_lo"]) * n)
    if abs(gap_hi - gap_lo) < 0.005:
        formula = f"（{money(t_lo)} − {money(inc['pc_hi'])}）× {n} 人 = {money(gap_lo)} 元/月"
    else:
        formula = (f"（{money(t_lo)} − 人均 {money(inc['pc_lo'])}～{money(inc['pc_hi'])}）× {n} 人 = "
                   f"{money(gap_lo)}～{money(gap_hi)} 元/月（就业成本扣减额待定）")
    extra = 0.0
    uplift = ctx.p("disabled_dibao_uplift_rate")
    if uplift.is_set and cats == ["urban"]:
        disabled = sum(1 for m in ctx.h.members if m.disabled)
        if disabled:
            extra = uplift.value * t_lo * disabled
            formula += (f"；残疾人本人低保金按标准上浮 {format_value(uplift.value, 'rate')}："
                        f"{money(t_lo)} × {format_value(uplift.value, 'rate')} × {disabled} 人 = {money(extra)} 元/月")
    low, high = round(gap_lo + extra, 2), round(gap_hi + extra, 2)
    return {"amount": low if low == high else None, "low": low, "high": high, "unit": "元/月",
            "formula": formula + "（按差额估算；当地也可能分档发放，以核定为准）"}


# ---------------------------------------------------------------------------- programs
def dibao(ctx: Ctx) -> Result:
    r = Result("dibao")
    if not _members_test(ctx, r):
        return r
    h = ctx.h
    cats = ctx.categories()
    r.items.extend(ctx.income()["items"])
    if h.hukou_local is False:
        permit = ctx.p("residence_permit_application")
        if h.residence_permit and permit.value is True:
            r.add("apply_where", True, "您持有居住证，当地已推动持居住证人员在居住地申办社会救助，可以在居住地申请。",
                  permit.citation, params(permit), kind="info")
        else:
            r.add("apply_where", None, "低保一般向户籍所在地乡镇（街道）申请；持居住证在居住地申请，要看当地是否已开展。",
                  ctx.cite("dibao.apply_where"), params(permit), kind="info")
    if ctx.s.hukou == "rural" and ctx.p("urban_dibao_residence_years").is_set and cats == ["rural"]:
        years = ctx.p("urban_dibao_residence_years")
        r.add("urban_access", None,
              f"当地已取消城乡户籍限制：户籍在城镇、实际居住满 {money(years.value)} 年、无承包土地、不参加农村集体收益分配的家庭，可以申请城市低保。",
              years.citation, params(years), kind="info")
    elif cats == ["urban"] and ctx.s.hukou == "rural":
        years = ctx.p("urban_dibao_residence_years")
        r.add("urban_access", True, "您家符合当地申请城市低保的条件（在城镇实际居住满年限、无承包土地、不参加农村集体收益分配），按城市低保标准计算。",
              years.citation, params(years))
    receiving = "dibao" in (h.currently_receiving or [])
    passed = _income_test(ctx, r, "income_below_standard")
    if receiving and passed is False:
        # Already on 低保 and income now above the line: gradual exit?
        r.items[-1]["kind"] = "info"
        _gradual_exit(ctx, r)
    else:
        _property_test(ctx, r)
        r.add("whole_household", True, "低保按户施保：符合条件的，全家共同生活的成员一起纳入。", ctx.cite("dibao.household"),
              kind="info")
        if r.status != UNLIKELY:
            r.estimate = _dibao_amount(ctx, cats)
            if r.estimate is None:
                t_lo, t_hi, res = ctx.standard_range()
                r.need(*ctx.standard_facts(res), purpose="estimate")
                r.need(*ctx.income()["missing"], purpose="estimate")
            elif r.estimate["amount"] is None:
                r.need(*[f for f in ctx.income()["missing"] if f.startswith("standards.")], purpose="estimate")
            else:
                r.add("amount", True, "低保金一般按家庭人均收入低于当地低保标准的差额按月发放。", ctx.cite("dibao.amount"),
                      params(*ctx.standard_range()[2]), kind="info")
    return r


def _gradual_exit(ctx: Ctx, r: Result) -> None:
    h = ctx.h
    base = ctx.p("gradual_exit_months")
    special = ctx.p("gradual_exit_months_special")
    employed = [m.employed for m in h.members]
    if not any(employed):
        if any(e is None for e in employed):
            r.add("gradual_exit.employment", None, "家里收入超过了低保标准。如果是因为有人就业，可以有一段渐退期；请说明是否有成员找到了工作。",
                  base.citation, params(base))
            r.need(*[f"members[{i}].employed" for i, e in enumerate(employed) if e is None])
        else:
            r.add("gradual_exit.employment", False, "家里人均收入已不低于低保标准，且不是因为就业增收，一般会按规定调整或停发低保金。",
                  ctx.cite("dibao.exit_other"), params(base))
        return
    months = h.months_above_standard
    if months is None:
        r.add("gradual_exit", None, f"就业后家庭人均收入超过低保标准的，可以给予原则上不超过 {base.value} 个月的渐退期。还需要知道收入超过标准有几个月了。",
              base.citation, params(base, special))
        r.need("household.months_above_standard")
        return
    if base.value is not None and months <= base.value:
        r.add("gradual_exit", True, f"就业后收入超过标准 {months} 个月，在 {base.value} 个月渐退期以内，低保可以暂时继续。",
              base.citation, params(base))
        r.estimate = {"amount": None, "low": 0, "high": base.value - months, "unit": "个月",
                      "formula": f"渐退期还剩不超过 {base.value} − {months} = {base.value - months} 个月"}
        return
    if special.is_set and months <= special.value:
        flag = h.exit_special_circumstances
        text = (f"收入超过标准已 {months} 个月，超过了原则上 {base.value} 个月的渐退期；当地规定特殊情况可以延长到不超过 {special.value} 个月，"
                + {True: "您说有特殊情况，可以申请延长。", False: "没有特殊情况的，一般会退出低保。",
                   None: "是否属于特殊情况由乡镇（街道）认定。"}[flag])
        r.add("gradual_exit", flag, text, special.citation, params(base, special))
        if flag is None:
            r.need("household.exit_special_circumstances")
        elif flag:
            r.estimate = {"amount": None, "low": 0, "high": special.value - months, "unit": "个月",
                          "formula": f"特殊情况渐退期还剩不超过 {special.value} − {months} = {special.value - months} 个月"}
        return
    limit = special.value if special.is_set else base.value
    r.add("gradual_exit", False, f"收入超过标准已 {months} 个月，超过了最长 {limit} 个月的渐退期，一般会退出低保。",
          (special if special.is_set else base).citation, params(base, special))


def dibao_single(ctx: Ctx) -> Result:
    r = Result("dibao_single")
    if not _members_test(ctx, r):
        return r
    h = ctx.h
    if ctx.results.get("dibao", {}).get("status") == LIKELY:
        r.add("household_not_dibao", False, "按您说的情况，全家可能符合低保，按户申请即可，不需要单独施保。",
              ctx.cite("dibao.household"))
        return r
    # Who could be taken in alone: 重度残疾 or 重病.
    cand, unknown = [], []
    for i, m in enumerate(h.members):
        sev = ctx.severe(m)
        ill = m.serious_illness
        if sev or ill:
            cand.append(i)
        elif sev is None or ill is None:
            unknown.append(i)
    sev_param = ctx.p("severe_disability_max_grade")
    if cand:
        names = "、".join(ctx.who(i) for i in cand)
        r.add("member_severe_or_ill", True, f"{names}属于重度残疾人或重病患者。", ctx.cite("dibao_single.edge_member"),
              params(sev_param))
    elif unknown:
        # Could any route still pass? Route A needs an edge-line household; route B an adult,
        # unemployed member whose own income is below the standard.
        probe = Result("dibao_single")
        _income_test(ctx, probe, "household_below_edge_line", factor=ctx.p("dibao_edge_multiplier"))
        adult_age = ctx.p("adult_age").value
        t_lo, t_hi, _ = ctx.standard_range()
        route_b_open = any(
            not (h.members[i].monthly_income is not None and below(h.members[i].monthly_income, h.members[i].monthly_income, t_lo, t_hi) is False)
            and not (h.members[i].age is not None and h.members[i].age < adult_age)
            and h.members[i].employed is not True
            and ctx.severe(h.members[i]) is not False
            for i in unknown
        )
        if probe.status == UNLIKELY and not route_b_open:
            r.add("member_severe_or_ill", None, "家里成员的残疾、疾病情况还不清楚。", ctx.cite("dibao_single.edge_member"),
                  params(sev_param), kind="info")
            probe.items[-1]["text"] += "家庭人均收入已不低于低保边缘线，也没有本人收入低于低保标准的成年无业成员，单人户不适用。"
            r.items.extend(probe.items)
            return r
        r.add("member_severe_or_ill", None, "单人户适用于重度残疾人（一、二级，智力、精神三级）或重病患者，还需要了解家人的残疾、疾病情况。",
              ctx.cite("dibao_single.edge_member"), params(sev_param))
        for i in unknown:
            m = h.members[i]
            if m.disability_type is None:
                r.need(f"members[{i}].disability_type")
            elif m.disability_grade is None and m.disability_type != "none":
                r.need(f"members[{i}].disability_grade")
            if m.serious_illness is None:
                r.need(f"members[{i}].serious_illness")
        return r
    else:
        r.add("member_severe_or_ill", False, "家里没有重度残疾人或重病患者，单人户不适用。", ctx.cite("dibao_single.edge_member"),
              params(sev_param))
        return r
    # Route A: member of a 低保边缘 family.
    route_a = Result("dibao_single")
    not_dibao = _income_test(ctx, route_a, "household_not_dibao")
    it = route_a.items[-1]
    if not_dibao is True:
        it["passed"] = False
        it["text"] += "全家可以按户申请低保，不需要单独施保。"
    elif not_dibao is False:
        it["passed"] = True
        it["text"] += "全家不符合低保条件。"
    edge = ctx.p("dibao_edge_multiplier")
    _income_test(ctx, route_a, "household_below_edge_line", factor=edge)
    _property_test(ctx, route_a)
    # Route B: adult, unemployed, severely disabled (成年无业重度残疾人), assessed alone.
    adult = ctx.p("adult_age")
    exempt = ctx.p("disabled_support_exemption")
    route_b_status = UNLIKELY
    route_b = None
    for i in cand:
        m = h.members[i]
        if not ctx.severe(m):
            continue
        rb = Result("dibao_single")
        a = None if m.age is None else m.age >= adult.value
        rb.add("adult", a, f"{ctx.who(i)}" + ({True: "已成年。", False: "未成年。", None: "年龄还不清楚。"}[a]),
               adult.citation, params(adult))
        if a is None:
            rb.need(f"members[{i}].age")
        e = None if m.employed is None else not m.employed
        rb.add("unemployed", e, f"{ctx.who(i)}" + ({True: "没有工作。", False: "有工作。", None: "是否有工作还不清楚。"}[e]),
               ctx.cite("dibao_single.adult_disabled"))
        if e is None:
            rb.need(f"members[{i}].employed")
        own = m.monthly_income
        support = h.support_from_siblings_or_elderly or 0.0
        note = ""
        if support and exempt.value:
            note = f"兄弟姐妹或60岁以上老人给的供养费 {money(support)} 元可以视情适当豁免，这里没有计入。"
            support = 0.0
        t_lo, t_hi, res = ctx.standard_range()
        if own is None:
            ok = None
            rb.need(f"members[{i}].monthly_income")
        else:
            ok = below(own + support, own + support, t_lo, t_hi)
        if ok is None and t_lo is None:
            rb.need(*ctx.standard_facts(res))
        text = (f"{ctx.who(i)}" + ("" if ctx.who(i) == "您本人" else "本人") + f"月收入 {money(own)} 元" + (f"（另有供养费 {money(support)} 元计入）" if support else "")
                + ("，低于当地低保标准。" if ok else ("，不低于当地低保标准。" if ok is False else
                                                   ("，当地低保标准还没有录入，如果标准高于这个数就可能符合。" if own is not None else "，还需要了解。")))
                + note)
        rb.add("own_income_below_standard", ok, text, exempt.citation if note else ctx.cite("dibao_single.adult_disabled"),
               params(exempt, *res))
        if _RANK[rb.status] > _RANK[route_b_status] or route_b is None:
            route_b_status, route_b = rb.status, rb
    sa = route_a.status
    chosen = route_a if route_b is None or _RANK[sa] > _RANK[route_b_status] else route_b
    label = "低保边缘家庭中的重残、重病人员单独纳入" if chosen is route_a else "成年无业重度残疾人参照单人户申请"
    for it in chosen.items:
        it["text"] = f"【{label}】{it['text']}"
    r.items.extend(chosen.items)
    r.missing.extend(chosen.missing)
    if chosen.status != UNLIKELY:
        t_lo, t_hi, res = ctx.standard_range()
        if t_lo is not None and t_lo == t_hi:
            r.estimate = {"amount": None, "low": None, "high": round(t_lo * len(cand), 2), "unit": "元/月",
                          "formula": f"单独纳入的人按本人收入与低保标准 {money(t_lo)} 元的差额计算，最多 {money(t_lo)} 元/人·月"}
    return r


def dibao_edge(ctx: Ctx) -> Result:
    r = Result("dibao_edge")
    if not _members_test(ctx, r):
        return r
    r.items.extend(ctx.income()["items"])
    not_dibao = _income_test(ctx, r, "not_dibao")
    it = r.items[-1]
    if not_dibao is True:
        it["passed"] = False
        it["text"] += "这种情况应先看低保，不属于低保边缘家庭。"
    elif not_dibao is False:
        it["passed"] = True
    edge = ctx.p("dibao_edge_multiplier")
    _income_test(ctx, r, "below_edge_line", factor=edge)
    _property_test(ctx, r)
    if r.status != UNLIKELY:
        r.add("benefits", True, "低保边缘家庭可以按需要申请医疗、教育、住房、就业等专项救助。", ctx.cite("dibao_edge.benefits"),
              kind="info")
    return r


def rigid_expense(ctx: Ctx) -> Result:
    r = Result("rigid_expense")
    if not _members_test(ctx, r):
        return r
    h = ctx.h
    cit = ctx.cite("rigid_expense.rule")
    receiving = h.currently_receiving
    in_other = [p for p in ("dibao", "tekun", "dibao_edge") if p in (receiving or [])]
    screened = [p for p in ("dibao", "dibao_edge") if ctx.results.get(p, {}).get("status") == LIKELY]
    if in_other:
        r.add("not_in_other_category", False, "家里已经在享受低保、特困或被认定为低保边缘家庭，不再认定为刚性支出困难家庭，按原类别享受专项救助。",
              ctx.cite("rigid_expense.not_other"))
    elif screened:
        r.add("not_in_other_category", False, "按收入看，您家更可能符合低保或低保边缘家庭的条件，会先按那一类认定。",
              ctx.cite("rigid_expense.not_other"))
    elif receiving is None:
        r.add("not_in_other_category", None, "还不知道家里现在是否已经在享受低保、特困或低保边缘家庭待遇。",
              ctx.cite("rigid_expense.not_other"))
        r.need("household.currently_receiving")
    else:
        r.add("not_in_other_category", True, "家里没有在享受低保、特困或低保边缘家庭待遇。", ctx.cite("rigid_expense.not_other"))
    inc = ctx.income()
    dpi = ctx.p("per_capita_disposable_income_annual")
    lo_y = inc["pc_lo"] * 12
    hi_y = inc["pc_hi"] * 12 if inc["pc_hi"] is not None else None
    passed = below(lo_y, hi_y, dpi.value, dpi.value)
    if passed is None:
        if dpi.value is None and hi_y is not None:
            text = (f"家庭人均年收入约 {money(hi_y)} 元。当地上年度居民人均可支配收入还没有录入："
                    f"如果它高于 {money(hi_y)} 元，这一条就符合。")
            r.need("standards.per_capita_disposable_income_annual")
        else:
            text = "家庭收入还没说全，暂时没法和当地居民人均可支配收入比较。"
            r.need(*inc["missing"])
            if dpi.value is None:
                r.need("standards.per_capita_disposable_income_annual")
    else:
        text = (f"家庭人均年收入约 {money(hi_y if hi_y is not None else lo_y)} 元，"
                + ("低于" if passed else "不低于") + f"当地上年度居民人均可支配收入 {money(dpi.value)} 元。")
    r.add("income_below_disposable_income", passed, text, dpi.citation or cit, params(dpi))
    _property_test(ctx, r)
    share = ctx.p("rigid_expense_share_threshold")
    exp = h.monthly_rigid_expense
    total = inc["total_hi"]
    if exp is None:
        r.add("rigid_expense_share", None, "还不知道家里每月看病、上学等必需支出有多少。", share.citation or cit, params(share))
        r.need("household.monthly_rigid_expense")
    elif total is None:
        r.add("rigid_expense_share", None, "家庭总收入还没说全，算不出必需支出占收入的比例。", share.citation or cit, params(share))
        r.need(*inc["missing"])
    else:
        ratio = float("inf") if total <= 0 else exp / total
        ratio_text = "家里几乎没有收入" if ratio == float("inf") else f"约占家庭收入的 {ratio * 100:.0f}%"
        if exp <= 0:
            ok = False
        elif share.value is None:
            ok = True if ratio == float("inf") else None
        else:
            ok = ratio > share.value
        if ok is None:
            text = (f"每月必需支出 {money(exp)} 元，{ratio_text}。当地规定的比例还没有录入："
                    f"如果当地规定的比例低于 {ratio * 100:.0f}%，这一条就符合。")
            r.need("standards.rigid_expense_share")
        elif share.value is None:
            text = f"每月必需支出 {money(exp)} 元，{ratio_text}，超过当地规定的比例。"
        else:
            text = (f"每月必需支出 {money(exp)} 元，{ratio_text}，" + ("超过" if ok else "没有超过")
                    + f"当地规定的 {format_value(share.value, 'rate')}。")
        r.add("rigid_expense_share", ok, text, share.citation or cit, params(share))
    return r


def _supporters_unable(ctx: Ctx, person_index: int) -> tuple[bool | None, str, list[str]]:
    """无法定义务人或其无履行义务能力? Returns (passed, text, missing facts)."""
    h = ctx.h
    if h.supporters:
        dpi = ctx.p("per_capita_disposable_income_annual")
        dibao_age = ctx.p("tekun_supporter_dibao_age").value
        old_age = ctx.p("tekun_supporter_elderly_age").value
        verdicts, missing = [], []
        for j, s in enumerate(h.supporters):
            w = f"household.supporters[{j}]."
            if s.able is not None:
                verdicts.append(not s.able)
                continue
            if s.is_tekun:
                verdicts.append(True)
                continue
            if s.receives_dibao and s.age is not None and s.age >= dibao_age:
                verdicts.append(True)
                continue
            lowinc = None
            if s.monthly_income is not None and dpi.value is not None:
                lowinc = s.monthly_income * 12 < dpi.value
            elif s.monthly_income is not None and s.monthly_income == 0:
                lowinc = True
            sev = ctx.severe(s)
            if s.incapacitated or (s.age is not None and s.age >= old_age) or sev:
                need_income = not s.incapacitated
                if s.property_ok is False or (need_income and lowinc is False):
                    verdicts.append(False)
                elif s.property_ok and (not need_income or lowinc):
                    verdicts.append(True)
                else:
                    verdicts.append(None)
                    if s.property_ok is None:
                        missing.append(w + "property_ok")
                    if need_income and lowinc is None:
                        missing.append(w + "monthly_income" if s.monthly_income is None
                                       else "standards.per_capita_disposable_income_annual")
                continue
            if s.age is None and s.incapacitated is None:
                verdicts.append(None)
                missing.append(w + "able")
                continue
            verdicts.append(False)  # not in any of the listed situations: able to support
        if all(v is True for v in verdicts):
            return True, "法定赡养（抚养、扶养）义务人都属于无履行义务能力的情形。", []
        if any(v is False for v in verdicts):
            return False, "有法定赡养（抚养、扶养）义务人有能力履行义务。", []
        return None, "法定赡养（抚养、扶养）义务人是否有能力履行义务，还需要补充情况。", missing
    flag = h.has_able_supporter
    if flag is None:
        return None, "还不知道有没有有能力赡养、抚养或扶养的人。", ["household.has_able_supporter"]
    if flag:
        return False, "有能够履行赡养（抚养、扶养）义务的人。", []
    return True, "没有法定义务人，或者法定义务人没有履行义务的能力（按您说的情况）。", []


def tekun(ctx: Ctx) -> Result:
    r = Result("tekun")
    if not _members_test(ctx, r):
        return r
    h = ctx.h
    elderly = ctx.p("tekun_elderly_age")
    minor = ctx.p("tekun_minor_age")
    grades = ctx.p("tekun_disability_max_grade")
    receiving = "tekun" in (h.currently_receiving or [])
    per_member: list[Result] = []
    for i, m in enumerate(h.members):
        rm = Result("tekun")
        who = ctx.who(i)
        # 1. 无劳动能力 (by age or disability).
        cat, why, cit, used = None, "", ctx.cite("tekun.rule"), [elderly, minor, grades]
        if m.age is not None and elderly.is_set and m.age >= elderly.value:
            cat, why, cit = True, f"{m.age}岁，属于{elderly.value}周岁以上的老年人", elderly.citation
        elif m.age is not None and minor.is_set and m.age < minor.value:
            cat, why, cit = True, f"{m.age}岁，属于未满{minor.value}周岁的未成年人", minor.citation
        elif (m.age is not None and minor.is_set and m.age >= minor.value and m.in_school and receiving):
            cat, why, cit = True, f"{m.age}岁，已满{minor.value}周岁但仍在就学，可以继续享受供养", ctx.cite("tekun.in_school")
        elif m.disabled and m.disability_grade is not None and grades.is_set:
            limit = grades.value.get(m.disability_type)
            if limit is not None and m.disability_grade <= limit:
                cat = True
                why = f"{DISABILITY_ZH.get(m.disability_type, '')}残疾{GRADE_ZH[m.disability_grade]}级，属于特困认定的无劳动能力残疾人"
                cit = grades.citation
            elif limit is None and m.disability_type == "multiple":
                cat, why, cit = None, "多重残疾，要按主要残疾类别和等级认定", grades.citation
            else:
                cat = False if m.age is not None else None
        else:
            cat = False if (m.age is not None and m.disabled is not None
                            and (m.disabled is False or m.disability_grade is not None)) else None
        if cat is False:
            why = (f"{m.age}岁，不是{elderly.value}周岁以上老人或未满{minor.value}周岁的未成年人，"
                   "也不是特困认定的重度残疾人") if minor.is_set and elderly.is_set else "不属于特困认定的无劳动能力情形"
            if m.age is not None and minor.is_set and m.age >= minor.value and m.in_school and not receiving:
                why += "（年满后仍在上学的，是已在供养的未成年人才能继续）"
        elif cat is None and not why:
            why = "年龄或残疾情况还不清楚"
            if m.age is None:
                rm.need(f"members[{i}].age")
            if m.disability_type is None:
                rm.need(f"members[{i}].disability_type")
            elif m.disabled and m.disability_grade is None:
                rm.need(f"members[{i}].disability_grade")
        rm.add("no_labor_capacity", cat, f"{who}：{why}。", cit, params(*used))
        if cat is False:
            per_member.append(rm)
            continue
        # 2. 无生活来源: own income below the dibao standard (and property).
        t_lo, t_hi, res = ctx.standard_range()
        inc = m.monthly_income
        if inc is None:
            ok = None
            rm.need(f"members[{i}].monthly_income")
            text = f"{who}：还不知道本人每月收入。"
        else:
            ok = below(inc, inc, t_lo, t_hi) if inc > 0 else (True if (t_lo is None or t_lo > 0) else None)
            if ok is None:
                rm.need(*ctx.standard_facts(res))
                text = f"{who}：本人月收入 {money(inc)} 元；当地低保标准还没有录入，如果标准高于 {money(inc)} 元，就算无生活来源。"
            else:
                text = f"{who}：本人月收入 {money(inc)} 元，" + ("低于当地低保标准，属于无生活来源。" if ok else "不低于当地低保标准，不算无生活来源。")
        rm.add("no_income_source", ok, text, ctx.cite("tekun.no_income"), params(*res))
        _property_test(ctx, rm, "tekun.no_income")
        # 3. 无法定义务人或其无履行义务能力.
        sup, text, missing = _supporters_unable(ctx, i)
        rm.add("no_able_supporter", sup, f"{who}：{text}", ctx.cite("tekun.supporter"))
        rm.need(*missing)
        if m.age is not None and ctx.p("adult_age").is_set and m.age < ctx.p("adult_age").value \
                and m.parents_situation in ("orphan", "de_facto_unsupported"):
            rm.add("children_choice", None, f"{who}同时可能符合孤儿或事实无人抚养儿童保障，可以选择其中一种。",
                   ctx.cite("tekun.children_choice"), kind="info")
        per_member.append(rm)
    statuses = [x.status for x in per_member]
    top = best(*statuses)
    for x in per_member:
        if x.status == top or top == UNLIKELY:
            r.items.extend(x.items)
            if x.status == NEED_INFO:
                r.missing.extend(m for m in x.missing if m not in r.missing)
    r.forced = top
    if top != UNLIKELY:
        mult = ctx.p("tekun_basic_multiplier")
        t_lo, t_hi, res = ctx.standard_range()
        if mult.is_set and t_lo is not None and t_lo == t_hi:
            r.estimate = {"amount": None, "low": round(mult.value * t_lo, 2), "high": None, "unit": "元/人·月",
                          "formula": f"特困人员基本生活标准不低于低保标准的 {format_value(mult.value, 'ratio')}："
                                     f"{money(t_lo)} × {format_value(mult.value, 'ratio')} = {money(mult.value * t_lo)} 元/人·月（另有照料护理标准）"}
            r.add("basic_standard", True, "特困人员基本生活标准按不低于同期低保标准的一定倍数确定。", mult.citation,
                  params(mult, *res), kind="info")
    return r


def temporary_assistance(ctx: Ctx) -> Result:
    r = Result("temporary_assistance")
    h = ctx.h
    e = h.emergency
    rule = ctx.cite("temporary_assistance.rule")
    if e is None or e.type is None:
        r.add("emergency", None, "如果家里最近遇到火灾、交通事故、突发重病、灾害或失业没有收入等急事，导致基本生活暂时出现严重困难，可以申请临时救助。",
              rule)
        r.need("household.emergency")
        return r
    if e.type == "none":
        r.add("emergency", False, "目前没有遇到突发的急难情况。以后如果遇到，可以随时向急难发生地申请临时救助。", rule)
        return r
    kind = EMERGENCY_ZH.get(e.type, "突发困难")
    r.add("emergency", True, f"遇到{kind}，导致基本生活暂时出现严重困难的，可以申请临时救助。", rule)
    r.add("apply_where", True, "临时救助向急难发生地的乡镇（街道）申请，不受户籍限制。", ctx.cite("temporary_assistance.where"),
          kind="info")
    if e.urgent or e.type in URGENT_EMERGENCIES:
        r.add("first_aid", True, "情况紧急的，可以先行救助，事后再补充说明情况。", ctx.cite("temporary_assistance.first_aid"),
              kind="info")
    major = e.type in MAJOR_EMERGENCIES
    if major:
        r.add("major_case", True, "因火灾、交通事故、突患重大疾病等造成重大困难的，可以“一事一议”提高救助额度。",
              ctx.cite("temporary_assistance.major"), kind="info")
    # Estimate.
    method = ctx.p("temporary_assistance_method")
    persons = e.persons_affected or (len(h.members) if h.members else None)
    if method.value is None:
        r.add("estimate_method", None, "临时救助的具体标准由县级以上地方人民政府确定、公布，这里不估算金额。", method.citation,
              params(method), kind="info")
        return r
    if persons is None:
        r.need("household.members", purpose="estimate")
        return r
    if method.value == "multiplier_range":
        lo_m, hi_m = ctx.p("temporary_assistance_min_multiplier"), ctx.p("temporary_assistance_max_multiplier")
        t_lo, t_hi, res = ctx.standard_range()
        if t_lo is None or t_lo != t_hi:
            r.need(*ctx.standard_facts(res), purpose="estimate")
            r.add("estimate", None, f"临时救助人均标准一般为当地低保标准的 {format_value(lo_m.value, 'ratio')} 到 "
                                    f"{format_value(hi_m.value, 'ratio')}；当地低保标准还没有录入，暂时算不出金额。",
                  lo_m.citation, params(lo_m, hi_m, *res), kind="info")
            return r
        low, high = lo_m.value * t_lo * persons, hi_m.value * t_lo * persons
        formula = (f"每人 {money(t_lo)} × {format_value(lo_m.value, 'ratio')}～{format_value(hi_m.value, 'ratio')}，"
                   f"{persons} 人：{money(low)}～{money(high)} 元")
        used = [lo_m, hi_m, *res]
    else:  # standard_x_persons_x_months
        urban = ctx.p("dibao_monthly_urban")
        max_m = ctx.p("temporary_assistance_max_months")
        used = [urban, max_m]
        if urban.value is None:
            r.need("standards.dibao_monthly_urban" if "dibao_monthly_urban" not in ctx.s.standards else "standards.dibao_monthly",
                   purpose="estimate")
            r.add("estimate", None, "临时救助按“当地城市低保标准 × 救助人数 × 困难持续月数”计算；当地城市低保标准还没有录入，暂时算不出金额。",
                  max_m.citation, params(*used), kind="info")
            return r
        if e.duration_months is None:
            r.need("household.emergency.duration_months", purpose="estimate")
            r.add("estimate", None, f"临时救助按“当地城市低保标准 {money(urban.value)} 元 × 救助人数 × 困难持续月数（最长 {max_m.value} 个月）”计算，还需要知道困难会持续几个月。",
                  max_m.citation, params(*used), kind="info")
            return r
        months = min(e.duration_months, max_m.value)
        low = high = urban.value * persons * months
        formula = f"{money(urban.value)} × {persons} 人 × {months} 个月 = {money(low)} 元"
        if e.duration_months > max_m.value:
            formula += f"（困难持续 {e.duration_months} 个月，原则上最多按 {max_m.value} 个月计算）"
    cap = ctx.p("temporary_assistance_household_annual_cap")
    if cap.is_set:
        used.append(cap)
        room = max(0.0, cap.value - (e.assistance_received_this_year or 0.0))
        if high > room:
            high = room
            low = min(low, room)
            formula += f"；每户全年累计原则上不超过 {money(cap.value)} 元" + (
                f"（今年已领 {money(e.assistance_received_this_year)} 元）" if e.assistance_received_this_year else "") + "，超过的要报县政府领导同意"
    if major:
        formula += "；重大困难可“一事一议”提高"
    r.estimate = {"amount": round(low, 2) if low == high else None, "low": round(low, 2), "high": round(high, 2),
                  "unit": "元", "formula": formula}
    r.add("estimate", True, f"估算：{formula}。", (cap.citation if cap.is_set else None) or method.citation, params(*used),
          kind="info")
    return r


# ---------------------------------------------------------------------------- referrals
_BASE = ("dibao", "dibao_single", "dibao_edge", "rigid_expense", "tekun")
_BASE_ZH = {"dibao": "低保", "dibao_single": "单人户低保", "dibao_edge": "低保边缘家庭", "rigid_expense": "刚性支出困难家庭",
            "tekun": "特困供养"}


def _base(ctx: Ctx, r: Result, programs: tuple[str, ...] = _BASE) -> bool | None:
    receiving = [p for p in programs if p in (ctx.h.currently_receiving or [])]
    likely = [p for p in programs if ctx.results.get(p, {}).get("status") == LIKELY]
    unknown = [p for p in programs if ctx.results.get(p, {}).get("status") == NEED_INFO]
    names = "、".join(_BASE_ZH[p] for p in programs)
    if receiving or likely:
        which = "、".join(_BASE_ZH[p] for p in (receiving or likely))
        r.add("base_category", True, f"您家{'已在享受' if receiving else '可能符合'}{which}，可以同时申请这项专项救助。",
              ctx.cite(f"{r.program}.rule"))
        return True
    if unknown:
        r.add("base_category", None, f"这项救助面向{names}等对象，要先弄清楚您家是否符合这些条件。", ctx.cite(f"{r.program}.rule"))
        for p in unknown:
            for f, purpose in ctx.results[p]["_missing"]:
                if purpose == "status":
                    r.need(f)
        return None
    r.add("base_category", False, f"这项救助主要面向{names}等对象，按目前情况您家可能不属于这些对象。", ctx.cite(f"{r.program}.rule"))
    return False


def medical_assistance(ctx: Ctx) -> Result:
    r = Result("medical_assistance")
    if _base(ctx, r) is not False:
        rate = ctx.p("medical_assistance_min_rate")
        if rate.is_set:
            r.add("rate", True, f"低保、特困对象政策范围内的自付医疗费用，在年度限额内按不低于 {format_value(rate.value, 'rate')} 的比例救助。",
                  rate.citation, params(rate), kind="info")
            r.estimate = {"amount": None, "low": rate.value, "high": None, "unit": "自付费用比例",
                          "formula": f"政策范围内个人自付部分的不低于 {format_value(rate.value, 'rate')}（低保、特困对象，年度限额内）"}
    return r


def education_assistance(ctx: Ctx) -> Result:
    r = Result("education_assistance")
    _base(ctx, r)
    members = ctx.h.members or []
    flags = [m.in_school for m in members]
    if any(flags):
        r.add("student", True, "家里有正在上学的成员。", ctx.cite("education_assistance.rule"))
    elif members and all(f is False for f in flags):
        r.add("student", False, "家里没有正在上学的成员。", ctx.cite("education_assistance.rule"))
    else:
        r.add("student", None, "还不知道家里有没有正在上学的孩子。", ctx.cite("education_assistance.rule"))
        r.need(*[f"members[{i}].in_school" for i, f in enumerate(flags) if f is None] or ["household.members"])
    return r


def housing_assistance(ctx: Ctx) -> Result:
    r = Result("housing_assistance")
    _base(ctx, r)
    d = ctx.h.housing_difficulty
    r.add("housing_difficulty", d, {True: "家里有住房困难。", False: "家里没有住房困难。",
                                    None: "还不知道家里有没有住房困难。"}[d], ctx.cite("housing_assistance.rule"))
    if d is None:
        r.need("household.housing_difficulty")
    return r


def employment_assistance(ctx: Ctx) -> Result:
    r = Result("employment_assistance")
    _base(ctx, r, ("dibao", "dibao_edge", "rigid_expense"))
    members = ctx.h.members or []
    adult = ctx.p("adult_age").value
    found, unknown = [], []
    for i, m in enumerate(members):
        if m.age is not None and m.age < adult:
            continue
        able = None if m.labor_capacity is None else m.labor_capacity in ("full", "partial")
        jobless = None if m.employed is None else not m.employed
        if able and jobless:
            found.append(i)
        elif able is None or jobless is None:
            unknown.append(i)
    if found:
        r.add("unemployed_able_member", True, "、".join(ctx.who(i) for i in found) + "有劳动能力、目前没有工作。",
              ctx.cite("employment_assistance.rule"))
    elif unknown:
        r.add("unemployed_able_member", None, "还不知道家里有没有有劳动能力但没有工作的成员。", ctx.cite("employment_assistance.rule"))
        for i in unknown:
            if members[i].labor_capacity is None:
                r.need(f"members[{i}].labor_capacity")
            if members[i].employed is None:
                r.need(f"members[{i}].employed")
    else:
        r.add("unemployed_able_member", False if members else None,
              "家里没有有劳动能力但失业的成员。" if members else "还不知道家里有几口人。", ctx.cite("employment_assistance.rule"))
        if not members:
            r.need("household.members")
    return r


def disability_subsidies(ctx: Ctx) -> Result:
    r = Result("disability_subsidies")
    members = ctx.h.members or []
    cit = ctx.cite("disability_subsidies.rule")
    if not members:
        r.add("disabled_member", None, "还不知道家里有没有残疾人。", cit)
        r.need("household.members")
        return r
    disabled = [i for i, m in enumerate(members) if m.disabled]
    unknown = [i for i, m in enumerate(members) if m.disabled is None]
    if not disabled:
        r.add("disabled_member", None if unknown else False,
              "还不知道家里有没有持残疾人证的成员。" if unknown else "家里没有残疾人，残疾人两项补贴不适用。", cit)
        r.need(*[f"members[{i}].disability_type" for i in unknown])
        return r
    care = ctx.p("disability_care_subsidy_monthly")
    living = ctx.p("disability_living_subsidy_monthly")
    severe = [i for i in disabled if members[i].disability_grade in (1, 2)]
    grade_unknown = [i for i in disabled if members[i].disability_grade is None]
    poor = best(*(ctx.results.get(p, {}).get("status", UNLIKELY) for p in ("dibao", "dibao_single", "tekun")))
    if any(p in (ctx.h.currently_receiving or []) for p in ("dibao", "dibao_single", "tekun")):
        poor = LIKELY
    low = 0.0
    parts = []
    if severe:
        r.add("care_subsidy", True, "、".join(ctx.who(i) for i in severe) + "是一级或二级残疾，可以申请重度残疾人护理补贴。", cit)
        if care.is_set:
            for i in severe:
                amt = care.value.get(members[i].disability_grade) or care.value.get(str(members[i].disability_grade))
                if amt:
                    low += amt
                    parts.append(f"护理补贴 {money(amt)} 元（{GRADE_ZH[members[i].disability_grade]}级）")
    if poor == LIKELY:
        r.add("living_subsidy", True, "家里可能符合低保或特困条件，家中残疾人可以申请困难残疾人生活补贴。", cit)
        if living.is_set:
            low += living.value * len(disabled)
            parts.append(f"生活补贴 {money(living.value)} 元 × {len(disabled)} 人")
    elif not severe:
        status = None if (poor == NEED_INFO or grade_unknown) else False
        r.add("living_subsidy", status, "困难残疾人生活补贴面向低保等困难家庭中的残疾人，要先看您家是否符合低保。"
              if status is None else "家里的残疾人不是一、二级重度残疾，家庭也可能不符合低保，两项补贴可能都不适用。", cit)
        if status is None:
            r.need(*[f"members[{i}].disability_grade" for i in grade_unknown])
            for f, purpose in ctx.results.get("dibao", {}).get("_missing", []):
                if purpose == "status":
                    r.need(f)
    if parts:
        r.estimate = {"amount": round(low, 2), "low": round(low, 2), "high": round(low, 2), "unit": "元/月",
                      "formula": "；".join(parts) + "（四川省标准，二手来源转述，仅供参考，以当地发放为准）"}
        r.add("amounts", True, "补贴标准（四川省，二手来源，仅供参考）。", (care if severe else living).citation,
              params(care, living), kind="info")
    return r


def children(ctx: Ctx) -> Result:
    r = Result("children")
    members = ctx.h.members or []
    adult = ctx.p("adult_age")
    lost = ctx.p("de_facto_lost_contact_months")
    if not members:
        r.add("minor", None, "还不知道家里有没有未成年的孩子。", ctx.cite("children.orphan"))
        r.need("household.members")
        return r
    verdicts = []
    for i, m in enumerate(members):
        if m.age is None:
            verdicts.append(None)
            r.need(f"members[{i}].age")
            continue
        if m.age >= adult.value:
            continue
        who = ctx.who(i)
        ps = m.parents_situation
        if ps == "orphan":
            r.add("orphan", True, f"{who}失去父母或查找不到生父母，未满{adult.value}周岁，可以申请孤儿保障。", ctx.cite("children.orphan"),
                  params(adult))
            verdicts.append(True)
        elif ps == "de_facto_unsupported":
            r.add("de_facto", True, f"{who}的父母因重残、重病、服刑等无法履行抚养义务，可以申请事实无人抚养儿童保障。",
                  ctx.cite("children.de_facto"))
            verdicts.append(True)
        elif ps == "lost_contact":
            months = m.parent_lost_contact_months
            ok = None if months is None else months >= lost.value
            r.add("lost_contact", ok, f"{who}的父母失联" + (
                f"{months}个月，" + ("达到" if ok else "还不到") + f"{lost.value}个月以上的认定条件。" if months is not None
                else f"，失联{lost.value}个月以上的才认定，还需要知道失联多久了。")
                + "（另一方也须死亡、失踪或符合重残、重病、服刑、失联等情形）", lost.citation, params(lost))
            if ok is None:
                r.need(f"members[{i}].parent_lost_contact_months")
            verdicts.append(ok)
        elif ps == "normal":
            verdicts.append(False)
        else:
            verdicts.append(None)
            r.need(f"members[{i}].parents_situation")
    if any(v is True for v in verdicts):
        r.forced = LIKELY
    elif any(v is None for v in verdicts):
        r.forced = NEED_INFO
        if not r.items:
            r.add("minor", None, "家里有未成年的孩子，还需要了解孩子父母的情况。", ctx.cite("children.de_facto"))
    else:
        r.forced = UNLIKELY
        r.missing.clear()
        if not any(i["kind"] == "condition" for i in r.items):
            r.add("minor", False, "家里没有失去父母照料的未成年孩子，孤儿和事实无人抚养儿童保障不适用。", ctx.cite("children.orphan"))
    if r.forced != NEED_INFO:
        r.missing = []
    return r


PROGRAM_ORDER = (
    ("dibao", dibao),
    ("dibao_edge", dibao_edge),
    ("dibao_single", dibao_single),
    ("tekun", tekun),
    ("rigid_expense", rigid_expense),
    ("temporary_assistance", temporary_assistance),
    ("medical_assistance", medical_assistance),
    ("education_assistance", education_assistance),
    ("housing_assistance", housing_assistance),
    ("employment_assistance", employment_assistance),
    ("disability_subsidies", disability_subsidies),
    ("children", children),
)
