"""The web chat page's own routes (bot/service/routers/chat.py): the history a reload shows,
我的工单, the operator-reply stream (server-sent events, opened with a short-lived ticket)
with its acknowledgement, 结束对话, and the retention purge of the history. The service
runs alone; Rasa is a fake REST channel on loopback that answers with a cited answer and its
buttons."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from bot import retention
from bot.cases.desk import BOT, CaseDesk, NewCase
from bot.channels import history, webchat
from bot.config import Settings
from bot.service.auth import secret_key
from bot.service.routers.chat import BAD_TICKET, BAD_TOKEN, NO_TICKET, NO_TOKEN
from tests.cases.conftest import make_users, new_case
from tests.support.json_http import send_json

ANSWER = {
    "text": "低保是按月发的生活补助。\n依据：《社会救助暂行办法》第九条",
    "buttons": [{"title": "看原文", "payload": "/show_sources"}],
}


@pytest.fixture
def fake_rasa():
    """Rasa's REST channel on loopback: (its URL, the messages it was sent)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            seen.append(body["message"])
            send_json(self, 200, [{"recipient_id": body["sender"], **ANSWER}])

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(tmp_path, fake_rasa):
    from bot.service.app import create_app

    rasa_url, application_seen = fake_rasa
    application = create_app(Settings(data_dir=tmp_path / "svc", retention_days=0, rasa_url=rasa_url))
    application.state.people = make_users(application.state.db)
    application.state.rasa_seen = application_seen
    # A stream looks at the outbox often and ends soon, so a test can read it whole.
    application.state.chat_events_interval = 0.02
    application.state.chat_events_max_seconds = 0.4
    yield application
    application.state.db.engine.dispose()


@pytest.fixture
def client(app):
    with TestClient(app) as client:  # one event loop, and the lifespan closes the pooled session
        yield client


@pytest.fixture
def desk(app) -> CaseDesk:
    desk = app.state.case_desk = CaseDesk(app.state.db)
    return desk


def start(client) -> tuple[str, dict]:
    body = client.post("/v1/chat/session").json()
    return body["sender"], {"X-Chat-Token": body["token"]}


def events(client, sender: str, ticket: str) -> list[dict]:
    """Every event of one stream (it ends by itself after chat_events_max_seconds)."""
    r = client.get(f"/v1/chat/{sender}/events", params={"ticket": ticket})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in r.text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":"))
        if fields.get("event") == "reply":
            out.append({"id": int(fields["id"]), **json.loads(fields["data"])})
    return out


def ticket(client, sender, headers) -> str:
    r = client.post(f"/v1/chat/{sender}/events/ticket", headers=headers)
    assert r.status_code == 200, r.text
    assert 0 < r.json()["expires_in"] <= 120
    return r.json()["ticket"]


# ---------------------------------------------------------------- history


def test_history_keeps_what_the_page_showed_masked(client):
    sender, headers = start(client)
    r = client.post("/v1/chat", json={"sender": sender, "message": "低保是什么 我电话13912340876"}, headers=headers)
    assert r.status_code == 200 and r.json()["messages"][0]["text"] == ANSWER["text"]
    client.post("/v1/chat", json={"sender": sender, "message": "/show_sources"}, headers=headers)

    shown = client.get(f"/v1/chat/{sender}/history", headers=headers).json()
    assert shown["sender"] == sender
    msgs = shown["messages"]
    assert [m["role"] for m in msgs] == ["resident", "bot", "resident", "bot"]
    assert msgs[0]["text"] == "低保是什么 我电话139****0876"  # stored masked, like Rasa's tracker store
    assert msgs[1]["text"] == ANSWER["text"] and msgs[1]["buttons"] == ANSWER["buttons"]
    assert all(m["at"] for m in msgs)

    other, other_headers = start(client)
    assert client.get(f"/v1/chat/{other}/history", headers=other_headers).json()["messages"] == []


