"""The cases API and console over HTTP: creation by the bot, the resident's lookup,
the reply outbox, suggested answers, login, sessions and CSRF."""

from __future__ import annotations

import re

from tests.cases.conftest import PASSWORD, bot_headers, csrf_of, login

URGENT = {
    "type": "urgent",
    "channel": "web",
    "sender_id": "web-abc",
    "jurisdiction": "渠县",
    "title": "老人独居断粮",
    "summary": "渠县某村独居老人两天没吃饭，需要急救助。",
    "questions": ["渠县临时救助怎么申请"],
    "transcript": [{"role": "resident", "text": "我爷爷两天没吃饭了，电话13812345678"}],
    "contact": {"name": "张三", "phone": "13812345678"},
}


class FakeKB:
    def answer(self, question, jurisdiction=None):
        return {
            "answer": f"关于“{question}”：可向乡镇（街道）申请临时救助。",
            "topics": ["temporary_assistance"],
            "citations": [
                {
                    "id": "004-13",
                    "title": "渠县社会救助实施方案",
                    "clause": "第13项",
                    "issuer": "渠县",
                    "date": "2022-05-29",
                    "jurisdiction": "渠县",
                    "status": "current",
                    "source": "local/004",
                    "text": "一证一书",
                }
            ],
        }


def test_bot_creates_an_urgent_case_idempotently(client):
    r1 = client.post("/v1/cases", json=URGENT, headers=bot_headers(**{"Idempotency-Key": "conv-abc-1"}))
    assert r1.status_code == 201, r1.text
    body = r1.json()
    assert body["created"] and body["priority"] == "urgent" and body["hotline"] == "12345"
    assert "110" in body["acknowledgement"] and body["number"] in body["acknowledgement"]
    r2 = client.post("/v1/cases", json=URGENT, headers=bot_headers(**{"Idempotency-Key": "conv-abc-1"}))
    assert r2.status_code == 200 and r2.json()["number"] == body["number"] and not r2.json()["created"]
    r3 = client.post("/v1/cases", json={**URGENT, "idempotency_key": "conv-abc-1"}, headers=bot_headers())
    assert r3.status_code == 200 and r3.json()["number"] == body["number"]
    # the bot sees the contact masked
    assert "13812345678" not in r1.text


def test_invalid_input_is_explained_in_chinese(client):
    r = client.post("/v1/cases", json={"type": "nope"}, headers=bot_headers())
    assert r.status_code == 422 and "type" in r.json()["detail"]
    r = client.post("/v1/cases", json={**URGENT, "jurisdiction": "火星"}, headers=bot_headers())
    assert r.status_code == 422 and "未知的地区" in r.json()["detail"]


def test_resident_lookup_needs_the_check_code(client):
    created = client.post("/v1/cases", json=URGENT, headers=bot_headers()).json()
    ok = client.post("/v1/cases/lookup", json={"number": created["number"], "check_code": created["check_code"]})
    assert ok.status_code == 200 and ok.json()["status_label"].startswith("已受理")
    assert "13812345678" not in ok.text and "张三" not in ok.text
    # typed as a resident might: lower case, full-width, with a space
    typed = created["check_code"].lower()[:4] + " " + created["check_code"][4:]
    wide = "".join(chr(ord(c) + 0xFEE0) for c in created["number"])
    assert client.post("/v1/cases/lookup", json={"number": wide, "check_code": typed}).status_code == 200
    bad = client.post("/v1/cases/lookup", json={"number": created["number"], "check_code": "000000x"})
    assert bad.status_code == 404
    # the throttle is the client's (tests/cases/test_throttle.py), not the case's
    for _ in range(9):
        client.post("/v1/cases/lookup", json={"number": created["number"], "check_code": "999999"})
    locked = client.post("/v1/cases/lookup", json={"number": created["number"], "check_code": created["check_code"]})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "12345" in locked.json()["detail"]


