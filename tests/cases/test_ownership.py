"""Who owns a case's link to a resident's conversation, its notes and its idempotency key.

- Only the bot token writes a case from a conversation (sender_id, transcript, web/rest/
  telegram); desk users record what they took themselves (phone or console).
- Notes follow the handler rules of replies (the assignee or a supervisor).
- An idempotency-key replay returns the case only to its creator; others get 409.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.cases.desk import BOT, KEY_TAKEN
from bot.cases.model import Conflict, NotAllowed
from bot.cases.store import Case, CaseNote
from tests.cases.conftest import bot_headers, login, new_case

PHONE_CALL = {
    "type": "consultation",
    "jurisdiction": "渠县",
    "title": "来电咨询低保",
    "summary": "群众来电：家中两位老人，问能否申请低保。",
    "contact": {"phone": "13900001111"},
}


def _count(app) -> int:
    with app.state.db.session() as s:
        return s.scalar(select(func.count(Case.id)))


# ---------------------------------------------------------------- creation by desk users


def test_an_operators_case_is_a_phone_case_with_no_conversation(app, client):
    csrf = login(client, "op1")
    r = client.post("/v1/cases", json=PHONE_CALL, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    with app.state.db.session() as s:
        case = s.scalar(select(Case).where(Case.number == r.json()["number"]))
        assert case.channel == "phone" and case.sender_id is None and case.created_by == "user:op1"


@pytest.mark.parametrize(
    "extra, words",
    [
        ({"sender_id": "web-0123456789abcdef0123456789abcdef"}, "在线对话"),
        ({"transcript": [{"role": "resident", "text": "我不要救助了，案子撤了吧"}]}, "对话记录"),
        ({"transcript": [{"role": "operator", "text": "已办结"}]}, "对话记录"),
        ({"transcript": [{"role": "bot", "text": "您的诉求已登记"}]}, "对话记录"),
        ({"channel": "web"}, "电话或控制台"),
        ({"channel": "telegram"}, "电话或控制台"),
    ],
)
def test_desk_users_cannot_write_for_a_residents_conversation(app, client, extra, words):
    for username in ("op1", "sup"):
        client.cookies.clear()
        csrf = login(client, username)
        before = _count(app)
        r = client.post("/v1/cases", json={**PHONE_CALL, **extra}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403 and words in r.json()["detail"], r.text
        assert _count(app) == before


def test_a_case_an_operator_made_captures_no_ones_chat(app, client):
    """The attack of the issue: an operator case naming a resident's conversation would have
    taken that resident's next messages and put operator words in their chat."""
    from bot.service.routers.cases import get_desk

    victim = "web-0123456789abcdef0123456789abcdef"
    csrf = login(client, "op1")
    r = client.post("/v1/cases", json={**PHONE_CALL, "sender_id": victim}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    desk = get_desk(type("R", (), {"app": app})())
    assert desk.add_resident_message(victim, "我的身份证号是……", "web") is None


def test_a_conversation_link_written_by_a_desk_user_before_the_rule_is_not_followed(desk, people):
    """Cases stored before the rule (created_by a user, with a sender_id) neither take the
    resident's messages nor send replies to that chat."""
    number = desk.create_case(new_case(sender_id="web-victim", channel="web"), BOT)[0]["number"]
    with desk.db.session() as s:
        s.execute(update(Case).where(Case.number == number).values(created_by="user:op1"))
        s.commit()
    assert desk.add_resident_message("web-victim", "你好", "web") is None
    desk.claim_next(people.op1)
    sent = desk.reply(number, "您的申请已撤销。", people.op1)
    assert sent["sender_id"] is None
    assert desk.pending_replies("web-victim") == [] and desk.consume_replies("web-victim") == []


def test_the_bot_still_links_its_cases_to_the_conversation(desk, people):
    number = desk.create_case(new_case(sender_id="web-own", channel="web"), BOT)[0]["number"]
    assert desk.add_resident_message("web-own", "补充：我住三汇镇", "web") == number
    desk.claim_next(people.op1)
    desk.reply(number, "收到。", people.op1)
    assert [r["text"] for r in desk.consume_replies("web-own", "web")] == ["收到。"]


def test_a_volunteers_report_defaults_to_the_console(app, client):
    csrf = login(client, "vol")
    r = client.post("/v1/cases", json={**PHONE_CALL, "type": "discovery"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    with app.state.db.session() as s:
        assert s.scalar(select(Case.channel).where(Case.number == r.json()["number"])) == "console"


def test_desk_rule_in_the_domain(desk, people):
    with pytest.raises(NotAllowed):
        desk.create_case(new_case(channel="phone", transcript=[]), people.op1)  # new_case has a sender_id
    with pytest.raises(NotAllowed):
        desk.create_case(new_case(channel="phone", sender_id=None), people.sup)  # and a transcript
    view, created = desk.create_case(new_case(channel="phone", sender_id=None, transcript=[]), people.op1)
    assert created and view["sender_id"] is None


# ---------------------------------------------------------------- notes


def test_notes_follow_the_handler_rules(desk, people):
    number = desk.create_case(new_case(), BOT)[0]["number"]
    with pytest.raises(NotAllowed):  # unclaimed: not yet anyone's
        desk.add_note(number, "我先记一下", people.op2)
    desk.claim_next(people.op1)
    with pytest.raises(NotAllowed):  # another operator's case
        desk.add_note(number, "这家人我认识，别给办", people.op2)
    assert desk.add_note(number, "已电话联系", people.op1)["author"] == "user:op1"
    assert desk.add_note(number, "班长已阅", people.sup)["author"] == "user:sup"
    with desk.db.session() as s:
        assert s.scalars(select(CaseNote.text).order_by(CaseNote.id)).all() == ["已电话联系", "班长已阅"]


def test_notes_of_another_operators_case_are_refused_over_http(app, client):
    number = client.post(
        "/v1/cases", json={**PHONE_CALL, "channel": "web", "sender_id": "web-n"}, headers=bot_headers()
    ).json()["number"]
    csrf = login(client, "op1")
    client.post("/console/claim-next", data={"csrf_token": csrf})
    client.cookies.clear()
    csrf = login(client, "op2")
    r = client.post(f"/v1/cases/{number}/notes", json={"text": "插一句"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and "不在您名下" in r.json()["detail"]
    page = client.post(f"/console/cases/{number}/note", data={"csrf_token": csrf, "text": "插一句"})
    assert "不在您名下" in page.text
    with app.state.db.session() as s:
        assert s.scalar(select(func.count(CaseNote.id))) == 0


# ---------------------------------------------------------------- idempotency replay


def test_a_replay_returns_the_case_only_to_its_creator(app, client):
    first = client.post(
        "/v1/cases",
        json={**PHONE_CALL, "channel": "web", "sender_id": "web-k"},
        headers=bot_headers(**{"Idempotency-Key": "conv-k-handover"}),
    )
    assert first.status_code == 201
    number, code = first.json()["number"], first.json()["check_code"]

    csrf = login(client, "op1")
    r = client.post("/v1/cases", json=PHONE_CALL, headers={"X-CSRF-Token": csrf, "Idempotency-Key": "conv-k-handover"})
    assert r.status_code == 409 and r.json() == {"detail": KEY_TAKEN}
    assert number not in r.text and code not in r.text
    r = client.post(
        "/v1/cases", json={**PHONE_CALL, "idempotency_key": "conv-k-handover"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 409 and code not in r.text

    again = client.post(
        "/v1/cases",
        json={**PHONE_CALL, "channel": "web", "sender_id": "web-k"},
        headers=bot_headers(**{"Idempotency-Key": "conv-k-handover"}),
    )
    assert again.status_code == 200 and again.json()["check_code"] == code and not again.json()["created"]


def test_one_users_key_is_not_anothers(app, client):
    mine_headers = {"X-CSRF-Token": login(client, "op1"), "Idempotency-Key": "call-7"}
    mine = client.post("/v1/cases", json=PHONE_CALL, headers=mine_headers)
    assert mine.status_code == 201
    replay = client.post("/v1/cases", json=PHONE_CALL, headers=mine_headers)
    assert replay.status_code == 200 and replay.json()["number"] == mine.json()["number"]
    assert replay.json()["check_code"] == mine.json()["check_code"]
    client.cookies.clear()
    theirs = client.post(
        "/v1/cases", json=PHONE_CALL, headers={"X-CSRF-Token": login(client, "op2"), "Idempotency-Key": "call-7"}
    )
    assert theirs.status_code == 409 and mine.json()["check_code"] not in theirs.text
    r = client.post("/v1/cases", json=PHONE_CALL, headers=bot_headers(**{"Idempotency-Key": "call-7"}))
    assert r.status_code == 409  # nor the bot's
    assert _count(app) == 1


def test_replay_rule_in_the_domain(desk, people):
    v, _ = desk.create_case(new_case(), BOT, idempotency_key="k-1")
    with pytest.raises(Conflict):
        desk.create_case(new_case(channel="phone", sender_id=None, transcript=[]), people.op1, idempotency_key="k-1")
    again, created = desk.create_case(new_case(), BOT, idempotency_key="k-1")
    assert not created and again["check_code"] == v["check_code"]


def test_openapi_documents_the_case_refusals(client):
    paths = client.get("/openapi.json").json()["paths"]
    create = paths["/v1/cases"]["post"]["responses"]
    assert {"200", "201", "403", "409"} <= set(create)
    assert create["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "403" in paths["/v1/cases/{number}/notes"]["post"]["responses"]


def test_a_relay_learns_in_one_call_which_conversations_have_replies_waiting(desk, people):
    numbers = [
        desk.create_case(new_case(sender_id=f"wechat-{i}", channel="wechat"), BOT)[0]["number"] for i in range(3)
    ]
    web = desk.create_case(new_case(sender_id="web-other", channel="web"), BOT)[0]["number"]
    for number in (numbers[2], numbers[0], web):
        desk.assign(number, "op1", people.sup)
        desk.reply(number, "收到。", people.op1)
    assert desk.waiting_senders("wechat") == ["wechat-2", "wechat-0"]  # longest waiting first, one channel
    [reply] = desk.pending_replies("wechat-2", "wechat")
    desk.mark_delivered([reply["id"]], "wechat-2")
    assert desk.waiting_senders("wechat") == ["wechat-0"] and desk.waiting_senders("web") == ["web-other"]