def test_a_reload_quicker_than_the_history_commit_still_shows_the_last_message(app, monkeypatch):
    """The history is written after the answer has gone back; a real server (TestClient would
    wait for that write) and a slow commit: the reload right after the answer waits for it."""
    import httpx

    from tests.support.console_server import serving

    record = history.record

    def slow_record(*args):
        time.sleep(0.6)
        record(*args)

    monkeypatch.setattr(history, "record", slow_record)
    with serving(app), httpx.Client(base_url=app.state.url, timeout=10) as http:
        conv = http.post("/v1/chat/session").json()
        headers = {"X-Chat-Token": conv["token"]}
        r = http.post("/v1/chat", json={"sender": conv["sender"], "message": "低保是什么"}, headers=headers)
        assert r.status_code == 200
        assert app.state.history_writes.pending(conv["sender"]) == 1  # answered, not yet written
        shown = http.get(f"/v1/chat/{conv['sender']}/history", headers=headers).json()["messages"]
    assert [(m["role"], m["text"]) for m in shown] == [("resident", "低保是什么"), ("bot", ANSWER["text"])]


def test_the_raw_number_is_not_stored_in_the_history(app, client):
    sender, headers = start(client)
    client.post("/v1/chat", json={"sender": sender, "message": "身份证360426199101010071"}, headers=headers)
    with app.state.db.session() as s:
        texts = [m.text for m in s.query(history.ChatMessage).all()]
    assert texts and not any("360426199101010071" in t for t in texts)
    assert app.state.rasa_seen == ["身份证360426199101010071"]  # Rasa masks its own store


def test_ending_the_conversation_forgets_its_history(client):
    sender, headers = start(client)
    client.post("/v1/chat", json={"sender": sender, "message": "低保是什么"}, headers=headers)
    other, other_headers = start(client)
    client.post("/v1/chat", json={"sender": other, "message": "特困是什么"}, headers=other_headers)
    r = client.post(f"/v1/chat/{sender}/end", headers=headers)
    assert r.status_code == 200 and r.json() == {"forgotten": 2}
    assert client.get(f"/v1/chat/{sender}/history", headers=headers).json()["messages"] == []
    assert len(client.get(f"/v1/chat/{other}/history", headers=other_headers).json()["messages"]) == 2


# ---------------------------------------------------------------- 我的工单


def test_my_cases_lists_this_conversations_cases_only(app, client, desk):
    sender, headers = start(client)
    other, _ = start(client)
    mine = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    urgent = desk.create_case(new_case(sender_id=sender, channel="web", type="urgent"), BOT)[0]["number"]
    desk.create_case(new_case(sender_id=other, channel="web"), BOT)
    desk.claim_next(app.state.people.sup)  # the urgent one is served first

    cases = client.get(f"/v1/chat/{sender}/cases", headers=headers).json()["cases"]
    assert [c["number"] for c in cases] == [urgent, mine]
    assert cases[0]["type_label"] == "急难" and cases[0]["status_label"] == "已安排工作人员处理"
    assert cases[1]["type_label"] == "咨询" and cases[1]["status_label"] == "已受理，正在等待工作人员处理"
    assert set(cases[0]) == {"number", "type", "type_label", "status", "status_label", "created_at", "updated_at"}
    assert client.get(f"/v1/chat/{other}/cases", headers=headers).status_code == 403


def test_a_case_an_operator_entered_is_no_chats(app, client, desk):
    sender, headers = start(client)
    desk.create_case(
        NewCase(type="consultation", channel="phone", jurisdiction="渠县", summary="来电"), app.state.people.sup
    )
    assert client.get(f"/v1/chat/{sender}/cases", headers=headers).json()["cases"] == []


# ---------------------------------------------------------------- replies: stream and acknowledgement


