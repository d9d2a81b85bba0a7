"""The Telegram gateway (bot/channels/telegram.py) against a fake Bot API on loopback.

The gateway always runs as the stack runs it: `python -m bot.channels.telegram` in
its own process (Stack.telegram_process). The end-to-end tests use the real Rasa
server, action server and service of the session `stack`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cases.desk import Actor, CaseDesk
from bot.channels.gateway import RASA_DOWN_REPLY
from bot.channels.telegram import EMPTY_REPLY, NOT_TEXT_REPLY, TOO_LONG_NOTE, TelegramGateway, split_text
from bot.config import Settings
from bot.db import Database
from bot.stack import Process, Stack
from bot.text import MAX_MESSAGE_CHARS
from tests.conftest import stack_settings
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token-for-the-fake-bot-api"


def run_gateway(stack: Stack, fake: FakeTelegram) -> Process:
    """The stack's own Telegram process, pointed at the fake; returns once it polls."""
    cfg = stack.settings.model_copy(update={"telegram_token": TOKEN, "telegram_api_url": fake.url})
    gateway = Stack(cfg, model=stack.model).telegram_process()
    gateway.start()
    deadline = time.monotonic() + 60
    while "getUpdates" not in fake.calls:
        if not gateway.alive() or time.monotonic() > deadline:
            gateway.stop()
            raise RuntimeError(f"the Telegram gateway did not start polling:\n{gateway.tail()}")
        time.sleep(0.1)
    return gateway


# ------------------------------------------------------------------ wiring (no processes)


def test_the_stack_runs_the_gateway_only_with_a_token(tmp_path):
    without = Stack(stack_settings(tmp_path), model=Path("model.tar.gz"))
    without.build()
    assert "telegram" not in without.processes

    with_token = Stack(
        stack_settings(tmp_path, telegram_token=TOKEN, telegram_api_url="http://127.0.0.1:9"),
        model=Path("model.tar.gz"),
    )
    with_token.build()
    tg = with_token.processes["telegram"]
    assert tg.cmd[-2:] == ["-m", "bot.channels.telegram"] and tg.health_url is None
    assert tg.env["JZ_TELEGRAM_TOKEN"] == TOKEN and tg.env["JZ_TELEGRAM_API_URL"] == "http://127.0.0.1:9"
    assert tg.env["JZ_BOT_TOKEN"] == with_token.settings.bot_token  # the service's outbox accepts it
    assert not tg.healthy()  # without a port, healthy means alive


def test_long_button_payloads_fit_telegrams_64_bytes():
    gateway = TelegramGateway(Settings(telegram_token=TOKEN))
    long_payload = '/tell_place{"place": "四川省达州市渠县三汇镇某某村第一村民小组"}'
    markup = gateway.keyboard(
        [{"title": "渠县", "payload": '/tell_place{"place": "渠县"}'}, {"title": "三汇镇", "payload": long_payload}]
    )
    short, hashed = (row[0].callback_data for row in markup.inline_keyboard)
    assert short == '/tell_place{"place": "渠县"}'
    assert len(hashed.encode()) <= 64 and gateway.payloads[hashed] == long_payload


def test_replies_over_telegrams_limit_are_split():
    parts = split_text(("第一条规定。\n" * 900).strip())
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)
    assert "".join(parts).count("第一条规定。") == 900


# ------------------------------------------------------------------ gateway without Rasa


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory) -> Iterator[tuple[FakeTelegram, Process]]:
    """A gateway whose Rasa server and service are not running (dead loopback ports)."""
    with FakeTelegram(TOKEN) as fake:
        dead = Stack(stack_settings(tmp_path_factory.mktemp("tg-offline"), bot_token="unused"))
        gateway = run_gateway(dead, fake)
        yield fake, gateway
        gateway.stop()


@pytest.fixture
def offline(offline_run) -> FakeTelegram:
    return offline_run[0]


def test_rasa_down_gets_the_warm_fallback_with_hotlines(offline):
    offline.user_says(7, "低保是什么")
    reply = offline.wait_for(7, "12345", timeout=30)["text"]
    assert reply == RASA_DOWN_REPLY
    assert all(n in reply for n in ("12349", "110", "120", "119"))


def test_an_over_long_message_is_answered_kindly_and_its_first_part_forwarded(offline):
    offline.user_says(11, "我家" * MAX_MESSAGE_CHARS)
    assert offline.wait_for(11, "有点长", timeout=30)["text"] == TOO_LONG_NOTE
    # Then the (cut) message went on to Rasa, which is down here: the warm fallback follows.
    assert offline.wait_for(11, "连不上", timeout=30)["text"] == RASA_DOWN_REPLY
    texts = [m["text"] for m in offline.messages_to(11)]
    assert texts.index(TOO_LONG_NOTE) < texts.index(RASA_DOWN_REPLY)


