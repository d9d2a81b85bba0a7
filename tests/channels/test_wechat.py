"""The WeChat gateway (bot/channels/wechat.py) against a fake WeChat server API on loopback.

The gateway runs as the stack runs it: `python -m bot.channels.wechat` in its own process
(Stack.wechat_process). Most tests point it at a tiny fake Rasa (tests/support/fake_wechat.py,
which answers at once, or after 6 s for a message with "慢") and the real service in a thread
(the `service` fixture); the last one uses the real stack.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import xmltodict
from pydantic import ValidationError

from bot.cases.desk import BOT, Actor, CaseDesk
from bot.channels.wechat import (
    EMPTY_REPLY,
    MAX_TEXT_BYTES,
    MENU_FILE,
    NOT_TEXT_REPLY,
    REPLAY_WINDOW_SECONDS,
    TOO_LONG_NOTE,
    VOICE_UNHEARD_REPLY,
    WELCOME,
    WINDOW_CLOSED_REASON,
)
from bot.config import Settings
from bot.service.chat_schemas import ChatIn
from bot.stack import APP_PYTHON, Process, Stack, free_port
from bot.text import MAX_MESSAGE_CHARS
from tests.cases.conftest import new_case
from tests.conftest import BOT_TOKEN, stack_settings
from tests.support.fake_wechat import FakeRasa, FakeWeChat, Push

TOKEN = "jiuzhu-wechat-token"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "test-app-secret-0123456789abcdef"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters, as WeChat shows it
SUPERVISOR = Actor("user:sup-wx", "supervisor", None, "值班长")


def wechat_settings(data_dir: Path, rasa_url: str, service_url: str, api_url: str, **extra) -> Settings:
    return stack_settings(
        data_dir,
        rasa_url=rasa_url,
        service_url=service_url,
        bot_token=BOT_TOKEN,
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_aes_key=AES_KEY,
        wechat_api_url=api_url,
        wechat_port=free_port(),
        **extra,
    )


def run_gateway(cfg: Settings, model: Path | None = Path("model.tar.gz")) -> Process:
    gateway = Stack(cfg, model=model).wechat_process()
    gateway.start()
    deadline = time.monotonic() + 60
    while not gateway.healthy():
        if not gateway.alive() or time.monotonic() > deadline:
            gateway.stop()
            raise RuntimeError(f"the WeChat gateway did not start:\n{gateway.tail()}")
        time.sleep(0.1)
    return gateway


class Door:
    """The gateway's /wechat URL, as WeChat's servers call it."""

    def __init__(self, url: str, push: Push):
        self.url, self.push = f"{url}/wechat", push

    def post(self, xml: str, query: dict | None = None) -> httpx.Response:
        return httpx.post(self.url, params=query or self.push.query(), content=xml.encode(), timeout=10)

    def says(self, openid: str, text: str, **kw) -> str:
        """The passive reply's text ("" when the gateway answered "success")."""
        r = self.post(self.push.text(openid, text, **kw))
        assert r.status_code == 200, r.text
        return reply_text(r.text)


def reply_text(body: str) -> str:
    if body in ("success", ""):
        return ""
    xml = xmltodict.parse(body)["xml"]
    assert xml["MsgType"] == "text"
    return xml["Content"]


@pytest.fixture(scope="module")
def world(service, tmp_path_factory) -> Iterator[tuple[Door, FakeWeChat, FakeRasa, Process]]:
    with FakeWeChat(APP_ID, APP_SECRET) as wechat, FakeRasa() as rasa:
        cfg = wechat_settings(tmp_path_factory.mktemp("wechat"), rasa.url, service.url, wechat.url)
        gateway = run_gateway(cfg)
        yield Door(gateway.health_url.removesuffix("/healthz"), Push(TOKEN, APP_ID, AES_KEY)), wechat, rasa, gateway
        gateway.stop()
        assert not wechat.unknown, f"WeChat APIs the fake does not implement: {wechat.unknown}"


@pytest.fixture
def door(world) -> Door:
    return world[0]


@pytest.fixture
def wechat(world) -> FakeWeChat:
    return world[1]


@pytest.fixture
def rasa(world) -> FakeRasa:
    return world[2]


@pytest.fixture
def desk(service) -> CaseDesk:
    return CaseDesk(service.app.state.db)


# ------------------------------------------------------------------ wiring and pure parts


