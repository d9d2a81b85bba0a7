"""The queue page and the queue API over HTTP: paging links, filters kept across pages, 422 for
values we do not know, phone search that never shows a full number to who may not see it, tel:
links only for whole numbers, and assignment from the list of active operators (CSRF as before)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.cases import accounts
from bot.cases.desk import BOT, SYSTEM, CaseDesk
from tests.cases.conftest import login, new_case

PHONE = "13812345678"


def desk_of(app) -> CaseDesk:
    return CaseDesk(app.state.db)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', html)


def test_the_queue_pages_with_its_filters_kept(app, client):
    desk = desk_of(app)
    for i in range(55):
        desk.create_case(new_case(type="urgent" if i % 5 == 0 else "consultation", sender_id=f"c{i}"), BOT)
    login(client, "op1")
    first = client.get("/console?queue=unassigned")
    assert first.status_code == 200 and len(rows(first.text)) == 50
    assert "第 1 页，共 2 页（55 张）" in first.text and "上一页" not in first.text
    second = client.get(re.search(r'href="([^"]+)" id="page-next"', first.text)[1].replace("&amp;", "&"))
    assert len(rows(second.text)) == 5 and "下一页" not in second.text and 'id="page-previous"' in second.text
    assert not set(rows(first.text)) & set(rows(second.text))
    # Past the last page: the last page. Filters stay in the links.
    assert rows(client.get("/console?queue=unassigned&page=9").text) == rows(second.text)
    urgent = client.get("/console?queue=unassigned&type=urgent&place=达州")
    assert len(rows(urgent.text)) == 11 and '（<span id="total">11</span>）' in urgent.text
    assert 'value="urgent" selected' in urgent.text and 'value="达州市" selected' in urgent.text


def test_unknown_filter_values_are_a_422_in_chinese(client):
    login(client, "op1")
    for query, words in [
        ("type=nope", "没有这种工单类型"),
        ("place=成都", "没有这个地区"),
        ("priority=asap", "没有这种优先级"),
        ("status=x", "没有这种状态"),
        ("hotline=110", "没有这种热线"),
        ("page=-1", "页码不正确"),
        ("page=abc", "页码不正确"),
        ("q=123", "电话后四位"),
        ("pt=forged", "重新输入电话号码"),
    ]:
        r = client.get(f"/console?{query}")
        assert r.status_code == 422, query
        assert words in r.text and 'id="filter-error"' in r.text


def test_a_phone_search_never_puts_the_number_in_the_page(app, client):
    desk = desk_of(app)
    number = desk.create_case(new_case(contact={"name": "张三", "phone": PHONE}), BOT)[0]["number"]
    desk.create_case(new_case(contact={"name": "李四", "phone": "13900000000"}), BOT)
    login(client, "op1")
    r = client.get(f"/console?queue=all&q={PHONE}", follow_redirects=False)
    assert r.status_code == 303 and PHONE not in r.headers["location"]
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["q"] == ["138****5678"] and query["pt"]
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and rows(page.text) == [number]
    assert PHONE not in page.text and "138****5678" in page.text and "tel:" not in page.text
    assert rows(client.get("/console?queue=all&q=5678").text) == [number]
    assert rows(client.get("/console?queue=all&q=张").text) == [number]
    assert rows(client.get(f"/console?queue=all&q={number.lower()}").text) == [number]
    # Another number in the text of a name search is masked in the box's echo too.
    assert PHONE not in client.get(f"/console?queue=all&q=张三{PHONE}").text


def test_the_supervisor_sees_the_whole_number_as_a_tel_link(app, client):
    desk = desk_of(app)
    number = desk.create_case(new_case(contact={"name": "张三", "phone": PHONE}), BOT)[0]["number"]
    login(client, "sup")
    page = client.get("/console?queue=all")
    assert f'<a href="tel:{PHONE}">{PHONE}</a>' in page.text
    case = client.get(f"/console/cases/{number}")
    assert f'href="tel:{PHONE}"' in case.text
    # The search box still shows a typed number masked.
    searched = client.get(f"/console?queue=all&q={PHONE}")
    assert 'value="138****5678"' in searched.text


def test_an_operator_not_handling_the_case_gets_no_tel_link(app, client):
    number = desk_of(app).create_case(new_case(contact={"phone": PHONE}), BOT)[0]["number"]
    login(client, "op1")
    case = client.get(f"/console/cases/{number}")
    assert "138****5678" in case.text and "tel:" not in case.text and PHONE not in case.text


def test_the_queue_api_pages_filters_and_refuses(app, client):
    desk = desk_of(app)
    made = [desk.create_case(new_case(sender_id=f"c{i}"), BOT)[0]["number"] for i in range(5)]
    desk.create_case(new_case(type="urgent", sender_id="u"), BOT)
    login(client, "sup")
    body = client.get("/v1/cases?queue=unassigned&type=consultation&limit=2&offset=2").json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)
    assert [c["number"] for c in body["cases"]] == made[2:4]
    assert client.get("/v1/cases?type=nope").status_code == 422
    assert client.get("/v1/cases?limit=501").status_code == 422
    r = client.get("/v1/cases?place=成都")
    assert r.status_code == 422 and "没有这个地区" in r.json()["detail"]
    assert client.get("/v1/cases?q=5678&queue=all").json()["total"] == 6


def test_assignment_from_the_list_of_active_operators(app, client):
    people = app.state.people
    desk = desk_of(app)
    number = desk.create_case(new_case(), BOT)[0]["number"]
    with app.state.db.session() as s:
        accounts.deactivate(s, SYSTEM, "op2")
        s.commit()
    csrf = login(client, "sup")
    page = client.get(f"/console/cases/{number}").text
    select = re.search(r'<select name="user_id".*?</select>', page, re.S)[0]
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', select)}
    assert offered == {people.op1.user_id, people.sup.user_id}  # not op2 (inactive), the volunteer, the admin
    assert "王芳（话务员）" in select

    # Without the CSRF token: refused, nothing changes.
    r = client.post(f"/console/cases/{number}/assign", data={"user_id": people.op1.user_id}, follow_redirects=False)
    assert r.status_code == 403 and desk.get(number, people.sup)["assignee"] is None
    # An id not in the list (inactive, volunteer): refused with a message.
    for user_id in (people.op2.user_id, people.vol.user_id, 999999):
        r = client.post(f"/console/cases/{number}/assign", data={"csrf_token": csrf, "user_id": user_id})
        assert "没有这个在岗的话务员" in r.text and desk.get(number, people.sup)["assignee"] is None
    r = client.post(f"/console/cases/{number}/assign", data={"csrf_token": csrf, "user_id": people.op1.user_id})
    assert "已分派给 王芳" in r.text and desk.get(number, people.sup)["assignee"] == "op1"


def test_operators_cannot_assign_and_volunteers_have_no_queue(app, client):
    people = app.state.people
    number = desk_of(app).create_case(new_case(), BOT)[0]["number"]
    csrf = login(client, "op1")
    assert 'name="user_id"' not in client.get(f"/console/cases/{number}").text
    r = client.post(
        f"/console/cases/{number}/assign",
        data={"csrf_token": csrf, "user_id": people.op1.user_id},
        follow_redirects=False,
    )
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "vol")
    r = client.get("/console?q=5678", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/report"
