"""The WeChat gateway's pure parts (bot/channels/wechat_protocol.py, the 48-hour window of
bot/channels/wechat_gateway.py), imported as others import them: from bot.channels.wechat.
No processes; the gateway itself is tested in test_wechat.py."""

from __future__ import annotations

import base64
import time

from bot.channels.wechat import (
    MAX_TEXT_BYTES,
    REPLAY_WINDOW_SECONDS,
    REPLY_WINDOW_SECONDS,
    Wire,
    render_answers,
    split_text,
    window_open,
)
from tests.support.fake_wechat import Push

TOKEN = "jiuzhu-wechat-token"
APP_ID = "wx1234567890abcdef"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


def test_buttons_become_numbered_choices_and_texts_fit_wechat():
    text, payloads = render_answers(
        [
            {"text": "临时救助的答复。", "buttons": [{"title": "看原文", "payload": "/show_sources"}]},
            {"text": "您在哪个县？", "buttons": [{"title": "渠县", "payload": '/tell_place{"place": "渠县"}'}]},
        ]
    )
    assert text == "临时救助的答复。\n回复 1：看原文\n\n您在哪个县？\n回复 2：渠县"
    assert payloads == ["/show_sources", '/tell_place{"place": "渠县"}']
    parts = split_text(("第一条规定。\n" * 400).strip())
    assert len(parts) > 1 and all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert "".join(parts).count("第一条规定。") == 400


def test_a_signature_is_good_only_within_the_replay_window():
    push = Push(TOKEN, APP_ID, AES_KEY)
    wire = Wire(TOKEN, AES_KEY, APP_ID)
    now = 1_700_000_000
    sign = lambda ts: push.signature(str(ts), "n1")  # noqa: E731
    assert wire.verify(sign(now), str(now), "n1", now=now + REPLAY_WINDOW_SECONDS)
    assert wire.verify(sign(now), str(now), "n1", now=now - REPLAY_WINDOW_SECONDS)  # a server clock a little behind
    assert not wire.verify(sign(now), str(now), "n1", now=now + REPLAY_WINDOW_SECONDS + 1)
    assert not wire.verify(sign(now), str(now), "n1", now=now - REPLAY_WINDOW_SECONDS - 1)
    assert not wire.verify(push.signature("soon", "n1"), "soon", "n1", now=now)  # not a timestamp
    assert not wire.verify("0" * 40, str(now), "n1", now=now)


def test_the_48_hour_window():
    now = time.time()
    assert window_open(now - 3600, now)
    assert not window_open(now - REPLY_WINDOW_SECONDS - 1, now)
    assert not window_open(None, now)  # never wrote (since the gateway's records began)