def test_a_reply_is_delivered_only_when_the_page_says_it_was_shown_and_only_once(app, client, desk):
    sender, headers = start(client)
    number = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    reply = desk.reply(number, "您好，乡镇明天上午联系您。", app.state.people.sup)

    first = events(client, sender, ticket(client, sender, headers))
    assert [e["id"] for e in first] == [reply["id"]]  # once per stream, though the outbox was read many times
    assert first[0]["reply_id"] == reply["id"] and first[0]["case"] == number
    assert first[0]["text"] == f"【工作人员回复 · 工单 {number}】\n您好，乡镇明天上午联系您。"
    assert len(desk.pending_replies(sender, "web")) == 1  # sent is not shown: still pending

    # The page closed before showing it: the next stream sends it again. Nothing is lost.
    assert [e["id"] for e in events(client, sender, ticket(client, sender, headers))] == [reply["id"]]

    url = f"/v1/chat/{sender}/replies/{reply['id']}/shown"
    assert client.post(url, headers=headers).json() == {"id": reply["id"], "delivered": True, "first": True}
    assert desk.pending_replies(sender, "web") == []
    assert client.post(url, headers=headers).json()["first"] is False  # a second ack changes nothing
    assert events(client, sender, ticket(client, sender, headers)) == []  # never sent again
    operator = [
        m
        for m in client.get(f"/v1/chat/{sender}/history", headers=headers).json()["messages"]
        if m["role"] == "operator"
    ]
    assert len(operator) == 1 and operator[0]["reply_id"] == reply["id"]  # a reload shows it, once
    events_of_case = [e["action"] for e in desk.audit_log(number)]
    assert events_of_case.count("reply_delivered") == 1


def test_acknowledging_someone_elses_reply_is_refused(app, client, desk):
    sender, headers = start(client)
    other, other_headers = start(client)
    number = desk.create_case(new_case(sender_id=other, channel="web"), BOT)[0]["number"]
    reply = desk.reply(number, "给另一位群众的回复", app.state.people.sup)
    assert client.post(f"/v1/chat/{sender}/replies/{reply['id']}/shown", headers=headers).status_code == 404
    assert client.post(f"/v1/chat/{other}/replies/{reply['id']}/shown", headers=headers).status_code == 403
    assert client.post(f"/v1/chat/{sender}/replies/999999/shown", headers=headers).status_code == 404
    assert len(desk.pending_replies(other, "web")) == 1


def test_the_polling_route_peeks_without_consuming_and_still_consumes_by_default(app, client, desk):
    sender, headers = start(client)
    number = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    reply = desk.reply(number, "请带上户口本。", app.state.people.sup)
    url = f"/v1/chat/{sender}/replies"
    for _ in range(2):
        peeked = client.get(url, params={"consume": "false"}, headers=headers).json()["messages"]
        assert [m["reply_id"] for m in peeked] == [reply["id"]]
    shown = client.get(url, headers=headers).json()["messages"]  # the old contract: given once, delivered now
    assert len(shown) == 1 and "请带上户口本" in shown[0]["text"]
    assert client.get(url, headers=headers).json()["messages"] == []
    assert [m["role"] for m in client.get(f"/v1/chat/{sender}/history", headers=headers).json()["messages"]] == [
        "operator"
    ]


def test_a_message_no_longer_consumes_operator_replies(app, client, desk):
    sender, headers = start(client)
    number = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    desk.reply(number, "您好。", app.state.people.sup)
    r = client.post("/v1/chat", json={"sender": sender, "message": "还在吗"}, headers=headers)
    assert all("工作人员回复" not in m["text"] for m in r.json()["messages"])
    assert len(desk.pending_replies(sender, "web")) == 1  # the stream gives it, the page acknowledges it


# ---------------------------------------------------------------- tokens and tickets

NEW_ROUTES = [
    ("get", "/history"),
    ("get", "/cases"),
    ("post", "/events/ticket"),
    ("post", "/replies/1/shown"),
    ("post", "/end"),
]


