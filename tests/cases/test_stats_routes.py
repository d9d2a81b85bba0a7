"""/console/reports and its CSV: supervisors and admins only; the CSV (UTF-8 with a BOM, for
Excel) holds exactly the domain's figures for the period and grouping asked for."""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.cases import stats
from bot.cases.desk import CaseDesk
from tests.cases.conftest import Clock, login
from tests.cases.test_stats import build_history


def _desk(app) -> CaseDesk:
    clock = Clock()
    desk = CaseDesk(app.state.db, clock=clock)
    app.state.case_desk = desk
    build_history(desk, clock, app.state.people)
    return desk


def test_only_supervisors_and_admins(app, client):
    _desk(app)
    r = client.get("/console/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    login(client, "op1")
    assert client.get("/console/reports").status_code == 403
    assert client.get("/console/reports.csv").status_code == 403
    assert 'id="nav-reports"' not in client.get("/console").text
    client.cookies.clear()
    login(client, "admin")
    assert client.get("/console/reports").status_code == 200


def test_supervisor_sees_the_month_and_its_definitions(app, client):
    _desk(app)
    login(client, "sup")
    assert 'href="/console/reports" id="nav-reports"' in client.get("/console").text
    page = client.get("/console/reports")  # the desk's clock is 1 June 01:00: this month is June
    assert page.status_code == 200 and "2025年6月" in page.text
    page = client.get("/console/reports", params={"kind": "month", "day": "2025-05-20", "group": "hotline"})
    assert "2025年5月" in page.text and "12345热线" in page.text and "12349热线" in page.text
    for figure in stats.FIGURES:
        assert figure.label in page.text and figure.definition in page.text
    assert "60.0%" in page.text  # the total's 按时办结率
    odd = client.get("/console/reports", params={"kind": "year", "day": "not-a-date", "group": "x"})
    assert odd.status_code == 200 and "日期没看懂" in odd.text and "2025年6月" in odd.text


def test_csv_equals_the_domain_figures(app, client):
    desk = _desk(app)
    login(client, "sup")
    for group in ("hotline", "operator", "type", "jurisdiction"):
        r = client.get("/console/reports.csv", params={"kind": "month", "day": "2025-05-31", "group": group})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment;" in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese as UTF-8
        got = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        with desk.db.session() as s:
            period = stats.period_of("month", date(2025, 5, 31), desk.rules.tz)
            header, rows = stats.table(stats.dashboard(s, period, group, desk.clock()), blank="")
        assert got == [header, *rows]
    hotline = client.get("/console/reports.csv", params={"kind": "month", "day": "2025-05-01"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(hotline.content.decode("utf-8-sig")))}
    assert rows["合计"][1:3] == ["8", "5"] and rows["12349热线"][-1] == "0.0%"