def test_empty_and_non_text_messages_are_answered_not_forwarded(offline):
    offline.user_says(8, " \u200b\u3000 ")
    assert offline.wait_for(8, "没有看到文字", timeout=30)["text"] == EMPTY_REPLY
    offline.user_sends(8, location={"latitude": 30.8, "longitude": 106.9})
    assert offline.wait_for(8, "只能看懂文字", timeout=30)["text"] == NOT_TEXT_REPLY
    # Had any of them reached Rasa (down here), the resident would have got the fallback.
    assert not any("连不上" in m["text"] for m in offline.messages_to(8))


def test_group_chats_are_ignored(offline):
    offline.user_sends(-100123, chat_type="supergroup", text="低保是什么")
    offline.user_says(9, "你好")  # processed after the group message
    offline.wait_for(9, "12345", timeout=30)
    assert offline.messages_to(-100123) == []


def test_only_known_bot_api_methods_and_no_token_in_the_log(offline_run):
    fake, gateway = offline_run
    fake.user_says(10, "我的电话是13812345678")
    fake.wait_for(10, "12345", timeout=30)
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= set(fake.calls)
    assert fake.unknown == []
    log = gateway.tail(500)
    assert "Telegram gateway for @jiuzhu_test_bot" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log and "13812345678" not in log


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def telegram(stack) -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        gateway = run_gateway(stack, fake)
        yield fake
        gateway.stop()
        assert not fake.unknown, f"Bot API methods the fake does not implement: {fake.unknown}"


@pytest.mark.e2e
def test_a_policy_question_is_answered_with_its_source(telegram):
    telegram.user_says(42, "临时救助一般能给多少钱")
    answer = telegram.wait_for(42, ("依据", "《"))
    assert "临时救助" in answer["text"]
    # 看原文 is a button under the answer.
    assert any(row[0]["text"] == "看原文" for row in answer["reply_markup"]["inline_keyboard"])
    # Rasa's place buttons arrive as an inline keyboard; pressing one sends its payload to Rasa.
    asked = telegram.wait_for(42, "哪个县")
    buttons = {row[0]["text"]: row[0]["callback_data"] for row in asked["reply_markup"]["inline_keyboard"]}
    assert buttons["渠县"].startswith("/tell_place")
    before = len(telegram.messages_to(42))
    telegram.user_presses(42, asked["message"], buttons["渠县"])
    assert "渠县" in telegram.wait_for(42, "渠县", after=before)["text"]
    assert any(m["method"] == "editMessageText" and "您选择了：渠县" in m["text"] for m in telegram.sent)


@pytest.mark.e2e
def test_an_over_long_message_is_cut_before_rasa_and_answered_after_the_note(telegram, stack):
    telegram.user_says(44, "我家里困难，想问一下能不能申请低保，需要什么材料。" * 150)  # 3750 characters
    note = telegram.wait_for(44, "有点长")
    assert note["text"] == TOO_LONG_NOTE
    answer = telegram.wait_for(44, "依据")  # the first part was answered, with its source
    assert telegram.messages_to(44).index(note) < telegram.messages_to(44).index(answer)
    conn = sqlite3.connect(stack.settings.data_dir / "rasa_tracker.db")
    try:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = 'tg-44' AND type_name = 'user'").fetchall()
    finally:
        conn.close()
    assert rows and all(len(json.loads(data)["text"]) <= MAX_MESSAGE_CHARS for (data,) in rows)


@pytest.mark.e2e
def test_start_greets_the_resident(telegram):
    telegram.user_says(43, "/start")
    assert "社会救助小助手" in telegram.wait_for(43, "社会救助小助手")["text"]


@pytest.mark.e2e
def test_handover_and_the_operators_reply_reach_the_chat(telegram, stack):
    before = len(telegram.messages_to(42))
    telegram.user_says(42, "我要找人工")
    number = re.search(r"工单号 (GD[0-9A-Z]+)", telegram.wait_for(42, "工单号 GD", after=before)["text"])[1]

    desk = CaseDesk(Database(stack.settings.resolved_database_url()))
    supervisor = Actor("user:sup-tg", "supervisor", None, "值班长")
    case = desk.get(number, supervisor)
    assert case["channel"] == "telegram" and case["sender_id"] == "tg-42"
    desk.reply(number, "您好，您的情况我们收到了，明天上午给您回电话。", supervisor)

    # Delivered by the gateway's outbox polling, without the resident writing again.
    reply = telegram.wait_for(42, "明天上午给您回电话", after=before, timeout=30)["text"]
    assert reply.startswith(f"【工作人员回复 · 工单 {number}】")
    deadline = time.monotonic() + 10  # marked delivered right after it was sent
    while desk.pending_replies("tg-42", "telegram") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert desk.pending_replies("tg-42", "telegram") == []
    time.sleep(4)  # another polling round sends nothing again
    assert sum("明天上午给您回电话" in m["text"] for m in telegram.messages_to(42)) == 1
