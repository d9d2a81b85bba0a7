"""Eligibility screen endpoint: ``POST /v1/screen``.

Thin adapter over ``bot.eligibility.screen``: the pydantic schemas below are the public
contract (field names as in the issue; fields may be added, never renamed). Every fact
is optional — a missing fact makes a program ``need_info``, never ``unlikely``.

``missing`` items are ``{"fact": "<path>", "question": "<中文问题>", "for": "status"|"estimate"}``
where ``fact`` is a path into this request (``household.members``,
``members[0].monthly_income``, ``household.property_ok``, ``hukou``,
``standards.dibao_monthly`` …), so a chatbot can ask exactly for it and send it back.

Impossible input (negative income, age 300, unknown place, wrong enum value) → 422 with a
Chinese message naming the field (the app's validation handler formats it).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from bot.eligibility import InputError
from bot.eligibility import screen as run_screen
from bot.eligibility.entities import MAX_AGE, MAX_MONEY, RECEIVABLE_PROGRAMS, STANDARD_KEYS
from bot.eligibility.parameters import OVERRIDES_FILENAME, ParameterSet, get_parameters
from bot.kb.citation import Citation
from bot.places import UnknownPlace, normalize_place
from bot.service.errors import refusals

router = APIRouter(prefix="/v1", tags=["eligibility"])


def _money(v: float | None) -> float | None:
    if v is None:
        return v
    if v < 0:
        raise ValueError("金额不能是负数")
    if v > MAX_MONEY:
        raise ValueError(f"金额太大（不能超过 {MAX_MONEY} 元）")
    return v


def _age(v: int | None) -> int | None:
    if v is None:
        return v
    if v < 0 or v > MAX_AGE:
        raise ValueError(f"年龄应在 0 到 {MAX_AGE} 岁之间")
    return v


def _grade(v: int | None) -> int | None:
    if v is not None and not 1 <= v <= 4:
        raise ValueError("残疾等级应为 1 到 4 级")
    return v


Money = Annotated[float | None, AfterValidator(_money)]
Age = Annotated[int | None, AfterValidator(_age)]
Grade = Annotated[int | None, AfterValidator(_grade)]
Relation = Literal["self", "spouse", "child", "parent", "sibling", "grandparent", "grandchild", "other"]
DisabilityType = Literal["none", "limb", "visual", "hearing", "speech", "intellectual", "mental", "multiple"]
ProgramId = Literal[RECEIVABLE_PROGRAMS]  # the engine's list (bot/eligibility/entities.py), spelled once


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Member(_In):
    """A 共同生活家庭成员. Every field optional: leave out what the resident has not said."""

    relation: Relation | None = Field(None, description="与申请人关系")
    age: Age = Field(None, description="周岁")
    disability_type: DisabilityType | None = Field(None, description="残疾类别；none 表示没有残疾")
    disability_grade: Grade = Field(None, description="残疾等级 1（最重）…4")
    serious_illness: bool | None = Field(None, description="重病患者（重特大疾病，或自负医疗费超过上年家庭总收入）")
    labor_capacity: Literal["full", "partial", "none"] | None = Field(None, description="劳动能力")
    employed: bool | None = Field(None, description="目前是否就业")
    monthly_income: Money = Field(None, description="本人每月收入（元），不含不计入收入的项目")
    in_school: bool | None = Field(None, description="是否在读（含幼儿园）")
    parents_situation: Literal["normal", "orphan", "de_facto_unsupported", "lost_contact"] | None = Field(
        None, description="未成年人的父母情况"
    )
    parent_lost_contact_months: int | None = Field(None, ge=0, le=1200, description="父母失联月数")


class Supporter(_In):
    """A legal supporter (法定赡养、抚养、扶养义务人), for 特困."""

    relation: Relation | None = None
    age: Age = None
    able: bool | None = Field(None, description="直接告知：是否有履行义务的能力")
    is_tekun: bool | None = None
    receives_dibao: bool | None = None
    disability_type: DisabilityType | None = None
    disability_grade: Grade = None
    monthly_income: Money = None
    property_ok: bool | None = None
    incapacitated: bool | None = Field(None, description="无民事行为能力、被宣告失踪或在监狱服刑")


class Emergency(_In):
    type: (
        Literal[
            "none",
            "fire",
            "traffic_accident",
            "accident",
            "sudden_illness",
            "disaster",
            "unemployment",
            "expense_surge",
            "other",
        ]
        | None
    ) = Field(None, description="急难类型；none 表示没有")
    description: str | None = Field(None, max_length=2000)
    duration_months: int | None = Field(None, ge=0, le=120, description="困难预计持续月数")
    urgent: bool | None = None
    persons_affected: int | None = Field(None, ge=1, le=100)
    assistance_received_this_year: Money = Field(None, description="今年已领临时救助（元）")


class HouseholdIn(_In):
    members: list[Member] | None = Field(None, max_length=30)
    other_monthly_income: Money = Field(None, description="成员收入以外的家庭月收入（元）")
    property_ok: bool | None = Field(None, description="财产是否符合当地规定")
    has_able_supporter: bool | None = Field(None, description="是否有有能力的法定义务人")
    supporters: list[Supporter] | None = Field(None, max_length=30)
    currently_receiving: list[ProgramId] | None = None
    emergency: Emergency | None = None
    monthly_rigid_expense: Money = Field(None, description="每月医疗、教育等必需支出（元）")
    excluded_income: (
        dict[Literal["basic_pension", "special_care", "family_planning", "awards", "assistance_payments"], Money] | None
    ) = Field(None, description="不计入收入的项目及月金额（只用于说明）")
    support_from_siblings_or_elderly: Money = Field(
        None, description="兄弟姐妹或60岁以上老人给重度残疾成员的供养费（元/月）"
    )
    months_above_standard: int | None = Field(None, ge=0, le=600, description="就业后收入超过低保标准的月数")
    exit_special_circumstances: bool | None = None
    hukou_local: bool | None = Field(None, description="户籍是否在本地")
    residence_permit: bool | None = Field(None, description="是否持有本地居住证")
    urban_residence_years: float | None = Field(None, ge=0, le=130)
    has_contracted_land: bool | None = None
    collective_income_share: bool | None = None
    housing_difficulty: bool | None = None


class ScreenRequest(_In):
    jurisdiction: str = Field(
        ..., min_length=1, max_length=50, description="地区名，如“渠县”“达州”“会宁县”", examples=["渠县"]
    )
    as_of: date | None = Field(None, description="按哪天的政策判断，默认今天")
    hukou: Literal["urban", "rural"] | None = None
    standards: dict[str, float] | None = Field(
        None,
        description="用户提供的当地数额（仅在当地未录入官方数额时使用）："
        + "；".join(f"{k} {v}" for k, v in STANDARD_KEYS.items()),
        examples=[{"dibao_monthly": 700}],
    )
    household: HouseholdIn | None = None

    @field_validator("jurisdiction")
    @classmethod
    def _place(cls, v: str) -> str:
        try:
            return normalize_place(v)
        except UnknownPlace:
            raise ValueError(f"未知的地区：{v}") from None

    @field_validator("standards")
    @classmethod
    def _standards(cls, v: dict | None) -> dict | None:
        for k, x in (v or {}).items():
            if k not in STANDARD_KEYS:
                raise ValueError(f"不认识的标准名称 {k}，可用：{'、'.join(STANDARD_KEYS)}")
            if x is None or x <= 0:
                raise ValueError(f"{k} 应当大于 0")
        return v


class ExplanationItem(BaseModel):
    test: str
    passed: bool | None = Field(None, description="true 符合，false 不符合，null 还不知道")
    kind: Literal["condition", "info"] = Field(..., description="condition 决定结果；info 只是说明")
    text: str
    citation: Citation | None
    parameters: dict[str, Any] = Field(default_factory=dict, description="用到的参数：值、单位、来源、生效日期")


class MissingFact(BaseModel):
    fact: str = Field(..., examples=["members[0].monthly_income"])
    question: str = Field(..., examples=["您本人每月收入大约多少元？没有收入就说 0。"])
    for_: Literal["status", "estimate"] = Field(..., alias="for")
    programs: list[str] | None = None


class Estimate(BaseModel):
    amount: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str
    formula: str


class ProgramResult(BaseModel):
    program: str
    name: str
    status: Literal["likely", "unlikely", "need_info"]
    status_text: str
    summary: str
    explanation: list[ExplanationItem]
    missing: list[MissingFact]
    estimate: Estimate | None
    ruleset_version: str
    disclaimer: str


class ScreenResponse(BaseModel):
    ruleset_version: str
    as_of: date
    jurisdiction: str
    jurisdiction_path: list[str]
    per_capita_income: float | None = Field(None, description="家庭人均月收入（确定时）")
    per_capita_income_range: list[float | None] | None = Field(
        None, description="[下限, 上限]，上限 null 表示还有收入没说"
    )
    results: list[ProgramResult]
    missing: list[MissingFact]
    next_steps: list[str]
    disclaimer: str


def screen_parameters(app) -> ParameterSet:
    """The parameters of this app's settings; reloaded when an office changes a local value."""
    cfg = app.state.settings
    return get_parameters(Path(cfg.policy_kb_dir) / "parameters", Path(cfg.data_dir) / OVERRIDES_FILENAME)


@router.post(
    "/screen",
    response_model=ScreenResponse,
    summary="初步判断可能符合哪些社会救助（不是审批结论）",
    responses=refusals(422, _422="输入有误：中文说明哪个字段、为什么"),
)
async def screen(body: ScreenRequest, request: Request) -> Response:
    data = body.model_dump(exclude_none=False)
    try:
        answer = run_screen(data, pset=screen_parameters(request.app))
    except InputError as exc:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", *exc.field.replace("[", ".").replace("]", "").split(".")),
                    "msg": exc.message,
                    "type": "value_error",
                    "ctx": {"error": exc.message},
                }
            ]
        ) from None
    # The engine's answer already has the documented shape; skip re-validation for speed.
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")), media_type="application/json")
