"""POST /v1/screen through the FastAPI app: the contract, OpenAPI, and Chinese 422s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.eligibility import DISCLAIMER
from bot.service.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("screen_data")
    app = create_app(Settings(data_dir=data))
    with TestClient(app) as c:
        yield c


GOOD = {
    "jurisdiction": "渠县",
    "as_of": "2026-09-01",
    "hukou": "rural",
    "standards": {"dibao_monthly": 700},
    "household": {
        "members": [
            {
                "relation": "self",
                "age": 45,
                "disability_type": "none",
                "serious_illness": False,
                "labor_capacity": "full",
                "employed": False,
                "monthly_income": 500,
            }
        ],
        "other_monthly_income": 0,
        "property_ok": True,
        "has_able_supporter": True,
        "currently_receiving": [],
        "emergency": {"type": "none", "description": ""},
        "monthly_rigid_expense": 0,
    },
}


def test_screen_contract(client):
    r = client.post("/v1/screen", json=GOOD)
    assert r.status_code == 200, r.text
    j = r.json()
    assert set(j) >= {
        "ruleset_version",
        "as_of",
        "jurisdiction_path",
        "per_capita_income",
        "results",
        "next_steps",
        "disclaimer",
    }
    assert j["jurisdiction_path"] == ["渠县", "达州市", "四川省", "全国"] and j["per_capita_income"] == 500
    by = {x["program"]: x for x in j["results"]}
    assert by["dibao"]["status"] == "likely" and by["dibao"]["estimate"]["amount"] == 200
    for x in j["results"]:
        assert set(x) >= {"program", "status", "explanation", "missing", "estimate"}
        assert x["disclaimer"] == DISCLAIMER
        for e in x["explanation"]:
            assert set(e) >= {"test", "passed", "text", "citation"}


def test_screen_missing_facts_are_machine_readable(client):
    r = client.post("/v1/screen", json={"jurisdiction": "巴中"})
    assert r.status_code == 200
    j = r.json()
    facts = {m["fact"]: m for m in j["missing"]}
    assert "household.members" in facts and facts["household.members"]["question"].startswith("您家一共几口人")
    assert all(x["status"] == "need_info" for x in j["results"] if x["program"] in ("dibao", "tekun"))


def test_openapi_documents_the_schemas(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/screen" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert {"ScreenRequest", "ScreenResponse", "Member", "HouseholdIn", "MissingFact"} <= set(schemas)
    assert {
        "relation",
        "age",
        "disability_type",
        "disability_grade",
        "serious_illness",
        "labor_capacity",
        "employed",
        "monthly_income",
    } <= set(schemas["Member"]["properties"])


@pytest.mark.parametrize(
    "body, field, needle",
    [
        ({"jurisdiction": "火星"}, "jurisdiction", "未知的地区"),
        ({"jurisdiction": "渠县", "household": {"members": [{"age": 300}]}}, "household.members.0.age", "年龄"),
        (
            {"jurisdiction": "渠县", "household": {"members": [{"monthly_income": -1}]}},
            "household.members.0.monthly_income",
            "负数",
        ),
        ({"jurisdiction": "渠县", "household": {"other_monthly_income": -5}}, "household.other_monthly_income", "负数"),
        (
            {"jurisdiction": "渠县", "household": {"members": [{"labor_capacity": "some"}]}},
            "household.members.0.labor_capacity",
            "取值",
        ),
        (
            {"jurisdiction": "渠县", "household": {"members": [{"disability_grade": 7}]}},
            "household.members.0.disability_grade",
            "残疾等级",
        ),
        ({"jurisdiction": "渠县", "hukou": "city"}, "hukou", "取值"),
        ({"jurisdiction": "渠县", "as_of": "2026-02-30"}, "as_of", ""),
        ({"jurisdiction": "渠县", "standards": {"dibao_monthly": -700}}, "standards", "大于 0"),
        ({"jurisdiction": "渠县", "standards": {"dibao": 700}}, "standards", "不认识"),
        (
            {"jurisdiction": "渠县", "household": {"currently_receiving": ["lottery"]}},
            "household.currently_receiving.0",
            "取值",
        ),
        ({"jurisdiction": "渠县", "household": {"members": [{"age": "abc"}]}}, "household.members.0.age", "数字"),
        (
            {"jurisdiction": "渠县", "household": {"members": [{"disability_type": "none", "disability_grade": 2}]}},
            "household.members.0.disability_grade",
            "没有残疾",
        ),
        ({"household": {}}, "jurisdiction", "缺少"),
    ],
)
def test_screen_422_in_chinese(client, body, field, needle):
    r = client.post("/v1/screen", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert field in detail and needle in detail, detail


def test_screen_uses_local_parameters_set_by_the_office(tmp_path):
    from bot.eligibility.admin import set_parameter

    app = create_app(Settings(data_dir=tmp_path))
    body = {
        "jurisdiction": "渠县",
        "as_of": "2026-09-01",
        "hukou": "rural",
        "household": {
            "members": [{"relation": "self", "age": 45, "monthly_income": 450, "employed": False}],
            "other_monthly_income": 0,
            "property_ok": True,
        },
    }
    with TestClient(app) as c:
        first = c.post("/v1/screen", json=body).json()
        dibao = next(x for x in first["results"] if x["program"] == "dibao")
        assert dibao["status"] == "need_info"
        assert any(m["fact"] == "standards.dibao_monthly" for m in dibao["missing"])
        set_parameter(
            name="dibao_monthly_rural",
            jurisdiction="渠县",
            value=700,
            effective="2026-01-01",
            source="渠县民政局 渠民发〔2026〕1号",
            set_by="张三",
            data_dir=tmp_path,
        )
        second = c.post("/v1/screen", json=body).json()
        dibao = next(x for x in second["results"] if x["program"] == "dibao")
        assert dibao["status"] == "likely" and dibao["estimate"]["amount"] == 250
        assert second["ruleset_version"] != first["ruleset_version"]
