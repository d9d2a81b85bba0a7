"""The resident's web chat page in headless Chromium, as on an intranet terminal over plain
HTTP (where crypto.randomUUID does not exist: removed here, since Chromium counts
127.0.0.1 as secure). The service runs alone in this process; Rasa is a closed port, so
every message gets the relay's friendly "暂时连不上" answer, which is all this needs:
the page gets its conversation from the service, keeps it (and shows it again) across a
reload, receives the operator's replies by server-sent events and acknowledges each, and
starts a new conversation when the service refuses its token. The phone-sized test with the
whole stack is tests/browser/test_webchat_phone.py.
"""

from __future__ import annotations

import time

import pytest

from bot.cases.desk import BOT, Actor, CaseDesk
from bot.config import Settings
from bot.stack import free_port
from tests.cases.conftest import new_case
from tests.support.console_server import require_chromium, serving

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLAIN_HTTP = "delete Crypto.prototype.randomUUID;"  # what a non-secure context lacks

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from bot.service.app import create_app

    require_chromium()
    app = create_app(
        Settings(data_dir=tmp_path_factory.mktemp("chat-page"), rasa_url=f"http://127.0.0.1:{free_port()}")
    )
    app.state.chat_events_interval = 0.2  # the events stream looks at the outbox often
    with serving(app):
        yield app


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)


def conversation(page) -> dict:
    return page.evaluate("JSON.parse(sessionStorage.getItem('jz_chat'))")


def test_the_page_keeps_its_conversation_and_recovers_a_refused_one(service):
    from playwright.sync_api import expect, sync_playwright

    desk = CaseDesk(service.state.db)
    supervisor = Actor("user:sup-browser", "supervisor", None, "值班长")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.add_init_script(PLAIN_HTTP)
        try:
            page.goto(service.state.url + "/")
            assert page.evaluate("typeof crypto.randomUUID") == "undefined"
            page.fill("#q", "低保是什么")
            page.press("#q", "Enter")
            expect(page.locator(".msg.bot").last).to_contain_text("暂时连不上")
            first = conversation(page)
            assert first["sender"].startswith("web-") and first["token"]

            page.reload()  # the same tab keeps its conversation, and shows it again
            assert conversation(page) == first
            expect(page.locator(".msg.me")).to_have_text(["低保是什么"])
            expect(page.locator(".msg.bot").last).to_contain_text("暂时连不上")

            # The bot handed the conversation over; an operator replies; the events stream brings it
            # and the page says it showed it (only then is it delivered).
            number = desk.create_case(new_case(sender_id=first["sender"], channel="web"), BOT)[0]["number"]
            desk.reply(number, "您好，乡镇明天上午联系您。", supervisor)
            expect(page.locator(".msg.bot").last).to_contain_text("乡镇明天上午联系您")
            wait_until(lambda: desk.pending_replies(first["sender"]) == [])
            page.fill("#q", "还在吗")
            page.press("#q", "Enter")
            expect(page.locator(".msg.bot").last).to_contain_text("暂时连不上")
            desk.reply(number, "请带上户口本。", supervisor)
            expect(page.locator(".msg.bot").last).to_contain_text("请带上户口本")
            expect(page.locator(".msg.operator")).to_have_count(2)

            # A token the service no longer accepts: the page starts a new conversation by itself.
            page.evaluate("conv.token = 'forged'; sessionStorage.setItem('jz_chat', JSON.stringify(conv))")
            page.fill("#q", "你好")
            page.press("#q", "Enter")
            # since the reload: greeting, the answer shown again, a reply, an answer, a reply, this answer
            expect(page.locator(".msg.bot")).to_have_count(6)
            expect(page.locator(".msg.bot").last).to_contain_text("暂时连不上")
            second = conversation(page)
            assert second["sender"] != first["sender"] and second["token"] != "forged"
            assert errors == []
        finally:
            browser.close()
