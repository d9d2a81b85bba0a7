"""The doors, on the real processes (bot/stack.py on loopback): who can reach the action
server and Rasa, and what reaches the model.

- Rasa and the action server listen on loopback only unless told otherwise.
- The action server runs nothing for a caller without the shared action token (Rasa has it).
- Rasa's REST channel refuses malformed bodies with a 400 in Chinese (Rasa's own channel
  answered some with a 500) and cuts an over-long message before the classifier, with a kind
  note; the web chat relay does the same. How long that takes, and what it costs another
  conversation, is measured by bench/bench_limits.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from bot.cases.store import Case
from bot.db import Database
from bot.text import MAX_MESSAGE_CHARS, MAX_RAW_MESSAGE_CHARS, too_long_note
from tests.conftest import say, texts
from tests.support.sockets import listening_addresses
from tests.support.web_chat import WebChat

pytestmark = pytest.mark.e2e
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LONG_STORY = "我家里困难，老公生病住院了，孩子还在读书，想问一下能不能申请低保，需要什么材料。"


def sender(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def rest(stack, body: bytes | None = None, **kwargs) -> httpx.Response:
    return httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", content=body, timeout=60, **kwargs)


def resident_texts_seen_by_rasa(stack, who: str) -> list[str]:
    """The user messages Rasa's tracker store holds for `who` (what the classifier was given)."""
    conn = sqlite3.connect(stack.settings.data_dir / "rasa_tracker.db")
    try:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (who,)
        ).fetchall()
    finally:
        conn.close()
    return [json.loads(data)["text"] for (data,) in rows]


def cases_of(stack, who: str) -> list[Case]:
    db = Database(stack.settings.resolved_database_url())
    try:
        with db.session() as s:
            return list(s.scalars(select(Case).where(Case.sender_id == who)))
    finally:
        db.engine.dispose()


# ------------------------------------------------------------------ bind addresses


def test_rasa_and_the_action_server_listen_on_loopback_only_by_default(stack):
    for name, port in (
        ("rasa", stack.settings.rasa_port),
        ("actions", stack.settings.action_port),
        ("service", stack.settings.service_port),
    ):
        assert listening_addresses(port) == {"127.0.0.1"}, name


# ------------------------------------------------------------------ the action server's token


def urgent_action_call(who: str) -> dict:
    """What Rasa would send to have an urgent case created: a consented, complete report."""
    now = time.time()
    return {
        "next_action": "action_submit_urgent",
        "sender_id": who,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": who,
            "slots": {
                "urgent_consent": True,
                "urgent_what": "家里没饭吃了，快来人帮忙",
                "urgent_where": "渠县三汇镇",
                "urgent_contact": "13812345678",
                "jurisdiction": "渠县",
            },
            "latest_message": {"text": "可以", "intent": {"name": "affirm", "confidence": 1.0}, "entities": []},
            "events": [
                {"event": "user", "text": "家里没饭吃了，快来人帮忙", "timestamp": now - 5},
                {"event": "user", "text": "可以", "timestamp": now},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_event_time": now,
        },
    }


def test_a_forged_action_call_is_refused_and_creates_no_case(stack):
    forged = sender("forged")
    url = f"{stack.action_url}/webhook"
    attempts = [
        httpx.post(url, json=urgent_action_call(forged), timeout=10),
        httpx.post(url, json=urgent_action_call(forged), timeout=10, headers={"Authorization": "Bearer guessed"}),
        httpx.post(url, json=urgent_action_call(forged), timeout=10, params={"token": "guessed"}),
        httpx.post(
            url,
            json=urgent_action_call(forged),
            timeout=10,
            headers={"Authorization": f"Basic {stack.settings.action_token}"},
        ),
    ]
    assert [r.status_code for r in attempts] == [403] * 4
    assert all(r.json()["error"] == "forbidden" and "events" not in r.json() for r in attempts)
    assert httpx.get(f"{stack.action_url}/actions", timeout=10).status_code == 403
    assert httpx.get(f"{stack.action_url}/health", timeout=10).status_code == 200  # the stack's health check
    time.sleep(1)  # a case, had one been started, would be in the database by now
    assert cases_of(stack, forged) == []
    log = stack.processes["actions"].tail(200)
    assert "refused POST /webhook" in log and stack.settings.action_token not in log

    # The same call with the token Rasa holds does create the case: the refusal is the token's.
    control = sender("with-token")
    r = httpx.post(
        url,
        json=urgent_action_call(control),
        timeout=30,
        headers={"Authorization": f"Bearer {stack.settings.action_token}"},
    )
    assert r.status_code == 200, r.text
    assert len(cases_of(stack, control)) == 1


def test_rasa_holds_the_token_and_reaches_the_action_server(stack):
    # A cited answer comes only from a custom action (action server → service → knowledge base).
    reply = texts(say(stack, sender("with-rasa"), "低保是什么"))
    assert "依据" in reply and "《" in reply


# ------------------------------------------------------------------ Rasa's REST channel: bodies


