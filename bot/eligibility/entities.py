"""Entities: persons, legal supporters, the household of 共同生活家庭成员, and a situation.

Every fact is optional: ``None`` means "not told", never "no". ``Situation.from_dict``
accepts the same shape as the ``POST /v1/screen`` request and raises ``InputError``
(a ValueError with a Chinese message naming the field) on impossible input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.places import UnknownPlace, normalize_place

RELATIONS = ("self", "spouse", "child", "parent", "sibling", "grandparent", "grandchild", "other")
DISABILITY_TYPES = ("none", "limb", "visual", "hearing", "speech", "intellectual", "mental", "multiple")
LABOR_CAPACITY = ("full", "partial", "none")
HUKOU = ("urban", "rural")
EMERGENCY_TYPES = (
    "none",
    "fire",
    "traffic_accident",
    "accident",
    "sudden_illness",
    "disaster",
    "unemployment",
    "expense_surge",
    "other",
)
# Emergencies the sources name as major (火灾、交通事故、突患重大疾病) or disasters.
MAJOR_EMERGENCIES = ("fire", "traffic_accident", "sudden_illness", "disaster")
URGENT_EMERGENCIES = ("fire", "traffic_accident", "accident", "sudden_illness", "disaster")
PARENTS_SITUATIONS = ("normal", "orphan", "de_facto_unsupported", "lost_contact")
INCOME_CATEGORIES = ("basic_pension", "special_care", "family_planning", "awards", "assistance_payments")
RECEIVABLE_PROGRAMS = (
    "dibao",
    "dibao_single",
    "dibao_edge",
    "rigid_expense",
    "tekun",
    "temporary_assistance",
    "medical_assistance",
    "education_assistance",
    "housing_assistance",
    "employment_assistance",
    "disability_subsidies",
    "children",
)
STANDARD_KEYS = {
    "dibao_monthly": "当地低保标准（元/人·月）",
    "dibao_monthly_urban": "当地城市低保标准（元/人·月）",
    "dibao_monthly_rural": "当地农村低保标准（元/人·月）",
    "minimum_wage_monthly": "当地月最低工资标准（元）",
    "per_capita_disposable_income_annual": "上年度当地居民人均可支配收入（元/年）",
    "rigid_expense_share": "当地刚性支出占收入比例线（如 0.5 表示 50%）",
}

# Sanity bounds for facts (input validation, not policy).
MAX_AGE = 130
MAX_MONEY = 10_000_000


class InputError(ValueError):
    """Impossible or malformed input; message in Chinese, names the field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}：{message}")
        self.field = field_name
        self.message = message


def _opt_bool(d: dict[str, Any], key: str, where: str) -> bool | None:
    v = d.get(key)
    if v is None or isinstance(v, bool):
        return v
    raise InputError(f"{where}{key}", "应当是 true 或 false")


def _opt_num(
    d: dict[str, Any], key: str, where: str, lo: float = 0, hi: float = MAX_MONEY, integer: bool = False
) -> Any:  # int | float | None, as `integer` says
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{where}{key}", "应当是数字")
    if v < lo:
        raise InputError(f"{where}{key}", f"不能小于 {lo:g}")
    if v > hi:
        raise InputError(f"{where}{key}", f"不能大于 {hi:g}")
    if integer and int(v) != v:
        raise InputError(f"{where}{key}", "应当是整数")
    return int(v) if integer else float(v)


