"""An operator, in headless Chromium: logs in, claims an urgent case, reads the
suggested answers with their citations, inserts one, edits it, replies and
resolves the case. Screenshots go to test-artifacts/.

The case is created through POST /v1/cases as the bot's action does.
"""
from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from bot.cases.users import create_user
from bot.config import Settings
from bot.stack import free_port
from tests.conftest import ServiceThread

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
BOT_TOKEN = "browser-test-bot-token"
PASSWORD = "operator-pass-1"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture
def service(tmp_path, monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: run scripts/system-deps.sh")
    monkeypatch.setenv("JZ_BOT_TOKEN", BOT_TOKEN)
    svc = ServiceThread(Settings(data_dir=tmp_path, service_port=free_port()))
    with svc.app.state.db.session() as s:
        create_user(s, "wangfang", PASSWORD, "operator", "王芳")
        s.commit()
    with svc:
        yield svc


def test_operator_answers_and_resolves_an_urgent_case(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bot = {"Authorization": f"Bearer {BOT_TOKEN}", "Idempotency-Key": "browser-conv-1"}
    created = httpx.post(f"{service.url}/v1/cases", headers=bot, timeout=30, json={
        "type": "urgent", "channel": "web", "sender_id": "web-browser-1", "jurisdiction": "渠县",
        "title": "家中失火，急需临时救助", "summary": "渠县居民家中失火，一家三口暂无住处，询问临时救助。",
        "questions": ["渠县临时救助怎么申请"],
        "transcript": [{"role": "resident", "text": "我家房子着火了，一家三口没地方住，怎么申请临时救助？"},
                       {"role": "bot", "text": "已为您转接人工，请稍候。"}],
        "contact": {"name": "张三", "phone": "13812345678"},
    })
    assert created.status_code == 201, created.text
    number = created.json()["number"]

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
            expect(page.locator("#transcript")).to_contain_text("一家三口没地方住")
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

    # The reply waits in the conversation's outbox for the web chat relay.
    replies = httpx.get(f"{service.url}/v1/conversations/web-browser-1/replies?consume=true",
                        headers={"Authorization": f"Bearer {BOT_TOKEN}"}).json()["replies"]
    assert [r["text"] for r in replies] == [edited]
    assert os.path.getsize(ARTIFACTS / "05-resolved.png") > 10_000
