"""The dead-letter alert, in headless Chromium: a supervisor has the queue page open when a
report the service refused arrives (as the action server hands it over); the red banner
appears by itself (live counts), leads to the dead-letter list with the case of last resort,
and goes away once the supervisor marks it dealt with. Screenshots go to test-artifacts/.

Only the service is needed (the real FastAPI app on loopback); the refusal itself, through
every process, is in tests/e2e/test_fault_matrix.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.cases.users import create_user
from bot.config import Settings
from bot.stack import free_port
from tests.browser.test_console_browser import CHROMIUM, LAUNCH_ARGS
from tests.conftest import BOT_TOKEN, ServiceThread
from tests.support.console_server import submit_login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dead-letters"
PASSWORD = "supervisor-pass-1"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A service of its own, so the banner counts only this test's dead letters."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make system-deps` (scripts/system-deps.sh)")
    cfg = Settings(data_dir=tmp_path_factory.mktemp("dead-letter-desk"), service_port=free_port(), bot_token=BOT_TOKEN)
    with ServiceThread(cfg) as svc:
        with svc.app.state.db.session() as s:
            create_user(s, "zhaoban", PASSWORD, "supervisor", "赵班长")
            s.commit()
        yield svc


def hand_over_refused_report(desk) -> dict:
    """What the action server sends after the service refused a report (actions/delivery.py)."""
    reported = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    r = httpx.post(
        f"{desk.url}/v1/cases/dead-letters",
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
        json={
            "idempotency_key": "urgent-browser-refused-1",
            "error": "/v1/cases: HTTP 422: 字段 channel 的取值不在允许范围内",
            "payload": {
                "type": "urgent",
                "channel": "fax",
                "sender_id": "browser-refused-1",
                "title": "急难求助：屋头断粮好几天了",
                "summary": "急难求助：屋头断粮好几天了；地点：渠县三汇镇",
                "contact": {"phone": "13812345678"},
                "reported_at": reported.isoformat(),
                "transcript": [{"role": "resident", "text": "屋头断粮好几天了，娃儿没饭吃"}],
            },
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_the_banner_appears_on_the_open_queue_page_and_leaves_when_dealt_with(desk):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        try:
            page.goto(f"{desk.url}/console")
            submit_login(page, "zhaoban", PASSWORD)
            banner = page.locator("#dead-letter-alert")
            expect(page).to_have_url(f"{desk.url}/console")
            expect(banner).to_be_hidden()

            answer = hand_over_refused_report(desk)
            number = answer["case"]["number"]
            # No reload: the page's live counts (every 15 s) raise the banner.
            expect(banner).to_be_visible(timeout=25_000)
            expect(banner).to_contain_text("份求助未能按原样自动登记")
            expect(banner.locator('[data-count="dead_letters"]')).to_have_text("1")
            page.screenshot(path=ARTIFACTS / "01-banner.png", full_page=True)

            page.reload()  # the queue lists the case of last resort, urgent
            expect(page.locator("table")).to_contain_text(number)
            expect(page.locator("table")).to_contain_text("【未能自动登记】")

            banner.locator("a", has_text="查看").click()
            expect(page).to_have_url(f"{desk.url}/console/dead-letters")
            row = page.locator("tr[data-dead-letter]")
            expect(row).to_have_count(1)
            expect(row).to_contain_text(number)
            expect(row).to_contain_text("422")
            page.screenshot(path=ARTIFACTS / "02-dead-letters.png", full_page=True)

            row.locator("input[name=note]").fill("已电话联系群众，按原始内容核对了工单")
            row.locator("button", has_text="标记已处理").click()
            expect(page.locator(".flash")).to_contain_text("已标记处理")
            expect(page.locator("tr[data-dead-letter]")).to_have_count(0)

            page.goto(f"{desk.url}/console")
            expect(banner).to_be_hidden()
            page.screenshot(path=ARTIFACTS / "03-dealt-with.png", full_page=True)
        finally:
            browser.close()
