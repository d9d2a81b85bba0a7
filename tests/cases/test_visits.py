"""Volunteers' home visits (主动发现): the checklist and risk table, the duplicate warning,
and the JSON calls the phone page makes (bot/cases/visits.py, bot/service/routers/visits.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

from bot.cases.household_match import Household, address_key, find_matches, name_key
from bot.cases.store import Case
from bot.cases.visit_rules import TABLE_FILE, assess, load_table, parse_table
from bot.config import PROJECT_ROOT
from tests.cases.conftest import login

KB = PROJECT_ROOT / "policy_kb"
TABLE = load_table(KB)


# ---------------------------------------------------------------- the table


def test_every_source_the_table_names_is_a_provision_of_the_knowledge_base():
    ids = {json.loads(line)["id"] for line in (KB / "provisions.jsonl").read_text(encoding="utf-8").splitlines()}
    named = [s for item in TABLE.groups for s in item.sources] + [s for r in TABLE.rules for s in r.sources]
    assert named and not set(named) - ids, sorted(set(named) - ids)
    assert all(r.sources for r in TABLE.rules), "every rule says what it rests on"


def test_the_checklist_holds_the_groups_the_documents_name():
    groups = TABLE.labels("groups")
    # 渠委办发〔2022〕26号 三（三）12: 收入较低、支出较大、重病重残、灾情、突发意外; 走访探视 分散供养特困; 巡访 children.
    for group in (
        "low_income",
        "heavy_spending",
        "illness_disability",
        "disaster_accident",
        "dispersed_tekun",
        "children",
    ):
        assert group in groups


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t["rules"].append({"level": "urgent", "reason": "x", "any": []}), "always fire"),
        (lambda t: t["rules"].append({"level": "urgent", "reason": "x", "any": ["no_such_sign"]}), "unknown ids"),
        (lambda t: t["rules"].append({"level": "soon", "reason": "x", "any": ["no_food"]}), "level"),
        (lambda t: t["signs"].append({"id": "orphan_sign", "label": "无规则"}), "no rule uses"),
        (lambda t: t["groups"].append(dict(t["groups"][0])), "repeated"),
    ],
)
def test_a_broken_table_is_refused_with_what_is_wrong(change, message):
    data = yaml.safe_load((KB / TABLE_FILE).read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ValueError, match=message):
        parse_table(data)


@pytest.mark.parametrize(
    "groups, signs, level",
    [
        (set(), {"no_food"}, "urgent"),
        (set(), {"child_alone"}, "urgent"),
        ({"elderly"}, {"no_carer"}, "urgent"),  # an old person alone who cannot look after themselves
        (set(), {"no_carer"}, "high"),
        (set(), {"unsafe_housing", "no_income"}, "high"),
        ({"dispersed_tekun"}, set(), "high"),  # a regular visit to a 分散供养 特困 person
        ({"low_income"}, set(), "normal"),
        (set(), set(), "normal"),
    ],
)
def test_the_risk_level_is_the_highest_any_rule_reaches(groups, signs, level):
    risk = assess(TABLE, groups, signs)
    assert risk.level == level
    if level != "normal":
        assert risk.reasons[0]["level"] == level and risk.reasons[0]["sources"]


# ---------------------------------------------------------------- is it the same household


def test_names_that_sound_alike_and_the_same_place_match():
    earlier = [
        ("GD1", Household("王晓明", "三汇镇红星村三组5号")),
        ("GD2", Household("王小明", "土溪镇东风村1组")),  # the same name in another village
        ("GD3", Household("李四", "三汇镇红星村3组")),
        ("GD4", Household("张大爷", "别处", "138 1234 5678")),  # the same phone, written differently
    ]
    found = find_matches(Household("汪小明", "三汇镇 红星村 3组", "13812345678"), earlier)
    assert [m.ref for m in found] == ["GD4", "GD1"]
    assert found[0].reason == "phone" and found[1].reason == "name_and_address"


def test_keys_ignore_tones_spaces_and_how_a_group_number_is_written():
    assert name_key("王晓明") == name_key("王 小明") == "wangxiaoming"
    assert address_key("三汇镇红星村十二组") == address_key("三汇镇 红星村 12组")
    assert address_key("三汇镇") != address_key("3汇镇")  # 三汇 is a name, not a number
    assert name_key("") is None and name_key("  ") is None


# ---------------------------------------------------------------- the phone page's calls


def visit(**kw) -> dict:
    base = {
        "draft_key": "d" + "1" * 31,
        "jurisdiction": "渠县",
        "township": "三汇镇",
        "village": "红星村",
        "group_no": "3组",
        "address": "5号",
        "name": "王晓明",
        "phone": "13812345678",
        "consent": "verbal",
        "groups": ["low_income", "illness_disability"],
        "signs": ["chronic_illness", "unsafe_housing"],
        "seen": "老人一个人住，房子漏雨",
        "facts": {"household_size": 2, "monthly_income": 300, "hukou": "rural"},
    }
    base.update(kw)
    return base


@pytest.fixture
def volunteer(client):
    return client, login(client, "vol")


def post(client, csrf, body, path="/v1/visits"):
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf})


def cases(app) -> list[Case]:
    with app.state.db.session() as s:
        return list(s.scalars(select(Case).order_by(Case.id)))


def test_a_visit_becomes_a_discovery_case_with_its_risk_screen_and_checklist(app, volunteer):
    client, csrf = volunteer
    r = post(client, csrf, visit())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] and body["risk"]["level"] == "high" and body["number"].startswith("GD")
    [case] = cases(app)
    assert case.number == body["number"] and case.type == "discovery" and case.priority == "high"
    assert case.created_by == "user:vol" and case.channel == "console" and case.contact["name"] == "王晓明"
    assert case.visit["place"] == {"township": "三汇镇", "village": "红星村", "group": "3组", "address": "5号"}
    assert case.visit["consent"]["how"] == "verbal" and case.visit["signs"] == ["chronic_illness", "unsafe_housing"]
    assert "房子漏雨" in case.summary and "风险等级：较高" in case.summary
    # The rough screen ran on the facts entered, and says it is not a decision.
    assert case.eligibility["source"] == "volunteer_visit" and "审核" in case.eligibility["disclaimer"]
    assert {r["program"] for r in body["screen"]["results"]} & {"dibao", "tekun", "dibao_edge"}


def test_sending_a_draft_again_returns_its_case_and_makes_no_second(app, volunteer):
    client, csrf = volunteer
    first = post(client, csrf, visit())
    again = post(client, csrf, visit())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"] and not again.json()["created"]
    assert len(cases(app)) == 1


def test_a_second_report_of_the_same_household_gets_a_warning_then_is_filed_when_confirmed(app, volunteer):
    client, csrf = volunteer
    first = post(client, csrf, visit()).json()["number"]
    second = visit(draft_key="d" + "2" * 31, name="汪小明", group_no="三组", address="", phone="")
    warned = post(client, csrf, second)
    assert warned.status_code == 409
    [dup] = warned.json()["duplicates"]
    assert (
        dup["number"] == first
        and dup["reason"] == "姓名和住址相近"
        and dup["mine"]
        and dup["place"] == "三汇镇红星村3组"
    )
    assert len(cases(app)) == 1  # nothing filed on a warning
    # The preview says the same without filing.
    assert post(client, csrf, second, "/v1/visits/check").json()["duplicates"][0]["number"] == first
    filed = post(client, csrf, {**second, "file_anyway": True})
    assert filed.status_code == 201
    new = cases(app)[-1]
    assert new.visit["possible_duplicates"] == [first] and first in new.summary


def test_an_urgent_visit_is_an_urgent_case_at_once_even_when_it_may_be_a_duplicate(app, volunteer):
    client, csrf = volunteer
    post(client, csrf, visit())
    r = post(client, csrf, visit(draft_key="d" + "3" * 31, signs=["no_food"], groups=["elderly"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["risk"]["level"] == "urgent" and body["duplicates"] and "110" in body["advice"]
    urgent = cases(app)[-1]
    assert urgent.type == "urgent" and urgent.priority == "urgent"


def test_a_draft_written_offline_keeps_the_time_it_was_written(app, volunteer):
    client, csrf = volunteer
    written = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    r = post(client, csrf, visit(drafted_at=written.isoformat()))
    assert r.status_code == 201
    assert cases(app)[0].created_at == written.replace(tzinfo=None)


def test_a_drafted_time_that_is_not_a_time_is_dropped_and_the_case_page_still_shows_the_visit(app, volunteer):
    client, csrf = volunteer
    number = post(client, csrf, visit(drafted_at="yesterday-ish")).json()["number"]
    [case] = cases(app)
    assert case.visit["drafted_at"] is None
    op = client.__class__(app)
    login(op, "sup")
    page = op.get(f"/console/cases/{number}")
    assert page.status_code == 200
    assert "走访情况" in page.text and "长期生病、缺药" in page.text and "当面口头同意" in page.text


def test_the_volunteer_sees_the_status_of_their_own_reports_only(app, client):
    csrf = login(client, "vol")
    number = post(client, csrf, visit()).json()["number"]
    [row] = client.get("/v1/visits/mine").json()["reports"]
    assert row["number"] == number and row["status_text"] == "已上报，等待工作人员处理"
    assert row["household"] != "王晓明" and row["household"].startswith("王")  # masked
    desk, people = app.state.case_desk, app.state.people
    desk.claim_next(people.op1)
    desk.change_status(number, "in_progress", people.op1)
    assert client.get("/v1/visits/mine").json()["reports"][0]["status_text"] == "工作人员正在核实"
    # Another user's list does not hold it, and their copy of the draft key cannot read it.
    other = client.__class__(app)
    other_csrf = login(other, "op2")
    assert all(r["number"] != number for r in other.get("/v1/visits/mine").json()["reports"])
    stolen = post(other, other_csrf, visit())
    assert stolen.status_code == 409 and number not in stolen.text


@pytest.mark.parametrize(
    "change, field",
    [
        ({"consent": ""}, "同意"),
        ({"township": ""}, "乡镇"),
        ({"jurisdiction": "火星"}, "地区"),
        ({"signs": ["flying"]}, "不认识"),
        ({"name": "", "phone": "", "address": ""}, "姓名、电话"),
        ({"signs": [], "groups": [], "seen": ""}, "看到的情况"),
    ],
)
def test_an_incomplete_report_is_refused_with_what_to_fix_and_files_nothing(app, volunteer, change, field):
    client, csrf = volunteer
    r = post(client, csrf, visit(**change))
    assert r.status_code == 422 and field in r.json()["detail"]
    assert cases(app) == []


def test_malformed_and_oversized_reports_are_refused(app, volunteer):
    client, csrf = volunteer
    for bad in (
        visit(facts={"household_size": 0}),
        visit(facts={"monthly_income": -5}),
        visit(seen="很" * 2001),
        visit(draft_key="../../etc"),
        {**visit(), "role": "admin"},
    ):
        assert post(client, csrf, bad).status_code == 422
    r = client.post(
        "/v1/visits", content=b"{not json", headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert cases(app) == []


def test_without_the_pages_csrf_token_nothing_is_filed(app, volunteer):
    client, _ = volunteer
    assert client.post("/v1/visits", json=visit()).status_code == 403
    assert cases(app) == []


def test_the_case_page_shows_the_visit_and_masks_the_house_for_others(app, volunteer):
    client, csrf = volunteer
    number = post(client, csrf, visit()).json()["number"]
    desk, people = app.state.case_desk, app.state.people
    other = desk.get(number, people.op2)  # not the handler
    assert other["visit"]["signs"] == ["chronic_illness", "unsafe_housing"]
    assert other["visit"]["place"]["address"] != "5号" and "王晓明" not in json.dumps(other, ensure_ascii=False)


def test_the_page_carries_the_checklist_and_the_rule_table(volunteer):
    client, _ = volunteer
    page = client.get("/console/visit")
    assert page.status_code == 200
    for item in (*TABLE.groups, *TABLE.signs, *TABLE.consent):
        assert item.label in page.text
    assert json.dumps(TABLE.for_page(), ensure_ascii=False) in page.text


def test_a_volunteer_lands_on_the_visit_page(client):
    import re

    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/console/login",
        data={"username": "vol", "password": "correct-horse-42", "login_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/visit"
