"""A resident on a phone (390×844) at an intranet terminal's address over plain HTTP: an
origin that is not potentially trustworthy (jiuzhu.test mapped to 127.0.0.1), so no API
that needs a secure context exists. The whole stack runs (Rasa, action server, service:
bot/stack.py). Greeting; a question whose 看原文 shows the cited clauses folded; a reload
that shows the conversation again; a handover whose operator reply arrives once by
server-sent events (and once more after a reload: from the history, not twice); 我的工单;
大字 mode remembered; 结束对话 forgetting the conversation. Screenshots: test-artifacts/webchat/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.cases.desk import Actor, CaseDesk
from bot.db import Database

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "webchat"
HOST = "jiuzhu.test"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
]
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture
def stack(stack):
    """The session's stack (tests/conftest.py): the page finds its own conversation and case, so
    it needs no stack of its own (a Rasa start is half a minute of the suite)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make system-deps` (scripts/system-deps.sh)")
    return stack


def wait_until(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.2)


def ask(page, text: str) -> None:
    before = page.locator("#log .msg").count()
    page.fill("#q", text)
    # The send button is disabled while the assistant answers, and the typing indicator shows:
    # pressed and read in one task of the page, so an answer however fast cannot come in between.
    waiting = page.evaluate(
        "() => { const send = document.getElementById('send'); send.click();"
        " return [send.disabled, document.getElementById('typing').checkVisibility()]; }"
    )
    assert waiting == [True, True]
    page.wait_for_function(f"document.querySelectorAll('#log .msg').length > {before + 1}", timeout=60_000)
    page.wait_for_function("document.getElementById('send').disabled === false")
    assert page.is_hidden("#typing")


def test_a_resident_on_a_phone_over_plain_http(stack):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = urlsplit(stack.service_url).port
    url = f"http://{HOST}:{port}/"
    db = Database(stack.settings.resolved_database_url())
    desk = CaseDesk(db)
    supervisor = Actor("user:sup-phone", "supervisor", None, "值班长")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(url)
            assert page.evaluate("window.isSecureContext") is False
            assert page.evaluate("typeof crypto.randomUUID") == "undefined"
            assert page.evaluate("'serviceWorker' in navigator") is False

            # Greeting, accessible structure, a layout that fits the phone.
            expect(page.locator(".msg.bot").first).to_contain_text("社会救助小助手")
            assert page.get_attribute("#log", "aria-live") == "polite"
            assert page.evaluate("document.querySelector('label[for=q]').textContent") == "您的问题"
            assert page.evaluate("getComputedStyle(document.body).display") == "flex"
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            form_bottom = page.evaluate("document.getElementById('f').getBoundingClientRect().bottom")
            assert abs(form_bottom - PHONE["height"]) <= 1  # the input sits at the bottom of the screen
            emergency = page.locator("#danger a[href='tel:120']")
            expect(emergency).to_have_text("120")
            page.screenshot(path=ARTIFACTS / "01-greeting.png")

            # A question; its answer carries the basis line and a 看原文 button (a real <button>).
            ask(page, "低保是什么")
            answer = page.locator(".msg.bot").nth(1)
            expect(answer).to_contain_text("依据")
            sources = answer.get_by_role("button", name="看原文")
            expect(sources).to_have_count(1)
            before = page.locator("#log .msg").count()
            sources.click()
            page.wait_for_function(f"document.querySelectorAll('#log .msg').length > {before + 1}", timeout=60_000)
            quoted = page.locator(".msg.bot").last
            # Rasa sends each quoted clause as its own message: every one is folded.
            assert page.locator("#log .msg.bot details").count() >= 2
            expect(quoted.locator("details").first).to_be_visible()
            assert quoted.locator("details").count() >= 1
            assert quoted.locator("details[open]").count() == 0  # folded
            summary = quoted.locator("details summary").first
            expect(summary).to_contain_text("《")
            body = quoted.locator("details p").first
            expect(body).to_be_hidden()
            page.screenshot(path=ARTIFACTS / "02-answer-sources-folded.png")
            summary.click()
            expect(body).to_be_visible()
            page.screenshot(path=ARTIFACTS / "03-source-opened.png")

            # A reload in the same tab keeps the conversation (sessionStorage) and shows it again.
            conv = page.evaluate("JSON.parse(sessionStorage.getItem('jz_chat'))")
            shown_before = page.locator("#log .msg").count()
            page.reload()
            expect(page.locator("#log .msg")).to_have_count(shown_before)
            assert page.evaluate("JSON.parse(sessionStorage.getItem('jz_chat'))") == conv
            expect(page.locator(".msg.me").first).to_have_text("低保是什么")
            expect(page.locator(".msg.bot").nth(1).get_by_role("button", name="看原文")).to_have_count(1)
            assert page.locator(".msg.bot").last.locator("details").count() >= 1

            # Handover: a case for this conversation, listed under 我的工单.
            ask(page, "我要找工作人员")
            expect(page.locator(".msg.bot").last).to_contain_text("工单号")
            number = re.search(r"工单号 (GD[0-9A-Z]+)", page.locator("#log").inner_text())[1]
            hotline = page.locator(".msg.bot").last.locator("a[href^='tel:']")
            assert hotline.count() >= 1
            page.click("#my-cases")
            cases = page.locator("#cases")
            expect(cases).to_contain_text(number)
            expect(cases).to_contain_text("咨询")
            expect(cases).to_contain_text("已受理")
            expect(cases).to_contain_text("最近更新")
            page.screenshot(path=ARTIFACTS / "04-my-cases.png")
            page.click("#my-cases")

            # The operator replies: it arrives by server-sent events, once, and is delivered only
            # after the page says it showed it.
            reply = desk.reply(number, "您好，我是12349的王芳，乡镇明天上午联系您。", supervisor)
            operator = page.locator(".msg.operator")
            expect(operator).to_have_count(1, timeout=20_000)
            expect(operator).to_contain_text("乡镇明天上午联系您")
            expect(operator.locator("a[href='tel:12349']")).to_have_text("12349")
            assert page.evaluate("document.querySelectorAll('#log a[href^=\"tel:\"]').length") >= 2
            wait_until(lambda: desk.pending_replies(conv["sender"], "web") == [])
            time.sleep(3)  # more looks at the outbox by the stream: nothing more comes
            expect(operator).to_have_count(1)
            page.screenshot(path=ARTIFACTS / "05-operator-reply.png")
            audit = [e["action"] for e in desk.audit_log(number)]
            assert audit.count("reply_delivered") == 1, audit
            page.reload()
            expect(page.locator(".msg.operator")).to_have_count(1)  # from the history, not sent again
            time.sleep(3)
            expect(page.locator(".msg.operator")).to_have_count(1)
            assert reply["id"] in page.evaluate("Object.keys(shownReplies).map(Number)")

            # 大字: body text at least 22 px, remembered across a reload (localStorage).
            page.click("#big")
            expect(page.locator("#big")).to_have_attribute("aria-pressed", "true")
            size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.msg.bot')).fontSize)")
            assert size >= 22, size
            page.screenshot(path=ARTIFACTS / "06-big-text.png")
            page.reload()
            expect(page.locator("#big")).to_have_attribute("aria-pressed", "true")
            assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 22
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

            # 结束对话 on a shared terminal: this tab forgets the conversation and its history goes.
            page.once("dialog", lambda d: d.accept())
            page.click("#end")
            expect(page.locator("#log")).not_to_contain_text("低保是什么")
            expect(page.locator("#log")).to_contain_text("对话已结束")
            assert page.evaluate("sessionStorage.getItem('jz_chat')") is None
            page.screenshot(path=ARTIFACTS / "07-ended.png")
            page.reload()
            expect(page.locator("#log .msg")).to_have_count(1)  # the greeting only
            expect(page.locator("#big")).to_have_attribute("aria-pressed", "true")  # a preference, not personal
            from bot.channels import history

            wait_until(lambda: history.history(db, conv["sender"]) == [])
            assert errors == []
        finally:
            browser.close()
            db.engine.dispose()
    assert (ARTIFACTS / "05-operator-reply.png").stat().st_size > 10_000
