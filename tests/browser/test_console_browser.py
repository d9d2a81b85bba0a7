"""An operator, in headless Chromium: logs in, claims an urgent case that a resident
reported in the web chat (real Rasa server, action server and service), reads the
suggested answers with their citations, inserts one, edits it, replies and resolves
the case; the reply reaches the resident's chat. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.cases.users import create_user
from bot.db import Database
from bot.stack import Stack
from tests.conftest import stack_settings, texts
from tests.support.web_chat import WebChat

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "operator-pass-1"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The whole stack, of its own, so the queue holds only this test's cases."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make system-deps` (scripts/system-deps.sh)")
    stack = Stack(stack_settings(tmp_path_factory.mktemp("browser-stack")))
    stack.build()
    db = Database(stack.settings.resolved_database_url())
    db.migrate()
    with db.session() as s:
        create_user(s, "wangfang", PASSWORD, "operator", "王芳")
        s.commit()
    stack.start()
    stack.url = stack.service_url
    yield stack
    stack.stop()


def chat(resident: WebChat, message: str) -> str:
    return texts(resident.say(message))


def test_operator_answers_and_resolves_an_urgent_case(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    resident = WebChat.start(service.url)
    assert "119" in chat(resident, "我家房子着火了，烧光了，一家三口今晚没地方住")
    chat(resident, "渠县三汇镇，电话13812345678")
    reply = chat(resident, "可以")
    number = re.search(r"工单号 (GD[0-9A-Z]+)", reply)[1]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        try:
            page.goto(f"{service.url}/console")
            expect(page).to_have_url(f"{service.url}/console/login?next=/console")
            page.fill("input[name=username]", "wangfang")
            page.fill("input[name=password]", PASSWORD)
            page.screenshot(path=ARTIFACTS / "01-login.png")
            page.click("button[type=submit]")
            expect(page.locator("[data-count=urgent]")).to_have_text("1")
            expect(page.locator("table")).to_contain_text(number)
            page.screenshot(path=ARTIFACTS / "02-queue.png", full_page=True)

            page.click("#claim-next")
            expect(page).to_have_url(f"{service.url}/console/cases/{number}")
            expect(page.locator("#case-status")).to_have_text("已分派")
            expect(page.locator("#transcript")).to_contain_text("一家三口今晚没地方住")
            expect(page.locator("#contact-phone")).to_have_text("13812345678")

            suggestion = page.locator("#suggestions .suggestion").first
            expect(suggestion.locator(".answer")).not_to_be_empty()
            assert suggestion.locator(".citation").count() >= 1
            citation = suggestion.locator(".citation").first.inner_text()
            assert "《" in citation
            page.screenshot(path=ARTIFACTS / "03-case-suggestions.png", full_page=True)

            suggestion.locator("button.insert").click()
            box = page.locator("#reply-text")
            inserted = box.input_value()
            assert inserted and inserted == suggestion.locator("button.insert").get_attribute("data-insert")
            edited = "张先生您好，" + inserted.split("\n\n政策依据")[0][:300] + "\n乡镇工作人员今天会联系您。"
            box.fill(edited)
            page.screenshot(path=ARTIFACTS / "04-reply-edited.png", full_page=True)
            page.click("#send-reply")
            expect(page.locator(".flash")).to_contain_text("回复已发送")
            expect(page.locator("#case-status")).to_have_text("处理中")
            expect(page.locator("#transcript")).to_contain_text("乡镇工作人员今天会联系您")

            page.fill("#resolution", "已联系乡镇安排临时住所并启动急难型临时救助")
            page.click("#action-resolved")
            expect(page.locator(".flash")).to_contain_text("已办结")
            expect(page.locator("#case-status")).to_have_text("已办结")
            page.screenshot(path=ARTIFACTS / "05-resolved.png", full_page=True)
        finally:
            browser.close()

    # The operator's reply reaches the resident's web chat, once.
    shown = resident.replies()
    assert len(shown) == 1 and edited.replace("\r\n", "\n").strip() in shown[0]["text"]
    assert os.path.getsize(ARTIFACTS / "05-resolved.png") > 10_000