@pytest.mark.parametrize("method,path", NEW_ROUTES)
def test_every_new_route_needs_the_conversations_token(app, client, desk, method, path):
    sender, headers = start(client)
    _, other = start(client)
    client.post("/v1/chat", json={"sender": sender, "message": "低保是什么"}, headers=headers)
    number = desk.create_case(new_case(sender_id=sender, channel="web"), BOT)[0]["number"]
    desk.reply(number, "您好。", app.state.people.sup)
    url = f"/v1/chat/{sender}{path}"

    r = client.request(method, url)
    assert r.status_code == 401 and r.json()["detail"] == NO_TOKEN
    for bad in (
        other,
        {"X-Chat-Token": "forged"},
        {"X-Chat-Token": headers["X-Chat-Token"] + "x"},
        {"X-Chat-Token": webchat.new_ticket(secret_key(app), sender)},
    ):  # a ticket is no token
        r = client.request(method, url, headers=bad)
        assert r.status_code == 403 and r.json()["detail"] == BAD_TOKEN, (bad, r.text)
    app.state.chat_session_max_age = -1
    assert client.request(method, url, headers=headers).status_code == 403  # expired
    app.state.chat_session_max_age = 3600
    # Nothing was read away or removed by the refused calls.
    assert len(history.history(app.state.db, sender)) == 2
    assert len(desk.pending_replies(sender, "web")) == 1
    assert client.request(method, url, headers=headers).status_code == 200


def test_the_stream_opens_only_with_a_fresh_ticket_for_this_conversation(app, client):
    sender, headers = start(client)
    other, other_headers = start(client)
    url = f"/v1/chat/{sender}/events"
    r = client.get(url)
    assert r.status_code == 401 and r.json()["detail"] == NO_TICKET
    for bad in ("forged", ticket(client, other, other_headers), headers["X-Chat-Token"]):  # the token is no ticket
        r = client.get(url, params={"ticket": bad})
        assert r.status_code == 403 and r.json()["detail"] == BAD_TICKET
    good = ticket(client, sender, headers)
    app.state.chat_ticket_max_age = -1
    assert client.get(url, params={"ticket": good}).status_code == 403  # expired
    app.state.chat_ticket_max_age = 60
    assert client.get(url, params={"ticket": good}).status_code == 200


def test_tickets_are_signed_for_one_conversation():
    a = webchat.new_conversation("secret")
    t = webchat.new_ticket("secret", a.sender)
    assert webchat.check_ticket("secret", a.sender, t) == webchat.Check.ok
    assert webchat.check_ticket("secret", "web-other", t) == webchat.Check.invalid
    assert webchat.check_ticket("another", a.sender, t) == webchat.Check.invalid
    assert webchat.check_ticket("secret", a.sender, a.token) == webchat.Check.invalid
    assert webchat.check("secret", a.sender, t) == webchat.Check.invalid
    assert webchat.check_ticket("secret", a.sender, None) == webchat.Check.missing
    assert webchat.check_ticket("secret", a.sender, t, max_age=-1) == webchat.Check.expired


# ---------------------------------------------------------------- retention


def test_retention_purges_history_older_than_the_period(app, client):
    sender, headers = start(client)
    now = datetime.now(UTC).replace(tzinfo=None)
    with app.state.db.session() as s:
        s.add(history.message_row(sender, "resident", "半年前问的", at=now - timedelta(days=200)))
        s.add(history.message_row(sender, "bot", "半年前的回答", at=now - timedelta(days=181)))
        s.commit()
    client.post("/v1/chat", json={"sender": sender, "message": "今天问的"}, headers=headers)
    cfg = app.state.settings.model_copy(update={"retention_days": 180})

    dry = retention.run(cfg, app.state.db, dry_run=True)
    assert dry.chat_messages == 2 and len(history.history(app.state.db, sender)) == 4
    report = retention.run(cfg, app.state.db)
    assert report.chat_messages == 2
    left = [m["text"] for m in client.get(f"/v1/chat/{sender}/history", headers=headers).json()["messages"]]
    assert left == ["今天问的", ANSWER["text"]]
    assert retention.run(cfg, app.state.db).chat_messages == 0


# ---------------------------------------------------------------- the page


def test_the_page_is_built_for_any_phone(client):
    page = client.get("/").text
    assert 'aria-live="polite"' in page and '<label for="q"' in page and "100dvh" in page
    assert ".innerHTML" not in page and "randomUUID(" not in page and "serviceWorker" not in page
    assert "EventSource" in page and "/events/ticket" in page and "/shown" in page
    assert "结束对话" in page and "我的工单" in page and "大字" in page and "<details>" not in page  # built as nodes