def test_operator_reply_reaches_the_conversation_outbox(app, client):
    app.state.kb = FakeKB()
    number = client.post("/v1/cases", json=URGENT, headers=bot_headers()).json()["number"]
    csrf = login(client, "op1")
    page = client.post("/console/claim-next", data={"csrf_token": csrf})
    assert page.status_code == 200 and number in page.text
    assert "13812345678" in page.text  # the handler sees the phone
    assert "渠县社会救助实施方案" in page.text and "插入" in page.text  # suggestion with its citation
    sugg = client.get(f"/v1/cases/{number}/suggestions").json()
    assert sugg["kb_available"] and sugg["answers"][0]["citations"][0]["clause"] == "第13项"
    assert any(t["id"] == "received" and number in t["text"] for t in sugg["templates"])
    r = client.post(f"/console/cases/{number}/reply", data={"csrf_token": csrf, "text": "您好，已联系乡镇。"})
    assert "回复已发送" in r.text
    # the web chat relay (bot token) picks it up once
    pending = client.get("/v1/conversations/web-abc/replies", headers=bot_headers()).json()["replies"]
    assert [p["text"] for p in pending] == ["您好，已联系乡镇。"]
    consumed = client.get("/v1/conversations/web-abc/replies?consume=true", headers=bot_headers()).json()["replies"]
    assert len(consumed) == 1 and consumed[0]["delivered"]
    again = client.get("/v1/conversations/web-abc/replies?consume=true", headers=bot_headers()).json()["replies"]
    assert again == []
    r = client.post(
        f"/console/cases/{number}/status", data={"csrf_token": csrf, "status": "resolved", "resolution": "乡镇已送米面"}
    )
    assert "已改为“已办结”" in r.text


def test_login_failures_are_throttled(client):
    # Ten wrong passwords from one address: that address is refused, even the right password.
    for _ in range(10):
        page = client.get("/console/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        r = client.post("/console/login", data={"username": "sup", "password": "wrong-password", "login_token": token})
        assert r.status_code == 401 and "不正确" in r.text
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/login", data={"username": "sup", "password": PASSWORD, "login_token": token})
    assert r.status_code == 429 and "后再试" in r.text and int(r.headers["Retry-After"]) > 0


def test_login_form_needs_its_token(client):
    client.get("/console/login")
    r = client.post("/console/login", data={"username": "op1", "password": PASSWORD, "login_token": "forged"})
    assert r.status_code == 403


def test_sessions_expire_and_logout_ends_them(app, client):
    login(client, "op2")
    assert client.get("/v1/cases/counts").status_code == 200
    app.state.session_max_age = -1
    assert client.get("/v1/cases/counts").status_code == 401
    app.state.session_max_age = 3600
    csrf = csrf_of(client)
    cookie = client.cookies.get("jz_session")
    client.post("/console/logout", data={"csrf_token": csrf})
    client.cookies.set("jz_session", cookie)  # a copied cookie no longer works either
    assert client.get("/v1/cases/counts").status_code == 401


def test_volunteer_reports_a_discovery(client):
    csrf = login(client, "vol")
    r = client.post(
        "/console/report",
        data={
            "csrf_token": csrf,
            "type": "discovery",
            "jurisdiction": "巴中市",
            "title": "村里有位残疾人无人照料",
            "phone": "13900001111",
        },
    )
    assert "已上报" in r.text and "12349" not in r.text
    assert client.get("/console").url.path == "/console/report"


def test_openapi_documents_the_case_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/v1/cases",
        "/v1/cases/claim-next",
        "/v1/cases/{number}/replies",
        "/v1/conversations/{sender_id}/replies",
    ):
        assert p in paths


def test_a_channel_adds_the_residents_later_messages_to_the_open_case(client):
    number = client.post("/v1/cases", json=URGENT, headers=bot_headers()).json()["number"]
    sender = URGENT["sender_id"]
    r = client.post(
        f"/v1/conversations/{sender}/messages", json={"text": "补充：孩子在隔壁奶奶家"}, headers=bot_headers()
    )
    assert r.status_code == 200 and r.json() == {"case": number}
    r = client.post("/v1/conversations/nobody/messages", json={"text": "你好"}, headers=bot_headers())
    assert r.json() == {"case": None}
    assert (
        client.post(f"/v1/conversations/{sender}/messages", json={"text": ""}, headers=bot_headers()).status_code == 422
    )
