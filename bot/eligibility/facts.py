"""Fact ids the engine may still need, and the Chinese question that asks for each.

A missing fact is ``{"fact": id, "question": 中文问题, "for": "status" | "estimate"}``:
``status`` facts decide whether the result can move off ``need_info``; ``estimate`` facts
only sharpen the amount. Ids are paths into the request body (``household.`` is left
out for members, as in ``members[0].monthly_income``):

    household.members                 household.other_monthly_income
    household.property_ok             household.has_able_supporter
    household.currently_receiving     household.emergency
    household.emergency.duration_months
    household.monthly_rigid_expense   household.months_above_standard
    household.exit_special_circumstances
    household.housing_difficulty      household.urban_residence_years
    household.supporters[i].<field>   members[i].<field>
    hukou                             standards.<key>
"""

from __future__ import annotations

import re

_HOUSEHOLD_Q = {
    "household.members": "您家一共几口人一起生活？请说说每个人和您的关系、年龄。",
    "household.other_monthly_income": "除了上面说的收入，家里还有没有别的收入（比如赡养费、租金、分红）？每月大约多少元？没有就说“没有”。",
    "household.property_ok": "家里的存款、房产、车辆等财产情况，是否在当地低保规定的范围内？（不清楚可以问村、社区或乡镇民政办）",
    "household.has_able_supporter": "有没有有能力赡养、抚养或扶养的人（比如有收入的子女、配偶、父母）？",
    "household.currently_receiving": "家里现在有没有在领低保、特困供养或被认定为低保边缘家庭？没有就说“没有”。",
    "household.emergency": "最近家里有没有遇到火灾、车祸、突发重病、灾害、失业没有收入这样的急事？没有就说“没有”。",
    "household.emergency.duration_months": "这个困难预计会持续几个月？",
    "household.monthly_rigid_expense": "家里每月看病、上学等必需支出大约多少元？",
    "household.months_above_standard": "家里有人找到工作、收入超过低保标准，到现在有几个月了？",
    "household.exit_special_circumstances": "家里有没有特殊困难（比如工作还不稳定、有重病重残成员），需要延长渐退期？",
    "household.housing_difficulty": "家里住房有没有困难（比如没有住房、住房是危房、租房负担重）？",
    "household.urban_residence_years": "您家在城镇实际居住了几年？有没有承包土地、是否参加村集体收益分配？",
    "hukou": "您家的户口是城镇户口还是农村户口？",
}

_STANDARD_Q = {
    "standards.dibao_monthly": "您当地的低保标准是每人每月多少元？（可以问村、社区或乡镇民政办）",
    "standards.dibao_monthly_urban": "您当地的城市低保标准是每人每月多少元？",
    "standards.dibao_monthly_rural": "您当地的农村低保标准是每人每月多少元？",
    "standards.minimum_wage_monthly": "您当地的月最低工资标准是多少元？",
    "standards.per_capita_disposable_income_annual": "您当地上一年的居民人均可支配收入是多少元？（可以问乡镇民政办）",
    "standards.rigid_expense_share": "当地规定看病、上学等必需支出占家庭收入多大比例才算刚性支出困难？",
}

_MEMBER_Q = {
    "age": "{who}今年多大年纪？",
    "monthly_income": "{who}每月收入大约多少元？没有收入就说 0。",
    "disability_type": "{who}有没有残疾？如果有，是哪类残疾（肢体、视力、听力、言语、智力、精神）？",
    "disability_grade": "{who}的残疾证上是几级？",
    "serious_illness": "{who}有没有重大疾病，或者看病自己花的钱超过了家里上一年的总收入？",
    "labor_capacity": "{who}能不能干活挣钱（完全能、部分能、不能）？",
    "employed": "{who}现在有没有工作？",
    "in_school": "{who}现在在上学（含幼儿园）吗？",
    "parents_situation": "{who}的父母情况怎样（都健在能照顾、去世或失踪、重残重病服刑等无法抚养、失联）？",
    "parent_lost_contact_months": "{who}的父母失去联系有多久了（几个月）？",
}

_SUPPORTER_Q = {
    "age": "第{n}位赡养（抚养、扶养）义务人多大年纪？",
    "monthly_income": "第{n}位赡养（抚养、扶养）义务人每月收入多少元？",
    "property_ok": "第{n}位赡养（抚养、扶养）义务人的财产是否在当地低收入家庭规定的范围内？",
    "able": "第{n}位赡养（抚养、扶养）义务人有没有能力履行赡养（抚养、扶养）义务？",
}

_MEMBER_RE = re.compile(r"^members\[(\d+)\]\.(\w+)$")
_SUPPORTER_RE = re.compile(r"^household\.supporters\[(\d+)\]\.(\w+)$")


_REL_SHORT = {
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "sibling": "兄弟姐妹",
    "grandparent": "祖辈",
    "grandchild": "孙辈",
    "other": "家庭成员",
}


def member_label(index: int, relation: str | None) -> str:
    """'您本人' or '第2位家庭成员（配偶）'."""
    if relation == "self":
        return "您本人"
    if relation in _REL_SHORT:
        return f"第{index + 1}位家庭成员（{_REL_SHORT[relation]}）"
    return f"第{index + 1}位家庭成员"


def question_for(fact: str, relations: list[str | None] | None = None) -> str:
    if fact in _HOUSEHOLD_Q:
        return _HOUSEHOLD_Q[fact]
    if fact in _STANDARD_Q:
        return _STANDARD_Q[fact]
    m = _MEMBER_RE.match(fact)
    if m:
        i, attr = int(m.group(1)), m.group(2)
        rel = relations[i] if relations and i < len(relations) else None
        return _MEMBER_Q.get(attr, "{who}的这项情况能说一下吗？").format(who=member_label(i, rel))
    m = _SUPPORTER_RE.match(fact)
    if m:
        n, attr = int(m.group(1)) + 1, m.group(2)
        return _SUPPORTER_Q.get(attr, "第{n}位赡养（抚养、扶养）义务人的情况能说一下吗？").format(n=n)
    return "能再说说这方面的情况吗？"
