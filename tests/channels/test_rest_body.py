"""What Rasa's REST channel accepts (bot/channels/rest_body.py; the adapter is rasa_channels/rest.py)."""

from __future__ import annotations

import json

from bot.channels.rest_body import MAX_BODY_BYTES, BadRequest, RestMessage, parse_rest_body
from bot.text import MAX_MESSAGE_CHARS, MAX_RAW_MESSAGE_CHARS, too_long_note


def body(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode()


def test_a_plain_message_passes_unchanged():
    m = parse_rest_body(body(sender="me", message="低保是什么", metadata={"channel": "telegram"}))
    assert m == RestMessage("me", "低保是什么", None, {"channel": "telegram"}, None, 5)


def test_traditional_characters_are_read_as_simplified():
    m = parse_rest_body(body(sender="me", message="孤兒可以被收養嗎？請問特困供養怎麼申請"))
    assert isinstance(m, RestMessage) and m.text == "孤儿可以被收养吗？请问特困供养怎么申请"


def test_an_over_long_message_is_cut_with_the_note():
    m = parse_rest_body(body(sender="me", message="我家" * 50_000))
    assert isinstance(m, RestMessage) and m.note == too_long_note()
    assert len(m.text) == MAX_MESSAGE_CHARS and m.length == 100_000


def test_refusals_name_the_problem():
    cases = {
        None: "empty_body",
        b"": "empty_body",
        b"\n": "empty_body",
        b"{": "invalid_json",
        b"[1]": "not_an_object",
        b"{}": "missing_sender",
        body(sender="  ", message="x"): "missing_sender",
        body(sender="s" * 129, message="x"): "sender_too_long",
        body(sender="me"): "missing_message",
        body(sender="me", message=""): "empty_message",
        body(sender="me", message="x", metadata=[1]): "bad_metadata",
        body(sender="me", message="x", input_channel=3): "bad_input_channel",
        body(sender="me", message="x" * (MAX_RAW_MESSAGE_CHARS + 1)): "too_long",
        b" " * (MAX_BODY_BYTES + 1): "too_long",
    }
    for raw, error in cases.items():
        refused = parse_rest_body(raw)
        assert isinstance(refused, BadRequest) and refused.error == error, raw[:40] if raw else raw
        assert refused.status == 400 and refused.body == {"error": error, "message": refused.message}


def test_a_message_at_the_ceiling_is_still_read():
    m = parse_rest_body(body(sender="me", message="低" * MAX_RAW_MESSAGE_CHARS))
    assert isinstance(m, RestMessage) and m.note
