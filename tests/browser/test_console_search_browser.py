"""A shift's queue in headless Chromium: 120 cases made through the desk, an operator logs in,
pages to page 3 and back, filters by a type, finds one case by the last 4 digits of its phone
and opens it (the phone masked: she does not handle it). Screenshots go to
test-artifacts/console-search/.

Only the service is needed (the real FastAPI app on loopback, lifespan off); the rules are in
tests/cases/test_queue_listing.py and test_queue_routes.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cases.desk import BOT, CaseDesk, NewCase
from bot.cases.users import create_user
from bot.config import Settings
from tests.browser.test_console_browser import CHROMIUM, LAUNCH_ARGS
from tests.support.console_server import require_chromium, serving, submit_login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console-search"
PASSWORD = "search-pass-001"
TYPES = ("consultation", "eligibility_followup", "complaint", "discovery")
TARGET_PHONE = "13912349876"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from bot.service.app import create_app

    require_chromium()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("console-search")))
    with app.state.db.session() as s:
        create_user(s, "wangfang", PASSWORD, "operator", "王芳")
        s.commit()
    desk = CaseDesk(app.state.db)
    numbers = []
    for i in range(120):
        phone = TARGET_PHONE if i == 77 else f"13800{i:06d}"  # last 4 digits 0000…0119, and 9876 once
        data = NewCase(
            type=TYPES[i % len(TYPES)],
            jurisdiction=("渠县", "巴中市", "会宁县")[i % 3],
            sender_id=f"conv-{i}",
            title=f"测试工单 {i}",
            summary="咨询低保",
            contact={"name": f"居民{i}", "phone": phone},
        )
        numbers.append(desk.create_case(data, BOT)[0]["number"])
    app.state.numbers = numbers
    with serving(app):
        yield app


def test_an_operator_pages_filters_and_finds_a_case_by_its_phone(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url, target = service.state.url, service.state.numbers[77]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{url}/console")
            submit_login(page, "wangfang", PASSWORD)
            expect(page.locator("#page-info")).to_have_text("第 1 页，共 3 页（120 张）")
            expect(page.locator("tr[data-case]")).to_have_count(50)
            expect(page.locator("#page-previous")).to_have_count(0)
            first_of_page_1 = page.locator("tr[data-case]").first.get_attribute("data-case")
            page.screenshot(path=ARTIFACTS / "01-page-1.png", full_page=True)

            page.click("#page-next")
            expect(page.locator("#page-info")).to_contain_text("第 2 页")
            page.click("#page-next")
            expect(page.locator("#page-info")).to_have_text("第 3 页，共 3 页（120 张）")
            expect(page.locator("tr[data-case]")).to_have_count(20)
            expect(page.locator("#page-next")).to_have_count(0)
            page.screenshot(path=ARTIFACTS / "02-page-3.png", full_page=True)
            page.click("#page-previous")
            page.click("#page-previous")
            expect(page.locator("#page-info")).to_contain_text("第 1 页")
            expect(page.locator("tr[data-case]").first).to_have_attribute("data-case", first_of_page_1)

            page.select_option("#filter-type", "complaint")
            page.click("#apply-filters")
            expect(page.locator("#total")).to_have_text("30")
            expect(page.locator("tr[data-case]")).to_have_count(30)
            for cell in page.locator("tr[data-case] td:nth-child(2)").all_inner_texts():
                assert cell == "投诉举报"
            expect(page.locator("#filter-type")).to_have_value("complaint")  # kept in the form
            page.screenshot(path=ARTIFACTS / "03-filtered.png", full_page=True)

            page.click("#clear-filters")
            page.fill("#search", "9876")
            page.click("#apply-filters")
            expect(page.locator("tr[data-case]")).to_have_count(1)
            row = page.locator(f'tr[data-case="{target}"]')
            expect(row.locator("td.phone")).to_have_text("139****9876")  # masked: not hers
            assert TARGET_PHONE not in page.content()
            page.screenshot(path=ARTIFACTS / "04-found-by-last-4.png", full_page=True)

            row.locator("a", has_text=target).click()
            expect(page).to_have_url(f"{url}/console/cases/{target}")
            expect(page.locator("#contact-phone")).to_have_text("139****9876")
            expect(page.locator("#contact-phone a")).to_have_count(0)  # a masked phone is no link
            page.screenshot(path=ARTIFACTS / "05-case.png", full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "05-case.png").stat().st_size > 5_000
