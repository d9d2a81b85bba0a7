"""Deactivating an account ends its session at once, in headless Chromium: an operator works
in one browser context, an admin in another opens 账号管理 (/console/admin/users) from the
header and deactivates her; the operator's next click lands on the login page, and her
password no longer opens the console. Screenshots go to test-artifacts/accounts/.

Only the service is needed (the real FastAPI app on loopback, without its start-up work:
these pages need no knowledge base); the rules themselves are in tests/cases/test_accounts.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cases.users import create_user
from bot.config import Settings
from tests.browser.test_console_browser import CHROMIUM, LAUNCH_ARGS
from tests.support.console_server import require_chromium, serving, submit_login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounts"
PASSWORD = "account-pass-01"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from bot.service.app import create_app

    require_chromium()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("account-admin")))
    with app.state.db.session() as s:
        create_user(s, "wangfang", PASSWORD, "operator", "王芳")
        create_user(s, "liguan", PASSWORD, "admin", "李管理")
        s.commit()
    with serving(app):
        yield app


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/console")
    submit_login(page, username, PASSWORD)


def test_a_deactivated_operator_is_signed_out_at_her_next_click(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = service.state.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            operator = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
            admin = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()

            log_in(operator, url, "wangfang")
            expect(operator).to_have_url(f"{url}/console")
            expect(operator.locator("header .who")).to_contain_text("王芳")
            expect(operator.locator("#nav-accounts")).to_have_count(0)  # not an admin's page
            operator.screenshot(path=ARTIFACTS / "01-operator-at-work.png", full_page=True)

            log_in(admin, url, "liguan")
            admin.click("#nav-accounts")
            expect(admin).to_have_url(f"{url}/console/admin/users")
            row = admin.locator('tr[data-account="wangfang"]')
            expect(row.locator(".state")).to_have_text("启用")
            admin.screenshot(path=ARTIFACTS / "02-accounts.png", full_page=True)
            row.locator("button", has_text="停用").click()
            expect(admin.locator(".flash")).to_contain_text("已停用账号 wangfang")
            expect(row.locator(".state")).to_have_text("停用")
            admin.screenshot(path=ARTIFACTS / "03-deactivated.png", full_page=True)

            # The operator's page is still open; her next click finds her session ended.
            operator.click("header nav a[data-queue=unassigned]")
            expect(operator).to_have_url(re.compile(re.escape(f"{url}/console/login?next=")))
            expect(operator.locator("input[name=password]")).to_be_visible()
            operator.screenshot(path=ARTIFACTS / "04-operator-signed-out.png", full_page=True)
            submit_login(operator, "wangfang", PASSWORD)
            expect(operator.locator(".flash.error")).to_contain_text("用户名、密码或验证码不正确")

            # The change is in the account's log, with who made it.
            row.locator("a", has_text="管理").click()
            expect(admin.locator("#account-events tr[data-action=deactivated]")).to_contain_text("liguan")
            expect(admin.locator("#account-events")).to_contain_text("启用 → 停用")
            admin.screenshot(path=ARTIFACTS / "05-account-log.png", full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "04-operator-signed-out.png").stat().st_size > 5_000