def _opt_enum(d: dict[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if v not in allowed:
        raise InputError(f"{where}{key}", f"取值应为 {'/'.join(allowed)} 之一")
    return str(v)


@dataclass(slots=True)
class Person:
    relation: str | None = None
    age: int | None = None
    disability_type: str | None = None  # "none" = told: no disability
    disability_grade: int | None = None
    serious_illness: bool | None = None
    labor_capacity: str | None = None
    employed: bool | None = None
    monthly_income: float | None = None
    in_school: bool | None = None
    parents_situation: str | None = None
    parent_lost_contact_months: int | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> Person:
        if not isinstance(d, dict):
            raise InputError(where.rstrip("."), "应当是一个对象")
        p = cls(
            relation=_opt_enum(d, "relation", where, RELATIONS),
            age=_opt_num(d, "age", where, 0, MAX_AGE, integer=True),
            disability_type=_opt_enum(d, "disability_type", where, DISABILITY_TYPES),
            disability_grade=_opt_num(d, "disability_grade", where, 1, 4, integer=True),
            serious_illness=_opt_bool(d, "serious_illness", where),
            labor_capacity=_opt_enum(d, "labor_capacity", where, LABOR_CAPACITY),
            employed=_opt_bool(d, "employed", where),
            monthly_income=_opt_num(d, "monthly_income", where),
            in_school=_opt_bool(d, "in_school", where),
            parents_situation=_opt_enum(d, "parents_situation", where, PARENTS_SITUATIONS),
            parent_lost_contact_months=_opt_num(d, "parent_lost_contact_months", where, 0, 1200, integer=True),
        )
        if p.disability_type == "none" and p.disability_grade is not None:
            raise InputError(f"{where}disability_grade", "没有残疾时不应填写残疾等级")
        return p

    @property
    def disabled(self) -> bool | None:
        if self.disability_type is None:
            return None
        return self.disability_type != "none"


@dataclass(slots=True)
class Supporter:
    """A legal supporter (法定赡养、抚养、扶养义务人), in or outside the household."""

    relation: str | None = None
    age: int | None = None
    able: bool | None = None  # told directly: able to support or not
    is_tekun: bool | None = None
    receives_dibao: bool | None = None
    disability_type: str | None = None
    disability_grade: int | None = None
    monthly_income: float | None = None
    property_ok: bool | None = None
    incapacitated: bool | None = None  # 无民事行为能力、被宣告失踪或者在监狱服刑

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> Supporter:
        if not isinstance(d, dict):
            raise InputError(where.rstrip("."), "应当是一个对象")
        return cls(
            relation=_opt_enum(d, "relation", where, RELATIONS),
            age=_opt_num(d, "age", where, 0, MAX_AGE, integer=True),
            able=_opt_bool(d, "able", where),
            is_tekun=_opt_bool(d, "is_tekun", where),
            receives_dibao=_opt_bool(d, "receives_dibao", where),
            disability_type=_opt_enum(d, "disability_type", where, DISABILITY_TYPES),
            disability_grade=_opt_num(d, "disability_grade", where, 1, 4, integer=True),
            monthly_income=_opt_num(d, "monthly_income", where),
            property_ok=_opt_bool(d, "property_ok", where),
            incapacitated=_opt_bool(d, "incapacitated", where),
        )


@dataclass(slots=True)
class Emergency:
    type: str | None = None
    description: str | None = None
    duration_months: int | None = None
    urgent: bool | None = None
    persons_affected: int | None = None
    assistance_received_this_year: float | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> Emergency:
        if not isinstance(d, dict):
            raise InputError(where.rstrip("."), "应当是一个对象")
        desc = d.get("description")
        if desc is not None and (not isinstance(desc, str) or len(desc) > 2000):
            raise InputError(f"{where}description", "应当是不超过 2000 字的文字")
        return cls(
            type=_opt_enum(d, "type", where, EMERGENCY_TYPES),
            description=desc,
            duration_months=_opt_num(d, "duration_months", where, 0, 120, integer=True),
            urgent=_opt_bool(d, "urgent", where),
            persons_affected=_opt_num(d, "persons_affected", where, 1, 100, integer=True),
            assistance_received_this_year=_opt_num(d, "assistance_received_this_year", where),
        )


@dataclass(slots=True)
class Household:
    members: list[Person] | None = None
    other_monthly_income: float | None = None
    property_ok: bool | None = None
    has_able_supporter: bool | None = None
    supporters: list[Supporter] | None = None
    currently_receiving: list[str] | None = None
    emergency: Emergency | None = None
    monthly_rigid_expense: float | None = None
    excluded_income: dict[str, float] = field(default_factory=dict)
    support_from_siblings_or_elderly: float | None = None
    months_above_standard: int | None = None
    exit_special_circumstances: bool | None = None
    hukou_local: bool | None = None
    residence_permit: bool | None = None
    urban_residence_years: float | None = None
    has_contracted_land: bool | None = None
    collective_income_share: bool | None = None
    housing_difficulty: bool | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Household:
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise InputError("household", "应当是一个对象")
        w = "household."
        members = d.get("members")
        if members is not None:
            if not isinstance(members, list):
                raise InputError("household.members", "应当是成员列表")
            if len(members) > 30:
                raise InputError("household.members", "家庭成员最多 30 人")
            members = [Person.from_dict(m, f"household.members[{i}].") for i, m in enumerate(members)]
        supporters = d.get("supporters")
        if supporters is not None:
            if not isinstance(supporters, list) or len(supporters) > 30:
                raise InputError("household.supporters", "应当是不超过 30 人的列表")
            supporters = [Supporter.from_dict(s, f"household.supporters[{i}].") for i, s in enumerate(supporters)]
        receiving = d.get("currently_receiving")
        if receiving is not None:
            if not isinstance(receiving, list):
                raise InputError("household.currently_receiving", "应当是项目列表")
            for r in receiving:
                if r not in RECEIVABLE_PROGRAMS:
                    raise InputError("household.currently_receiving", f"不认识的救助项目：{r}")
        emergency = d.get("emergency")
        excluded = d.get("excluded_income") or {}
        if not isinstance(excluded, dict):
            raise InputError("household.excluded_income", "应当是“项目: 金额”的对象")
        for k in excluded:
            if k not in INCOME_CATEGORIES:
                raise InputError("household.excluded_income", f"不认识的收入项目：{k}")
        excluded = {k: _opt_num(excluded, k, "household.excluded_income.") for k in excluded}
        return cls(
            members=members,
            other_monthly_income=_opt_num(d, "other_monthly_income", w),
            property_ok=_opt_bool(d, "property_ok", w),
            has_able_supporter=_opt_bool(d, "has_able_supporter", w),
            supporters=supporters,
            currently_receiving=list(receiving) if receiving is not None else None,
            emergency=Emergency.from_dict(emergency, "household.emergency.") if emergency is not None else None,
            monthly_rigid_expense=_opt_num(d, "monthly_rigid_expense", w),
            excluded_income={k: v for k, v in excluded.items() if v is not None},
            support_from_siblings_or_elderly=_opt_num(d, "support_from_siblings_or_elderly", w),
            months_above_standard=_opt_num(d, "months_above_standard", w, 0, 600, integer=True),
            exit_special_circumstances=_opt_bool(d, "exit_special_circumstances", w),
            hukou_local=_opt_bool(d, "hukou_local", w),
            residence_permit=_opt_bool(d, "residence_permit", w),
            urban_residence_years=_opt_num(d, "urban_residence_years", w, 0, 130),
            has_contracted_land=_opt_bool(d, "has_contracted_land", w),
            collective_income_share=_opt_bool(d, "collective_income_share", w),
            housing_difficulty=_opt_bool(d, "housing_difficulty", w),
        )


@dataclass(slots=True)
class Situation:
    jurisdiction: str
    as_of: date
    hukou: str | None = None
    standards: dict[str, float] = field(default_factory=dict)
    household: Household = field(default_factory=Household)

    @classmethod
    def from_dict(cls, d: dict[str, Any], today: date | None = None) -> Situation:
        if not isinstance(d, dict):
            raise InputError("body", "请求应当是一个对象")
        place = d.get("jurisdiction")
        if not place or not isinstance(place, str):
            raise InputError("jurisdiction", "请说明所在地区，例如“渠县”")
        try:
            canonical = normalize_place(place)
        except UnknownPlace:
            raise InputError("jurisdiction", f"未知的地区：{place}") from None
        as_of = d.get("as_of")
        if as_of is None:
            as_of = today or date.today()
        elif not isinstance(as_of, date):
            try:
                as_of = date.fromisoformat(str(as_of))
            except ValueError:
                raise InputError("as_of", "日期格式应为 YYYY-MM-DD") from None
        if as_of.year < 2014 or as_of.year > 2100:
            raise InputError("as_of", "日期超出可以判断的范围（2014 年以后）")
        hukou = _opt_enum(d, "hukou", "", HUKOU)
        standards = d.get("standards") or {}
        if not isinstance(standards, dict):
            raise InputError("standards", "应当是“名称: 数额”的对象")
        clean: dict[str, float] = {}
        for k in standards:
            if k not in STANDARD_KEYS:
                raise InputError(f"standards.{k}", f"不认识的标准名称，可用：{'、'.join(STANDARD_KEYS)}")
            hi = 10 if k == "rigid_expense_share" else (500_000 if k.endswith("annual") else 100_000)
            val = _opt_num(standards, k, "standards.", 0, hi)
            if val is not None:
                if val <= 0:
                    raise InputError(f"standards.{k}", "应当大于 0")
                clean[k] = val
        return cls(
            jurisdiction=canonical,
            as_of=as_of,
            hukou=hukou,
            standards=clean,
            household=Household.from_dict(d.get("household")),
        )
