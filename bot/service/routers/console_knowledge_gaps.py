"""The knowledge gaps (知识缺口) in the console: questions the bot answered unsure or that ended
in a handover, grouped by similarity for the editors of the knowledge cards, each with a
link to a ready-to-paste draft of the card to improve or to write.

Supervisors and admins only (an operator or a volunteer gets the console's 403). Thin over
bot/cases/knowledge_gaps.py (the period's questions, the drafts) and bot/kb/gaps.py (the
grouping); every question shown is masked.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.cases import knowledge_gaps
from bot.cases.desk import CaseDesk
from bot.cases.model import Role
from bot.service.auth import Principal
from bot.service.console_pages import redirect, render
from bot.service.deps import get_desk, get_kb, require_page

router = APIRouter(prefix="/console/knowledge-gaps", tags=["console"], include_in_schema=False)

EDITORS = require_page(Role.supervisor, Role.admin)


@router.get("", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    days: str = Query(str(knowledge_gaps.DEFAULT_DAYS), max_length=8),
    principal: Principal = Depends(EDITORS),
    desk: CaseDesk = Depends(get_desk),
):
    now = desk.clock()
    result = knowledge_gaps.report(desk.db, get_kb(request), now, knowledge_gaps.period_days(days))
    return render(
        request,
        "console/knowledge_gaps.html",
        principal,
        report=result,
        periods=knowledge_gaps.PERIODS,
        to_local=desk.rules.to_local,
    )


@router.get("/draft", response_class=HTMLResponse)
def draft_page(
    request: Request,
    ids: str = Query("", max_length=2000),
    card: str = Query("", max_length=128),
    days: str = Query(str(knowledge_gaps.DEFAULT_DAYS), max_length=8),
    principal: Principal = Depends(EDITORS),
    desk: CaseDesk = Depends(get_desk),
) -> Response:
    back = f"/console/knowledge-gaps?days={knowledge_gaps.period_days(days)}"
    refs = knowledge_gaps.parse_refs(ids)
    made = knowledge_gaps.draft(desk.db, get_kb(request), refs, card or None) if refs else None
    if made is None:
        return redirect(request, back, "没有找到这组问题，可能已过保存期限", error=True)
    group, card_draft = made
    return render(
        request,
        "console/knowledge_gap_draft.html",
        principal,
        group=group,
        draft=card_draft,
        back=back,
        to_local=desk.rules.to_local,
    )
