"""StackLink (bot/channels/gateway.py): the note to the case desk never holds up the answer.

Against a tiny fake Rasa and a fake service outbox on loopback (real sockets, so the note
and Rasa's request really go side by side), no stack processes.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bot.channels import gateway
from bot.channels.gateway import RASA_DOWN_REPLY, StackLink
from bot.config import Settings
from bot.stack import free_port
from tests.support.json_http import send_json

BOT_TOKEN = "test-bot-token"


class FakeDoors:
    """Rasa's REST channel and the service's /v1/conversations/{sender}/messages on one port.
    A note whose text has "慢" takes `slow_seconds`; `note_status` answers every note."""

    def __init__(self, port: int = 0, slow_seconds: float = 0.6, note_status: int = 200):
        self.slow_seconds, self.note_status = slow_seconds, note_status
        self.events: list[tuple[str, str]] = []  # ("rasa" | "note" | "noted", message), in arrival order
        self.message_ids: dict[str, list[str | None]] = {"rasa": [], "note": []}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeDoors:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seen(self, kind: str) -> list[str]:
        with self.lock:
            return [m for k, m in self.events if k == kind]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if self.path == "/webhooks/rest/webhook":
                    with fake.lock:
                        fake.events.append(("rasa", body["message"]))
                        fake.message_ids["rasa"].append(body["metadata"].get("message_id"))
                    self._answer(200, [{"recipient_id": body["sender"], "text": f"答：{body['message']}"}])
                    return
                assert self.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
                assert body["channel"] == "wechat"
                with fake.lock:
                    fake.events.append(("note", body["text"]))
                    fake.message_ids["note"].append(body.get("message_id"))
                if "慢" in body["text"]:
                    time.sleep(fake.slow_seconds)
                with fake.lock:
                    fake.events.append(("noted", body["text"]))
                self._answer(fake.note_status, {"case": None})

            def _answer(self, status: int, data) -> None:
                send_json(self, status, data)

            def log_message(self, *args) -> None:
                pass

        return Handler


def link_to(rasa_url: str, service_url: str, http: httpx.AsyncClient) -> StackLink:
    cfg = Settings(rasa_url=rasa_url, service_url=service_url, bot_token=BOT_TOKEN)
    return StackLink(cfg, http, "wechat")


def run(coro):
    return asyncio.run(coro)


def test_the_answer_does_not_wait_for_the_note_which_carries_rasas_message_id():
    with FakeDoors() as doors:

        async def turn():
            async with httpx.AsyncClient() as http:
                link = link_to(doors.url, doors.url, http)
                started = time.monotonic()
                answers = await link.ask_rasa("wx-o1", "慢慢说：我住三汇镇", note=True)
                took = time.monotonic() - started
                assert doors.seen("noted") == []  # the service is still storing the note
                await link.drain()
                return answers, took

        answers, took = run(turn())
    assert answers == [{"recipient_id": "wx-o1", "text": "答：慢慢说：我住三汇镇"}]
    assert took < doors.slow_seconds  # the turn did not wait for the slow note
    assert doors.seen("noted") == ["慢慢说：我住三汇镇"]
    # Rasa and the note name the same message: the case it creates (its transcript keeps the
    # id from Rasa's metadata) is not given it twice by the note.
    (rasa_id,), (note_id,) = doors.message_ids["rasa"], doors.message_ids["note"]
    assert rasa_id and rasa_id == note_id


def test_each_message_has_its_own_id():
    with FakeDoors() as doors:

        async def turns():
            async with httpx.AsyncClient() as http:
                link = link_to(doors.url, doors.url, http)
                await link.ask_rasa("wx-o8", "好的", note=True)
                await link.ask_rasa("wx-o8", "好的", note=True)  # the same words again: a new message
                await link.drain()

        run(turns())
    assert doors.message_ids["note"] == doors.message_ids["rasa"]
    assert len(set(doors.message_ids["note"])) == 2


def test_without_note_only_rasa_is_asked():
    with FakeDoors() as doors:

        async def turn():
            async with httpx.AsyncClient() as http:
                link = link_to(doors.url, doors.url, http)
                answers = await link.ask_rasa("wx-o2", "你好")
                await link.drain()
                return answers

        assert run(turn())[0]["text"] == "答：你好"
    assert doors.seen("note") == []


def test_notes_of_one_resident_keep_their_order():
    with FakeDoors() as doors:

        async def turns():
            async with httpx.AsyncClient() as http:
                link = link_to(doors.url, doors.url, http)
                await link.ask_rasa("wx-o3", "慢：第一句", note=True)
                await link.ask_rasa("wx-o3", "第二句", note=True)  # the first note is still being stored
                await link.drain()

        run(turns())
    assert doors.seen("noted") == ["慢：第一句", "第二句"]
    events = doors.events
    assert events.index(("noted", "慢：第一句")) < events.index(("note", "第二句"))


def test_a_note_that_never_reached_the_service_is_sent_again(monkeypatch):
    monkeypatch.setattr(gateway, "NOTE_RETRY_PAUSES", (0.4, 0.4))
    port = free_port()  # the service is not listening yet: the first try cannot connect
    with FakeDoors() as rasa:

        async def turn():
            async with httpx.AsyncClient() as http:
                link = link_to(rasa.url, f"http://127.0.0.1:{port}", http)
                started = time.monotonic()
                answers = await link.ask_rasa("wx-o4", "补充一下情况", note=True)
                took = time.monotonic() - started
                service = FakeDoors(port=port).__enter__()  # the service is back
                try:
                    await link.drain()
                finally:
                    service.__exit__()
                return answers, took, service

        answers, took, service = run(turn())
    assert answers[0]["text"] == "答：补充一下情况" and took < 0.4
    assert service.seen("noted") == ["补充一下情况"]  # once


def test_a_note_the_service_may_have_stored_is_not_sent_twice(monkeypatch):
    monkeypatch.setattr(gateway, "SERVICE_TIMEOUT", 0.2)  # the slow note times out after reaching the service
    with FakeDoors(slow_seconds=0.5) as doors:

        async def turn():
            async with httpx.AsyncClient() as http:
                link = link_to(doors.url, doors.url, http)
                await link.ask_rasa("wx-o5", "慢：说两遍？", note=True)
                await link.drain()

        run(turn())
        time.sleep(0.6)
    assert doors.seen("note") == ["慢：说两遍？"]


def test_rasa_down_still_answers_and_still_notes():
    with FakeDoors() as service:

        async def turn():
            async with httpx.AsyncClient() as http:
                link = link_to(f"http://127.0.0.1:{free_port()}", service.url, http)
                answers = await link.ask_rasa("wx-o6", "有人吗", note=True)
                await link.drain()
                return answers

        assert run(turn()) == [{"text": RASA_DOWN_REPLY}]
    assert service.seen("noted") == ["有人吗"]


@pytest.mark.parametrize("status", [409, 500])
def test_a_refused_note_never_breaks_the_turn(status):
    with FakeDoors(note_status=status) as doors:

        async def turn():
            async with httpx.AsyncClient() as http:
                link = link_to(doors.url, doors.url, http)
                await link.note_on_case("wx-o7", "补充")  # awaited to the end: returns, never raises
                answers = await link.ask_rasa("wx-o7", "补充", note=True)
                await link.drain()
                return answers

        assert run(turn())[0]["text"] == "答：补充"
    assert doors.seen("note") == ["补充", "补充"]


def test_quiet_conversations_are_asked_for_operator_replies_less_often():
    assert gateway.poll_interval(0, 3.0) == 3.0  # writing now: every round
    assert gateway.poll_interval(60, 3.0) == 15.0
    assert gateway.poll_interval(24 * 3600, 3.0) == gateway.QUIET_POLL_SECONDS
    polls = gateway.ReplyPolls(3.0)
    assert polls.due("wx-a", quiet_seconds=1, now=100.0)  # never asked
    polls.asked("wx-a", 100.0)
    assert not polls.due("wx-a", quiet_seconds=2, now=101.0)
    assert polls.due("wx-a", quiet_seconds=4, now=103.0)
    polls.asked("wx-a", 103.0)
    assert not polls.due("wx-a", quiet_seconds=600, now=120.0)  # quiet ten minutes: every 30 s
    assert polls.due("wx-a", quiet_seconds=630, now=133.0)
    polls.keep([])
    assert polls.due("wx-a", quiet_seconds=630, now=133.1)  # forgotten: asked at the next round