@pytest.mark.parametrize(
    "body, error",
    [
        ("", "empty_body"),
        ("   ", "empty_body"),
        ("null", "not_an_object"),
        ("[]", "not_an_object"),
        ('["sender", "message"]', "not_an_object"),
        ('"低保是什么"', "not_an_object"),
        ("42", "not_an_object"),
        ('{"sender": "x", "message": ', "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        ('{"message": "低保是什么"}', "missing_sender"),
        ('{"sender": "", "message": "低保是什么"}', "missing_sender"),
        ('{"sender": 42, "message": "低保是什么"}', "missing_sender"),
        ('{"sender": "x"}', "missing_message"),
        ('{"sender": "x", "message": null}', "missing_message"),
        ('{"sender": "x", "message": ["低保"]}', "missing_message"),
        ('{"sender": "x", "message": "  "}', "empty_message"),
        ('{"sender": "x", "message": "你好", "metadata": "telegram"}', "bad_metadata"),
    ],
)
def test_malformed_bodies_get_a_400_in_chinese(stack, body, error):
    raw = body.encode() if isinstance(body, str) else body
    r = rest(stack, raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error
    assert CHINESE.search(r.json()["message"])


def test_a_message_beyond_any_paste_is_refused_unread(stack):
    r = rest(stack, json.dumps({"sender": sender("huge"), "message": "低" * (MAX_RAW_MESSAGE_CHARS + 1)}).encode())
    assert r.status_code == 400 and r.json()["error"] == "too_long"
    assert "分成几条" in r.json()["message"]


def test_after_bad_bodies_rasa_still_answers(stack):
    for body in (b"", b"[]", b"{"):
        rest(stack, body)
    assert "社会救助小助手" in texts(say(stack, sender("after"), "你好"))


# ------------------------------------------------------------------ over-long messages


def test_a_100_000_character_message_is_answered_kindly_and_cut_before_the_model(stack):
    who = sender("long")
    message = (LONG_STORY * (100_000 // len(LONG_STORY) + 1))[:100_000]
    started = time.monotonic()
    r = rest(stack, json.dumps({"sender": who, "message": message}, ensure_ascii=False).encode())
    elapsed = time.monotonic() - started
    assert r.status_code == 200
    answers = r.json()
    assert answers[0]["text"] == too_long_note()
    later = "\n".join(a.get("text", "") for a in answers[1:])
    assert "依据" in later or "低保" in later, later  # the first part was answered
    # The classifier was given the first part only.
    seen = resident_texts_seen_by_rasa(stack, who)
    assert len(seen) == 1 and len(seen[0]) <= MAX_MESSAGE_CHARS and message.startswith(seen[0])
    # Not a speed measurement (bench/bench_limits.py measures it): it must not stall like before (11 s).
    assert elapsed < 5, elapsed


def test_a_short_message_gets_no_note(stack):
    answers = say(stack, sender("short"), "低保是什么")
    assert all(a.get("text") != too_long_note() for a in answers)


def test_a_streamed_over_long_message_starts_with_the_note(stack):
    r = rest(
        stack,
        json.dumps({"sender": sender("stream"), "message": "低保是什么？" * 400}).encode(),
        params={"stream": "true"},
    )
    assert r.status_code == 200
    lines = [json.loads(line) for line in r.text.splitlines() if line.strip()]
    assert lines[0]["text"] == too_long_note() and len(lines) >= 2


def test_the_web_chat_cuts_an_over_long_message_with_the_same_note(stack):
    chat = WebChat.start(stack.service_url)
    who = chat.sender
    r = chat.post(LONG_STORY * 200)
    assert r.status_code == 200
    messages = r.json()["messages"]
    assert messages[0]["text"] == too_long_note() and len(messages) >= 2
    assert sum(m["text"] == too_long_note() for m in messages) == 1  # cut once, at the first door
    seen = resident_texts_seen_by_rasa(stack, who)
    assert len(seen) == 1 and len(seen[0]) <= MAX_MESSAGE_CHARS


def test_the_web_chat_refuses_a_message_beyond_any_paste(stack):
    r = WebChat.start(stack.service_url).post("低" * (MAX_RAW_MESSAGE_CHARS + 1))
    assert r.status_code == 422 and "message" in r.json()["detail"]


def test_exposing_the_service_leaves_the_action_server_on_loopback(tmp_path):
    """JZ_SERVICE_HOST=0.0.0.0 (the public web chat): the service listens on every interface,
    the action server still on loopback only (Rasa's --interface: tests/test_stack_wiring.py)."""
    from pathlib import Path

    from bot.stack import Stack
    from tests.conftest import stack_settings

    exposed = Stack(stack_settings(tmp_path, service_host="0.0.0.0"), model=Path("unused.tar.gz"))
    exposed.build()
    started = [exposed.processes["service"], exposed.processes["actions"]]
    try:
        for p in started:
            p.restart()
        assert listening_addresses(exposed.settings.service_port) == {"0.0.0.0"}
        assert listening_addresses(exposed.settings.action_port) == {"127.0.0.1"}
    finally:
        for p in started:
            p.stop()