def test_the_stack_runs_the_gateway_only_with_a_token(tmp_path):
    without = Stack(stack_settings(tmp_path), model=Path("model.tar.gz"))
    without.build()
    assert "wechat" not in without.processes

    cfg = stack_settings(
        tmp_path,
        wechat_token=TOKEN,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_aes_key=AES_KEY,
        wechat_api_url="http://127.0.0.1:9",
        wechat_port=18010,
        wechat_host="0.0.0.0",
    )
    with_token = Stack(cfg, model=Path("model.tar.gz"))
    with_token.build()
    wx = with_token.processes["wechat"]
    assert wx.cmd[-2:] == ["-m", "bot.channels.wechat"]
    assert wx.health_url == "http://127.0.0.1:18010/healthz"
    assert wx.env["JZ_WECHAT_HOST"] == "0.0.0.0" and wx.env["JZ_WECHAT_PORT"] == "18010"
    assert wx.env["JZ_WECHAT_TOKEN"] == TOKEN and wx.env["JZ_WECHAT_AES_KEY"] == AES_KEY
    assert wx.env["JZ_WECHAT_API_URL"] == "http://127.0.0.1:9"
    assert wx.env["JZ_BOT_TOKEN"] == with_token.settings.bot_token  # the service's outbox accepts it
    assert with_token.settings.bind_host("rasa") == "127.0.0.1"  # exposing WeChat's door exposes nothing else


def test_the_web_chat_can_never_use_a_wechat_id():
    with pytest.raises(ValidationError):
        ChatIn(sender="wx-oAbC123", message="你好")


# ------------------------------------------------------------------ URL check and messages


def test_url_verification_echoes_only_with_the_right_signature(door):
    query = door.push.query(echostr="4120184312858472263")
    r = httpx.get(door.url, params=query)
    assert r.status_code == 200 and r.text == "4120184312858472263"
    r = httpx.get(door.url, params={**query, "signature": "0" * 40})
    assert r.status_code == 403 and "4120184312858472263" not in r.text
    # A message with a bad signature is refused and never reaches Rasa.
    r = door.post(door.push.text("o_forged", "低保是什么"), {**door.push.query(), "signature": "0" * 40})
    assert r.status_code == 403


def signed_at(push: Push, seconds_ago: int, **extra) -> dict:
    """A correctly signed query whose timestamp is `seconds_ago` old (negative: in the future)."""
    timestamp, nonce = str(int(time.time()) - seconds_ago), f"at{seconds_ago}"
    return {"signature": push.signature(timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}


def test_a_replayed_signature_is_refused(door, rasa):
    # A signed query seen once (WeChat signs the query, not the body) cannot be used later
    # to post someone's message: outside the replay window it is refused before Rasa.
    stale = REPLAY_WINDOW_SECONDS + 300
    for seconds_ago in (stale, -stale):
        r = door.post(door.push.text("o_replay", "冒充的消息"), signed_at(door.push, seconds_ago))
        assert r.status_code == 403
    xml = door.push.text("o_replay", "冒充的加密消息")
    query = signed_at(door.push, stale, encrypt_type="aes")
    envelope = xmltodict.parse(door.push.crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))["xml"]
    body = f"<xml><ToUserName>gh_jiuzhu_test</ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    assert door.post(body, {**query, "msg_signature": envelope["MsgSignature"]}).status_code == 403
    # The URL check too; a fresh one still echoes.
    r = httpx.get(door.url, params=signed_at(door.push, stale, echostr="5120184312858472263"))
    assert r.status_code == 403 and "5120184312858472263" not in r.text
    assert httpx.get(door.url, params=signed_at(door.push, 30, echostr="5120")).text == "5120"
    # Within the window (a retry, clocks a little apart) a message is read as always.
    assert (
        reply_text(door.post(door.push.text("o_replay", "两分钟前发的"), signed_at(door.push, 120)).text)
        == "收到：两分钟前发的"
    )
    assert rasa.calls_from("wx-o_replay") == ["两分钟前发的"]


def test_a_plain_text_message_is_answered_passively(door, rasa):
    r = door.post(door.push.text("o_plain", "低保是什么"))
    reply = xmltodict.parse(r.text)["xml"]
    assert reply["ToUserName"] == "o_plain" and reply["FromUserName"] == "gh_jiuzhu_test"
    assert reply["Content"] == "收到：低保是什么"
    call = [c for c in rasa.calls if c["sender"] == "wx-o_plain"][-1]
    assert call["metadata"]["channel"] == "wechat" and call["metadata"]["message_id"]  # its note's id too


