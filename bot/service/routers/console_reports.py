"""The supervisor's figures (工单统计) in the console: a day, week or month grouped by hotline,
place, case type or handler, and the same table as a CSV file for Excel.

Supervisors and admins only (an operator gets the 403). Thin over bot/cases/stats.py (queries in stats_queries.py), which
defines and counts every figure; the page and the CSV show the same cells (stats.table).
There is no .xlsx export: no xlsx writer is installed, and CSV with a BOM opens in Excel.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from bot.cases import stats
from bot.cases.desk import CaseDesk
from bot.cases.model import Role
from bot.service.auth import Principal
from bot.service.console_pages import render
from bot.service.deps import get_desk, require_page

router = APIRouter(prefix="/console/reports", tags=["console"], include_in_schema=False)

SUPERVISORS = require_page(Role.supervisor, Role.admin)
YEARS = range(2000, 2100)
BOM = "\ufeff"


def _report(desk: CaseDesk, kind: str, day: str, group: str) -> tuple[stats.Report, str]:
    """The report asked for, and a message when a choice was not understood (then the default)."""
    error = ""
    now = desk.clock()
    today = desk.rules.to_local(now).date()
    try:
        chosen = date.fromisoformat(day) if day else today
        if chosen.year not in YEARS:
            raise ValueError(day)
    except ValueError:
        chosen, error = today, "日期没看懂，已显示今天所在的时段"
    period_kind = stats.PeriodKind(kind) if kind in set(stats.PeriodKind) else stats.PeriodKind.month
    grouping = stats.Grouping(group) if group in set(stats.Grouping) else stats.Grouping.hotline
    period = stats.period_of(period_kind, chosen, desk.rules.tz)
    with desk.db.session() as s:
        return stats.dashboard(s, period, grouping, now), error


@router.get("", response_class=HTMLResponse)
def reports_page(
    request: Request,
    kind: str = "month",
    day: str = "",
    group: str = "hotline",
    principal: Principal = Depends(SUPERVISORS),
    desk: CaseDesk = Depends(get_desk),
):
    report, error = _report(desk, kind, day[:10], group)
    header, rows = stats.table(report)
    return render(
        request,
        "console/reports.html",
        principal,
        report=report,
        header=header,
        rows=rows,
        figures=stats.FIGURES,
        kinds=stats.PERIOD_LABELS,
        groupings=stats.GROUPING_LABELS,
        day=report.period.first_day.isoformat() if not day else day[:10],
        error=error,
        generated=desk.rules.to_local(report.now).strftime("%Y-%m-%d %H:%M"),
    )


@router.get(".csv")
def reports_csv(
    kind: str = "month",
    day: str = "",
    group: str = "hotline",
    _principal: Principal = Depends(SUPERVISORS),
    desk: CaseDesk = Depends(get_desk),
) -> Response:
    report, _error = _report(desk, kind, day[:10], group)
    header, rows = stats.table(report, blank="")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    p = report.period
    ascii_name = f"case-stats-{p.kind}-{p.first_day.isoformat()}-{report.grouping}.csv"
    chinese_name = f"工单统计_{p.label}_按{stats.GROUPING_LABELS[report.grouping]}.csv"
    return Response(
        (BOM + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}",
            "Cache-Control": "no-store",
        },
    )
