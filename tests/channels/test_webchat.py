"""Web chat conversation ownership: the service issues each conversation (id + signed
token, bot/channels/webchat.py), and only its holder may send messages in it or read
(so consume) the operator replies waiting for it. The service runs alone here; Rasa is
a closed port, so the relay answers with its friendly "暂时连不上" text."""

from __future__ import annotations

import re
import socket

import pytest
from fastapi.testclient import TestClient

from bot.cases.desk import BOT, CaseDesk
from bot.channels import webchat
from bot.channels.gateway import RASA_DOWN_REPLY
from bot.config import Settings
from bot.service.routers.chat import BAD_TOKEN, NO_TOKEN
from tests.cases.conftest import make_users, new_case

SECRET = "a-test-secret-of-the-data-dir"


# ---------------------------------------------------------------- the pure module


def test_a_conversation_token_proves_that_conversation_only():
    a = webchat.new_conversation(SECRET)
    b = webchat.new_conversation(SECRET)
    assert a.sender != b.sender and re.fullmatch(r"web-[0-9a-f]{32}", a.sender)
    assert webchat.check(SECRET, a.sender, a.token) == webchat.Check.ok
    assert webchat.check(SECRET, a.sender, b.token) == webchat.Check.invalid  # another conversation's
    assert webchat.check(SECRET, a.sender, None) == webchat.Check.missing
    assert webchat.check(SECRET, a.sender, "") == webchat.Check.missing
    assert webchat.check(SECRET, a.sender, a.token[:-2] + "xx") == webchat.Check.invalid
    assert webchat.check("another-data-dir", a.sender, a.token) == webchat.Check.invalid
    assert webchat.check(SECRET, a.sender, a.token, max_age=-1) == webchat.Check.expired


def test_no_conversation_without_a_secret():
    with pytest.raises(ValueError):
        webchat.new_conversation("")
    assert webchat.check("", "web-x", "token") == webchat.Check.invalid


# ---------------------------------------------------------------- over HTTP


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app(tmp_path, monkeypatch):
    from bot.service.app import create_app

    application = create_app(Settings(data_dir=tmp_path / "svc", rasa_url=f"http://127.0.0.1:{_closed_port()}"))
    application.state.people = make_users(application.state.db)
    yield application
    application.state.db.engine.dispose()


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


@pytest.fixture
def desk(app) -> CaseDesk:
    desk = CaseDesk(app.state.db)
    app.state.case_desk = desk
    return desk


def start(client) -> tuple[str, dict]:
    r = client.post("/v1/chat/session")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["expires_in"] > 0
    return body["sender"], {"X-Chat-Token": body["token"]}


def handed_over(desk, app, sender: str) -> str:
    """The bot made a case for this conversation; the supervisor replied once."""
    number = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    desk.reply(number, "您好，乡镇明天上午联系您。", app.state.people.sup)
    return number


def test_the_service_issues_each_conversation(client):
    s1, h1 = start(client)
    s2, h2 = start(client)
    assert s1 != s2 and h1 != h2 and s1.startswith("web-")
    r = client.post("/v1/chat", json={"sender": s1, "message": "低保是什么"}, headers=h1)
    assert r.status_code == 200 and r.json()["messages"][-1]["text"] == RASA_DOWN_REPLY


def test_sending_needs_the_conversations_token(app, client, desk):
    sender, headers = start(client)
    number = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    turns = len(desk.case_record(number).transcript)
    _, other = start(client)

    r = client.post("/v1/chat", json={"sender": sender, "message": "我改主意了，别管了"})
    assert r.status_code == 401 and r.json()["detail"] == NO_TOKEN
    for bad in (other, {"X-Chat-Token": "forged"}, {"X-Chat-Token": headers["X-Chat-Token"] + "x"}):
        r = client.post("/v1/chat", json={"sender": sender, "message": "我改主意了，别管了"}, headers=bad)
        assert r.status_code == 403 and r.json()["detail"] == BAD_TOKEN
    assert len(desk.case_record(number).transcript) == turns  # nothing joined the resident's case

    r = client.post("/v1/chat", json={"sender": sender, "message": "补充一下我住三汇镇"}, headers=headers)
    assert r.status_code == 200
    assert desk.case_record(number).transcript[-1]["text"] == "补充一下我住三汇镇"


def test_replies_go_only_to_the_conversations_holder_and_only_once(app, client, desk):
    sender, headers = start(client)
    handed_over(desk, app, sender)
    _, other = start(client)
    url = f"/v1/chat/{sender}/replies"

    r = client.get(url)
    assert r.status_code == 401 and r.json()["detail"] == NO_TOKEN
    assert client.get(url, headers=other).status_code == 403
    assert client.get(url, headers={"X-Chat-Token": "x" * 40}).status_code == 403
    assert len(desk.pending_replies(sender, "web")) == 1  # refused calls consumed nothing

    shown = client.get(url, headers=headers).json()["messages"]
    assert len(shown) == 1 and "乡镇明天上午联系您" in shown[0]["text"]
    assert client.get(url, headers=headers).json()["messages"] == []


def test_an_expired_conversation_is_refused_and_a_new_one_works(app, client, desk):
    sender, headers = start(client)
    handed_over(desk, app, sender)
    app.state.chat_session_max_age = -1
    assert client.get(f"/v1/chat/{sender}/replies", headers=headers).status_code == 403
    assert client.post("/v1/chat", json={"sender": sender, "message": "你好"}, headers=headers).status_code == 403
    assert len(desk.pending_replies(sender, "web")) == 1
    app.state.chat_session_max_age = 3600
    fresh, fresh_headers = start(client)
    assert client.post("/v1/chat", json={"sender": fresh, "message": "你好"}, headers=fresh_headers).status_code == 200


def test_other_channels_ids_get_no_web_token(client):
    # No token is issued for a tg-… id, so the web chat can never speak as a Telegram chat.
    _, headers = start(client)
    r = client.get("/v1/chat/tg-42/replies", headers=headers)
    assert r.status_code == 403
    r = client.post("/v1/chat", json={"sender": "tg-42", "message": "你好"}, headers=headers)
    assert r.status_code == 422


def test_the_page_gets_its_conversation_from_the_service(client):
    page = client.get("/").text
    assert "randomUUID(" not in page  # absent on plain-HTTP pages (intranet terminals)
    assert "/v1/chat/session" in page and "X-Chat-Token" in page and "sessionStorage" in page
    assert "401" in page and "403" in page  # it starts again when its conversation is refused


def test_openapi_documents_the_refusals(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "201" in paths["/v1/chat/session"]["post"]["responses"]
    for path, method in (("/v1/chat", "post"), ("/v1/chat/{sender}/replies", "get")):
        op = paths[path][method]
        assert {"401", "403"} <= set(op["responses"]), path
        assert op["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
        assert any(p["name"] == "x-chat-token" and p["in"] == "header" for p in op["parameters"])
