"""The first vertical slice, through the real Rasa server, action server and service."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bot.text import MAX_RAW_MESSAGE_CHARS
from tests.conftest import say, texts
from tests.support.web_chat import WebChat

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_greeting_thanks_goodbye_in_chinese(stack):
    s = sender()
    assert "社会救助小助手" in texts(say(stack, s, "你好"))
    assert "不客气" in texts(say(stack, s, "谢谢你"))
    assert "顺利" in texts(say(stack, s, "拜拜"))


def test_what_is_dibao_is_answered_with_its_source(stack):
    reply = texts(say(stack, sender(), "低保是什么"))
    # Only the action server + service + policy_kb produce a cited answer.
    assert "低保" in reply or "最低生活保障" in reply
    assert "依据" in reply and "《" in reply and "》" in reply
    assert "第" in reply and "条" in reply, reply


def test_web_chat_relay_reaches_rasa(stack):
    chat = WebChat.start(stack.service_url)
    r = chat.post("低保是什么")
    assert r.status_code == 200
    reply = texts(r.json()["messages"])
    assert "依据" in reply and "《" in reply
    # without the conversation's token nothing reaches Rasa (unit tests: tests/channels/test_webchat.py)
    r = httpx.post(f"{stack.service_url}/v1/chat", json={"sender": chat.sender, "message": "低保是什么"}, timeout=10)
    assert r.status_code == 401 and "对话" in r.json()["detail"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"sender": "x", "message": ""}, "message"),
        ({"sender": "x", "message": "   "}, "message"),
        ({"sender": "x", "message": "低" * (MAX_RAW_MESSAGE_CHARS + 1)}, "message"),  # longer ones are cut: test_doors
        ({"sender": "x"}, "message"),
        ({"message": "你好"}, "sender"),
        ({"sender": "tg-42", "message": "你好"}, "sender"),
        ({"sender": "a b/c", "message": "你好"}, "sender"),
    ],
)
def test_web_chat_refuses_bad_input_with_a_chinese_message(stack, payload, field):
    r = httpx.post(f"{stack.service_url}/v1/chat", json=payload, timeout=10)
    assert r.status_code == 422
    assert field in r.json()["detail"] and "字段" in r.json()["detail"]


def test_web_chat_refuses_malformed_json(stack):
    r = httpx.post(
        f"{stack.service_url}/v1/chat",
        content=b'{"sender": "x", "message": ',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 422
    assert "JSON" in r.json()["detail"]


def test_service_down_gets_a_friendly_answer_with_the_hotline(stack):
    service = stack.processes["service"]
    service.stop()
    try:
        reply = texts(say(stack, sender(), "低保是什么"))
        assert "12345" in reply and "抱歉" in reply
        assert "依据" not in reply
    finally:
        service.restart()
    assert "依据" in texts(say(stack, sender(), "低保是什么"))


def test_action_server_down_means_no_cited_answer(stack):
    actions = stack.processes["actions"]
    actions.stop()
    try:
        reply = texts(say(stack, sender(), "低保是什么"))
        assert "依据" not in reply
    finally:
        actions.restart()
    assert "依据" in texts(say(stack, sender(), "低保是什么"))