def test_a_safe_mode_message_is_decrypted_and_answered_encrypted(door, rasa):
    query, body = door.push.encrypted(door.push.text("o_aes", "特困供养是什么"))
    r = door.post(body, query)
    assert r.status_code == 200 and "Encrypt" in r.text and "特困" not in r.text
    assert reply_text(door.push.decrypt_reply(r.text)) == "收到：特困供养是什么"
    # A damaged msg_signature is refused.
    query, body = door.push.encrypted(door.push.text("o_aes", "再问一个"))
    assert door.post(body, {**query, "msg_signature": "0" * 40}).status_code == 403
    assert rasa.calls_from("wx-o_aes") == ["特困供养是什么"]


def test_a_slow_answer_goes_by_the_customer_service_api(door, wechat):
    started = time.monotonic()
    r = door.post(door.push.text("o_slow", "慢慢问：低保怎么申请"))
    assert time.monotonic() - started < 5  # WeChat gives up after 5 s
    assert r.text == "success"
    assert wechat.wait_for("o_slow", "慢慢答", timeout=15) == "慢慢答：慢慢问:低保怎么申请"  # NFKC: full-width colon


def test_a_retried_message_is_processed_once(door, wechat, rasa):
    xml = door.push.text("o_retry", "慢一点也行", msg_id=880001)
    answers = []
    first = threading.Thread(target=lambda: answers.append(door.post(xml).text))
    first.start()
    time.sleep(1.5)  # WeChat's retry arrives while the first is still being answered
    answers.append(door.post(xml).text)
    first.join()
    assert answers == ["success", "success"]
    wechat.wait_for("o_retry", "慢慢答", timeout=15)
    time.sleep(1)
    assert rasa.calls_from("wx-o_retry") == ["慢一点也行"]
    assert len(wechat.messages_to("o_retry")) == 1
    # A retry after a passive answer (WeChat may have lost it) gets the same answer, no new turn.
    xml = door.push.text("o_retry", "低保", msg_id=880002)
    assert reply_text(door.post(xml).text) == reply_text(door.post(xml).text) == "收到：低保"
    assert rasa.calls_from("wx-o_retry") == ["慢一点也行", "低保"]
    # Events have no MsgId: FromUserName + CreateTime identify them.
    event = door.push.event("o_retry", "subscribe", create_time=1_700_000_000)
    door.post(event), door.post(event)
    assert rasa.calls_from("wx-o_retry").count("你好") == 1


def test_an_expired_access_token_is_refreshed(door, wechat):
    door.says("o_token", "长一点的答复")  # warms the token: the rest of a long answer goes by the API
    wechat.wait_for("o_token", "第一条规定")
    before, sent = wechat.token_calls, len(wechat.messages_to("o_token"))
    wechat.expire_tokens()
    first = door.says("o_token", "再来一个长的")
    assert first.startswith("第一条规定") and len(first.encode()) <= MAX_TEXT_BYTES
    wechat.wait_for("o_token", "第一条规定", after=sent)
    assert wechat.token_calls == before + 1
    assert any(r["errcode"] == 42001 for r in wechat.refused)
    # errcode 40001 (a token another fetch replaced) also fetches a new one, once.
    before, sent = wechat.token_calls, len(wechat.messages_to("o_token"))
    wechat.fail_next(40001)
    door.says("o_token", "第三个长的")
    wechat.wait_for("o_token", "第一条规定", after=sent)
    assert wechat.token_calls == before + 1
    # Chinese is sent as UTF-8, not \\u escapes (WeChat would show those as they are).
    assert "第一条规定" in wechat.sent[-1]["raw"]


def test_buttons_are_numbered_and_a_number_sends_the_payload(door, rasa):
    reply = door.says("o_buttons", "让我选地方")
    assert reply == "您在哪个县？\n回复 1：渠县\n回复 2：会宁县"
    door.says("o_buttons", "２")  # full-width digits too
    assert rasa.calls_from("wx-o_buttons")[-1] == '/tell_place{"place": "会宁"}'
    door.says("o_buttons", "5")  # no such choice: read as text
    assert rasa.calls_from("wx-o_buttons")[-1] == "5"


def test_voice_uses_the_recognition_or_asks_to_type(door, rasa):
    assert reply_text(door.post(door.push.voice("o_voice", "临时救助怎么申请。")).text) == "收到：临时救助怎么申请。"
    assert reply_text(door.post(door.push.voice("o_voice", None)).text) == VOICE_UNHEARD_REPLY
    assert reply_text(door.post(door.push.image("o_voice")).text) == NOT_TEXT_REPLY
    assert door.says("o_voice", " \u200b\u3000 ") == EMPTY_REPLY
    assert rasa.calls_from("wx-o_voice") == ["临时救助怎么申请。"]


