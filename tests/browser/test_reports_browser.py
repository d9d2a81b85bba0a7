"""A supervisor opens 工单统计 from the header in headless Chromium, looks at May by hotline,
exports the CSV (a real download) and the downloaded figures match counts taken straight
from the database with plain SQL. Screenshots go to test-artifacts/reports/.

Only the service is needed (the real FastAPI app on loopback, without its start-up work); the
desk's clock is set, so "this month" is May 2025 whenever the test runs.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cases.desk import CaseDesk
from bot.config import Settings
from tests.browser.test_console_browser import CHROMIUM, LAUNCH_ARGS
from tests.cases.conftest import PASSWORD, Clock, make_users
from tests.cases.test_stats import at, build_history
from tests.support.console_server import require_chromium, serving, submit_login

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"
MAY = (at("2025-05-01 00:00"), at("2025-06-01 00:00"))

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from bot.service.app import create_app

    require_chromium()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("reports")))
    clock = Clock()
    desk = CaseDesk(app.state.db, clock=clock)
    build_history(desk, clock, make_users(app.state.db))
    clock.now = at("2025-05-31 23:45")  # "now" is the last evening of May
    app.state.case_desk = desk
    with serving(app):
        yield app


def counted_in_database(app) -> dict[str, dict[str, int]]:
    """Per hotline, straight from the tables: received, resolved, on time, transfers, 回访 done."""
    start, end = MAY
    out: dict[str, dict[str, int]] = {}
    queries = {
        "受理量": "SELECT hotline, count(*) FROM cases WHERE created_at >= :s AND created_at < :e GROUP BY hotline",
        "办结量": "SELECT hotline, count(*) FROM cases WHERE resolved_at >= :s AND resolved_at < :e GROUP BY hotline",
        "按时办结量": "SELECT hotline, count(*) FROM cases WHERE resolved_at >= :s AND resolved_at < :e"
        " AND resolved_at <= due_at GROUP BY hotline",
        "转办次数": "SELECT c.hotline, count(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
        " WHERE e.action = 'transferred' AND e.at >= :s AND e.at < :e GROUP BY c.hotline",
        "回访完成": "SELECT hotline, count(*) FROM cases WHERE followup_at >= :s AND followup_at < :e"
        " AND satisfaction <> 'unreachable' GROUP BY hotline",
    }
    with app.state.db.session() as s:
        for figure, sql in queries.items():
            for hotline, n in s.execute(text(sql), {"s": start, "e": end}):
                out.setdefault(f"{hotline}热线", {})[figure] = n
    return out


def test_supervisor_exports_the_month(service):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = service.state.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(
                viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True
            ).new_page()
            page.goto(f"{url}/console")
            submit_login(page, "sup", PASSWORD)
            page.click("#nav-reports")
            expect(page).to_have_url(f"{url}/console/reports")
            page.select_option("select[name=kind]", "month")
            page.select_option("select[name=group]", "hotline")
            page.click("#report-form button")
            expect(page.locator("#report-period")).to_contain_text("2025年5月")
            expect(page.locator("#report-table tbody tr")).to_have_count(3)  # two hotlines and 合计
            expect(page.locator("#report-table tr.total")).to_contain_text("合计")
            page.screenshot(path=ARTIFACTS / "01-may-by-hotline.png", full_page=True)
            with page.expect_download() as info:
                page.click("#export-csv")
            download = info.value
            assert download.suggested_filename.endswith(".csv")
            saved = ARTIFACTS / download.suggested_filename
            download.save_as(saved)
        finally:
            browser.close()
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header, body = rows[0], rows[1:]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    expected = counted_in_database(service)
    assert set(table) == {*expected, "合计"}
    for hotline, figures in expected.items():
        for figure, n in figures.items():
            assert table[hotline][figure] == str(n), (hotline, figure)
    start, end = MAY
    with service.state.db.session() as s:
        received = s.execute(
            text("SELECT count(*) FROM cases WHERE created_at >= :s AND created_at < :e"), {"s": start, "e": end}
        ).scalar_one()
    assert table["合计"]["受理量"] == str(received) == "8"  # the 23:30 case of 31 May is in
