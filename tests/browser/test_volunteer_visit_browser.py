"""A volunteer on a phone, in headless Chromium: files a home visit with no network (the draft
stays on the phone, nothing reaches the service; the page reopens offline from its service
worker with the draft still there), the network comes back and the draft is sent
by itself; a second report of the same household (a name that sounds the same, the group
written in words) gets the duplicate warning and is dropped; an operator takes the first case
and the volunteer's list shows its new status. Screenshots go to test-artifacts/visit/.

Only the service is needed (the real FastAPI app on loopback, lifespan off); the rules are in
tests/cases/test_visits.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cases.actors import Actor
from bot.cases.desk import CaseDesk
from bot.cases.store import Case
from bot.cases.users import create_user
from bot.config import Settings
from tests.browser.test_console_browser import CHROMIUM, LAUNCH_ARGS
from tests.support.console_server import require_chromium, serving, submit_login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "visit"
PASSWORD = "visit-pass-0001"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from bot.service.app import create_app

    require_chromium()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("visit")))
    with app.state.db.session() as s:
        create_user(s, "xiaoliu", PASSWORD, "volunteer", "志愿者小刘")
        app.state.operator = Actor.user(create_user(s, "wangfang", PASSWORD, "operator", "王芳"))
        s.commit()
    with serving(app):
        yield app


def cases(app) -> list[Case]:
    with app.state.db.session() as s:
        return list(s.scalars(select(Case).order_by(Case.id)))


def fill_visit(page, name: str, group_no: str, signs: list[str]) -> None:
    page.select_option("#jurisdiction", "渠县")
    page.fill("#township", "三汇镇")
    page.fill("#village", "红星村")
    page.fill("#group_no", group_no)
    page.fill("#name", name)
    page.check("#groups input[value=elderly]")
    for sign in signs:
        page.check(f"#signs input[value={sign}]")
    page.fill("#household_size", "1")
    page.fill("#monthly_income", "200")
    page.check("#consent input[value=verbal]")


def test_a_volunteer_files_offline_then_online_is_warned_of_a_duplicate_and_sees_the_status(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = service.state.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
            )
            page = phone.new_page()
            page.goto(f"{url}/console/login")
            submit_login(page, "xiaoliu", PASSWORD)
            expect(page).to_have_url(f"{url}/console/visit")
            # The page's service worker keeps a copy of it (loopback counts as a secure origin).
            page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")

            # No network in the doorway: the report is kept on the phone.
            phone.set_offline(True)
            expect(page.locator("#net")).to_contain_text("没有网络")
            fill_visit(page, "王晓明", "3组", ["chronic_illness", "unsafe_housing"])
            expect(page.locator("#risk")).to_contain_text("较高")
            page.screenshot(path=ARTIFACTS / "01-offline-filled.png", full_page=True)
            page.click("#submit")
            expect(page.locator("#result")).to_contain_text("已保存在手机上")
            expect(page.locator("#drafts .draft")).to_have_count(1)
            expect(page.locator("#drafts")).to_contain_text("等待联网发送")
            assert cases(service) == []
            # The phone reopens the page with no network: the form and the draft are still there.
            page.reload()
            expect(page.locator("#visit-form")).to_be_visible()
            expect(page.locator("#drafts .draft")).to_have_count(1)
            assert cases(service) == []
            page.screenshot(path=ARTIFACTS / "02-offline-saved.png", full_page=True)

            # Back online: the draft goes by itself.
            phone.set_offline(False)
            expect(page.locator("#result")).to_contain_text("已上报，工单号 GD")
            expect(page.locator("#drafts .draft")).to_have_count(0)
            [first] = cases(service)
            assert first.type == "discovery" and first.priority == "high" and first.visit["drafted_at"]
            expect(page.locator(f"#mine tr[data-number={first.number}] .status")).to_have_text(
                "已上报，等待工作人员处理"
            )
            page.screenshot(path=ARTIFACTS / "03-sent.png", full_page=True)

            # The same household again, as another ear heard it: warned, and dropped.
            fill_visit(page, "汪小明", "三组", ["no_income"])
            page.click("#submit")
            expect(page.locator("#dup")).to_be_visible()
            expect(page.locator("#dup-list")).to_contain_text(first.number)
            expect(page.locator("#dup-list")).to_contain_text("姓名和住址相近")
            page.screenshot(path=ARTIFACTS / "04-duplicate.png", full_page=True)
            page.click("#drop-draft")
            expect(page.locator("#dup")).to_be_hidden()
            expect(page.locator("#drafts .draft")).to_have_count(0)
            assert len(cases(service)) == 1

            # An operator takes the case; the volunteer's list shows it.
            desk, operator = CaseDesk(service.state.db), service.state.operator
            assert desk.claim_next(operator)["number"] == first.number
            desk.change_status(first.number, "in_progress", operator)
            page.click("#refresh-mine")
            expect(page.locator(f"#mine tr[data-number={first.number}] .status")).to_have_text("工作人员正在核实")

            # Someone without food: urgent, and the page says to call for help.
            fill_visit(page, "张秀英", "5组", ["no_food"])
            expect(page.locator("#risk")).to_contain_text("紧急")
            expect(page.locator("#risk")).to_contain_text("110")
            page.click("#submit")
            expect(page.locator("#result")).to_contain_text("急难")
            assert cases(service)[-1].type == "urgent" and cases(service)[-1].priority == "urgent"
            page.screenshot(path=ARTIFACTS / "05-status-and-urgent.png", full_page=True)

            # Logging out forgets the page the service worker kept.
            assert page.evaluate("caches.has('jz-visit-v1')")
            page.click("#logout-form button")
            expect(page).to_have_url(re.compile(r"/console/login"))
            assert not page.evaluate("caches.has('jz-visit-v1')")
        finally:
            browser.close()


def test_a_phone_that_stores_nothing_and_a_send_nobody_answers_still_file_the_report_once(service):
    """Storage full (every write refused) and the first send never answered: the volunteer is told
    the report lives only in the open page, the unanswered send is given up after its timeout and
    sent again, and one case is made."""
    from playwright.sync_api import expect, sync_playwright

    url = service.state.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
            phone.add_init_script(
                "window.JZ_SEND_TIMEOUT_MS = 1500; window.JZ_RETRY_MS = 300;"
                "Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };"
            )
            page = phone.new_page()
            page.goto(f"{url}/console/login")
            submit_login(page, "xiaoliu", PASSWORD)
            expect(page).to_have_url(f"{url}/console/visit")
            unanswered = []

            def first_send_unanswered(route):
                if not unanswered:
                    unanswered.append(route)  # silence: never answered
                else:
                    route.continue_()

            page.route("**/v1/visits", first_send_unanswered)
            before = len(cases(service))
            fill_visit(page, "李秀兰", "7组", ["no_income"])
            page.click("#submit")
            expect(page.locator("#form-error")).to_contain_text("存储空间不足")
            expect(page.locator("#result")).to_contain_text("已上报，工单号 GD", timeout=10_000)
            assert len(unanswered) == 1
            made = cases(service)[before:]
            assert [c.contact["name"] for c in made] == ["李秀兰"]
        finally:
            browser.close()