def test_subscribe_greets_and_a_menu_click_sends_its_key(door, rasa):
    greeting = reply_text(door.post(door.push.event("o_menu", "subscribe")).text)
    assert greeting == f"您好！我是社会救助小助手。\n\n{WELCOME}"
    door.post(door.push.event("o_menu", "CLICK", key="/start_screen"))
    door.post(door.push.event("o_menu", "CLICK", key="低保怎么申请"))
    assert rasa.calls_from("wx-o_menu") == ["你好", "/start_screen", "低保怎么申请"]
    # A typed "/" is not an intent: only buttons and the menu send payloads.
    door.says("o_menu", "/request_human")
    assert rasa.calls_from("wx-o_menu")[-1] == "request_human"
    assert door.post(door.push.event("o_menu", "VIEW", key="https://example.invalid")).text == "success"


def test_an_over_long_message_is_cut_and_answered_after_the_note(door, rasa):
    reply = door.says("o_long", "我家" * MAX_MESSAGE_CHARS)
    assert reply.startswith(TOO_LONG_NOTE + "\n\n收到：我家")
    assert len(rasa.calls_from("wx-o_long")[-1]) <= MAX_MESSAGE_CHARS


def test_the_menu_cli_posts_the_menu_file(world, tmp_path):
    wechat = world[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JZ_")} | {
        "JZ_DATA_DIR": str(tmp_path),
        "JZ_WECHAT_APP_ID": APP_ID,
        "JZ_WECHAT_APP_SECRET": APP_SECRET,
        "JZ_WECHAT_API_URL": wechat.url,
    }
    done = subprocess.run(
        [str(APP_PYTHON), "-m", "bot.channels.wechat", "menu"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert wechat.menus[-1] == json.loads(MENU_FILE.read_text(encoding="utf-8"))
    keys = [b.get("key") for top in wechat.menus[-1]["button"] for b in [top, *top.get("sub_button", [])]]
    assert "/start_screen" in keys and "/report_urgent" in keys


# ------------------------------------------------------------------ operator replies


def _case_for(desk: CaseDesk, openid: str) -> str:
    return desk.create_case(new_case(sender_id=f"wx-{openid}", channel="wechat"), BOT)[0]["number"]


def test_a_typed_message_joins_the_open_case_once(door, rasa, desk):
    number = _case_for(desk, "o_note")  # handed over (the case the bot made from the chat)
    turns = len(desk.case_record(number).transcript)
    assert door.says("o_note", "补充一下我住三汇镇") == "收到：补充一下我住三汇镇"  # the answer did not wait for it
    deadline = time.monotonic() + 10
    while len(desk.case_record(number).transcript) == turns and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    texts = [t["text"] for t in desk.case_record(number).transcript]
    assert texts[turns:] == ["补充一下我住三汇镇"]
    door.post(door.push.event("o_note", "CLICK", key="/start_screen"))  # a menu click is not the resident's words
    assert rasa.calls_from("wx-o_note")[-1] == "/start_screen"
    time.sleep(0.5)
    assert len(desk.case_record(number).transcript) == turns + 1


def test_the_message_that_makes_a_case_joins_it_once_though_its_note_comes_after(door, rasa, desk, monkeypatch):
    """The note goes while Rasa answers. Here the desk reads it only once the handover (as the
    action server makes it: the transcript from Rasa's tracker, message ids from its
    metadata) has made the case, the order that would otherwise add the message twice."""
    made, noted = threading.Event(), []

    def hand_over(body: dict) -> None:
        turn = {"role": "resident", "text": body["message"], "message_id": body["metadata"]["message_id"]}
        desk.create_case(new_case(sender_id=body["sender"], channel="wechat", transcript=[turn]), BOT)
        made.set()

    add = CaseDesk.add_resident_message

    def after_the_handover(self, sender_id, text, channel=None, message_id=None):
        if sender_id == "wx-o_made":
            made.wait(10)
            noted.append(add(self, sender_id, text, channel, message_id))
            return noted[-1]
        return add(self, sender_id, text, channel, message_id)

    monkeypatch.setattr(CaseDesk, "add_resident_message", after_the_handover)
    rasa.actions["我要找人工帮忙"] = hand_over
    door.says("o_made", "我要找人工帮忙")
    deadline = time.monotonic() + 10
    while not noted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert noted and noted[0] is not None  # the note found the new case…
    assert [t["text"] for t in desk.case_record(noted[0]).transcript] == ["我要找人工帮忙"]  # …and added nothing


def test_an_operator_reply_is_delivered_through_the_customer_service_api(door, wechat, desk):
    door.says("o_op", "我要找人工")  # the resident wrote: the 48-hour window is open
    number = _case_for(desk, "o_op")
    desk.reply(number, "您好，您的情况我们收到了，明天上午给您回电话。", SUPERVISOR)
    text = wechat.wait_for("o_op", "明天上午给您回电话")
    assert text.startswith(f"【工作人员回复 · 工单 {number}】")
    deadline = time.monotonic() + 10
    while desk.pending_replies("wx-o_op", "wechat") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert desk.pending_replies("wx-o_op", "wechat") == []
    assert desk.get(number, SUPERVISOR)["channel_label"] == "微信公众号"
    time.sleep(4)  # another polling round sends nothing again
    assert sum("明天上午给您回电话" in t for t in wechat.messages_to("o_op")) == 1


def test_a_turn_with_no_replies_waiting_asks_the_outbox_nothing(door, monkeypatch):
    asked = []
    pending = CaseDesk.pending_replies

    def counted(self, sender_id, channel=None):
        asked.append(sender_id)
        return pending(self, sender_id, channel)

    monkeypatch.setattr(CaseDesk, "pending_replies", counted)
    door.says("o_quiet", "低保怎么申请")
    door.says("o_quiet", "谢谢")
    time.sleep(4)  # past the end of both turns and a polling round
    assert "wx-o_quiet" not in asked


def test_past_the_48_hour_window_the_desk_is_told_and_the_reply_waits(door, wechat, desk):
    door.says("o_gone", "低保怎么申请")
    wechat.closed_window.add("o_gone")  # WeChat: 45015, the window has closed
    number = _case_for(desk, "o_gone")
    desk.reply(number, "请带户口本到乡镇办理。", SUPERVISOR)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        replies = desk.get(number, SUPERVISOR)["replies"]
        if replies and replies[0].get("undeliverable"):
            break
        time.sleep(0.3)
    assert replies[0]["undeliverable"] == WINDOW_CLOSED_REASON and not replies[0]["delivered"]
    assert [e["action"] for e in desk.audit_log(number)].count("reply_undeliverable") == 1
    time.sleep(4)  # told once, not at every polling round
    assert [e["action"] for e in desk.audit_log(number)].count("reply_undeliverable") == 1
    assert wechat.messages_to("o_gone") == []
    # The resident writes again: the window reopens and the waiting reply goes out.
    wechat.closed_window.discard("o_gone")
    door.says("o_gone", "还在吗")
    assert "请带户口本到乡镇办理" in wechat.wait_for("o_gone", "请带户口本")
    deadline = time.monotonic() + 10
    while not desk.get(number, SUPERVISOR)["replies"][0]["delivered"] and time.monotonic() < deadline:
        time.sleep(0.2)
    reply = desk.get(number, SUPERVISOR)["replies"][0]
    assert reply["delivered"] and "undeliverable" not in reply


def test_no_secret_or_phone_number_in_the_log(world, door):
    gateway = world[3]
    door.says("o_log", "我的电话是13812345678")
    time.sleep(0.5)
    log = gateway.tail(500)
    assert "WeChat gateway:" in log
    assert APP_SECRET not in log and AES_KEY not in log and "ACCESS_TOKEN_" not in log and "13812345678" not in log


# ------------------------------------------------------------------ end to end


@pytest.mark.e2e
def test_a_policy_question_through_wechat_gets_the_cited_answer(stack, tmp_path_factory):
    with FakeWeChat(APP_ID, APP_SECRET) as wechat:
        cfg = stack.settings.model_copy(
            update={
                "wechat_token": TOKEN,
                "wechat_app_id": APP_ID,
                "wechat_app_secret": APP_SECRET,
                "wechat_aes_key": AES_KEY,
                "wechat_api_url": wechat.url,
                "wechat_port": free_port(),
            }
        )
        gateway = run_gateway(cfg, model=stack.model)
        try:
            door = Door(gateway.health_url.removesuffix("/healthz"), Push(TOKEN, APP_ID, AES_KEY))
            reply = door.says("o_e2e", "低保怎么申请")
            texts = reply + "\n".join(wechat.messages_to("o_e2e"))  # passive, or by the API if Rasa was slow
            if not reply:
                texts = wechat.wait_for("o_e2e", "依据", timeout=30)
            assert "低保" in texts and "依据" in texts and "《" in texts, gateway.tail()
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- gateway log:\n{gateway.tail()}") from exc
        finally:
            gateway.stop()
