"""The live queue page in headless Chromium: an operator has the queue open, turns the alert
sound on (remembered across a reload), and an urgent case is made through the desk in the
service's database. Without a reload the urgent count goes up, a bar says there is a new case
(its number and masked title), and the title flashes 【新急难】 until she clicks the page. The bar
reloads the page, which then lists the case. Screenshots go to test-artifacts/console-live/.

Only the service is needed (the real FastAPI app on loopback, lifespan off); the stream's rules
are in tests/cases/test_console_events.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cases.actors import Actor
from bot.cases.desk import BOT, CaseDesk, NewCase
from bot.cases.users import create_user
from bot.config import Settings
from tests.browser.test_console_browser import CHROMIUM, LAUNCH_ARGS
from tests.support.console_server import require_chromium, serving, submit_login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console-live"
PASSWORD = "live-pass-0001"
ALERT = re.compile("^【新急难】")

pytestmark = pytest.mark.browser


def _case(kind: str, n: int) -> NewCase:
    return NewCase(
        type=kind,
        jurisdiction="渠县",
        sender_id=f"live-{n}",
        title=f"{'急难求助' if kind == 'urgent' else '咨询低保'} {n}",
        summary="测试",
        contact={"name": f"居民{n}", "phone": f"1380000{n:04d}"},
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from bot.service.app import create_app

    require_chromium()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("console-live")))
    app.state.console_events_interval = 0.2  # the stream looks at the database often
    with app.state.db.session() as s:
        app.state.operator = Actor.user(create_user(s, "wangfang", PASSWORD, "operator", "王芳"))
        app.state.supervisor = Actor.user(create_user(s, "zhaobz", PASSWORD, "supervisor", "赵班长"))
        s.commit()
    app.state.desk = CaseDesk(app.state.db)
    app.state.desk.create_case(_case("consultation", 1), BOT)
    with serving(app):
        yield app


def test_a_new_urgent_case_shows_up_without_a_reload(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url, desk = service.state.url, service.state.desk
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{url}/console")
            submit_login(page, "wangfang", PASSWORD)
            expect(page.locator("tr[data-case]")).to_have_count(1)
            expect(page.locator("header [data-count=urgent]")).to_have_text("0")
            title = page.title()
            assert not ALERT.match(title)

            # Sound starts off; turned on, it stays on after a reload.
            expect(page.locator("#sound-toggle")).to_have_text("开启提示音")
            page.click("#sound-toggle")
            expect(page.locator("#sound-toggle")).to_have_text("关闭提示音")
            page.reload()
            expect(page.locator("#sound-toggle")).to_have_text("关闭提示音")
            expect(page.locator("body[data-live=open]")).to_have_count(1)  # the stream is open
            expect(page.locator("#live-bar")).to_be_hidden()
            page.screenshot(path=ARTIFACTS / "01-queue-open.png", full_page=True)

            number = desk.create_case(_case("urgent", 2), BOT)[0]["number"]  # as the bot would

            # The stream looks every 0.2 s: the new case is on the open page within 5 s.
            expect(page.locator("header [data-count=urgent]")).to_have_text("1", timeout=5_000)
            expect(page.locator("header [data-count=urgent]")).to_have_class(re.compile(r"\bhot\b"))
            expect(page.locator("#live-bar")).to_be_visible()
            expect(page.locator("#live-new-count")).to_have_text("1")
            expect(page.locator("#live-latest")).to_contain_text(number)
            expect(page.locator("#live-latest")).to_contain_text("急难求助 2")
            expect(page).to_have_title(ALERT)
            expect(page.locator("tr[data-case]")).to_have_count(1)  # no reload happened
            page.screenshot(path=ARTIFACTS / "02-new-urgent-case.png", full_page=True)

            page.click("#live-refresh")  # the bar reloads the page, the click ends the alert
            expect(page.locator(f'tr[data-case="{number}"]')).to_have_count(1)
            expect(page.locator("#live-bar")).to_be_hidden()
            expect(page).to_have_title(title)
            page.screenshot(path=ARTIFACTS / "03-after-refresh.png", full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "02-new-urgent-case.png").stat().st_size > 5_000


def test_an_open_case_page_shows_the_residents_new_message_and_a_colleagues_change(service):
    """While the operator writes a reply: the resident writes again, a supervisor adds a note and
    changes the status; all appear in place, and what she typed is still there."""
    from playwright.sync_api import expect, sync_playwright

    url, desk = service.state.url, service.state.desk
    number = desk.create_case(_case("consultation", 3), BOT)[0]["number"]
    desk.assign(number, "wangfang", service.state.supervisor)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{url}/console/cases/{number}")
            submit_login(page, "wangfang", PASSWORD)
            expect(page.locator("#case-status")).to_have_text("已分派")
            page.fill("#reply-text", "您好，低保申请需要")
            page.wait_for_timeout(500)  # the stream is open before anything changes

            assert desk.add_resident_message("live-3", "我还想问一下临时救助") == number
            expect(page.locator("#transcript .new-turn")).to_contain_text("我还想问一下临时救助")
            expect(page).to_have_title(re.compile("^【群众新消息】"))
            expect(page.locator("#case-changed")).to_be_hidden()  # a message changes no button

            desk.add_note(number, "请核实户籍", service.state.supervisor)
            desk.change_status(number, "in_progress", service.state.supervisor)
            expect(page.locator("#notes")).to_contain_text("请核实户籍")
            expect(page.locator("#case-status")).to_have_text("处理中")
            expect(page.locator("#case-changed")).to_be_visible()
            expect(page.locator("#reply-text")).to_have_value("您好，低保申请需要")  # nothing lost
            page.screenshot(path=ARTIFACTS / "04-case-page-live.png", full_page=True)
        finally:
            browser.close()
