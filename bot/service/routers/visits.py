"""Volunteers' home visits (主动发现): the phone page and its JSON calls.

- GET  /console/visit      the page: checklist, risk shown as boxes are ticked (the same rule
                           table runs on the page, offline too), drafts kept on the phone.
- POST /v1/visits/check    risk, rough screen and duplicate warning of a report, filing nothing.
- POST /v1/visits          file it: 201 with the case; 200 for a draft already sent (same
                           draft_key: a resend after a lost answer makes no second case); 409
                           with `duplicates` when the household looks already reported and the
                           volunteer has not said to file anyway. An urgent report is filed at
                           once, whatever the warning: it comes back with the 201.
- GET  /v1/visits/mine     the volunteer's own reports and where each stands.

Thin: the checklist, risk, duplicates and the case are bot/cases/visits.py; the rough screen is
bot.eligibility's, run here because the case desk does not import the engine.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.cases.desk import CaseDesk
from bot.cases.model import CaseError, Role
from bot.cases.visits import VOLUNTEER_STATUS, Visit, VisitIntake, check_visit, screen_request, screen_summary
from bot.eligibility import InputError
from bot.eligibility import screen as run_screen
from bot.hotlines import IN_DANGER
from bot.places import known_places
from bot.service.auth import HANDLER_ROLES, Principal
from bot.service.console_pages import render
from bot.service.deps import get_desk, require, require_page
from bot.service.errors import ErrorOut, refusals
from bot.service.routers.screen import screen_parameters

log = logging.getLogger(__name__)
router = APIRouter(tags=["volunteer visits"])
VISIT_ROLES = (Role.volunteer, *HANDLER_ROLES)

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
DraftKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=64, pattern=r"^[\w-]+$")]


class VisitFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_size: int | None = Field(None, ge=1, le=20, description="共同生活的人数")
    monthly_income: float | None = Field(None, ge=0, le=1_000_000, description="全家每月收入合计（元）")
    monthly_rigid_expense: float | None = Field(None, ge=0, le=1_000_000, description="每月看病、上学等必需开支（元）")
    hukou: Literal["urban", "rural"] | None = None
    severe_disability: bool | None = Field(None, description="家里有一、二级重度残疾人")
    serious_illness: bool | None = Field(None, description="家里有重病患者")


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    draft_key: DraftKey = Field(description="the draft's id made on the phone: a resend is the same report")
    jurisdiction: Short = Field(description="县（市）", examples=["渠县"])
    township: Short = Field(description="乡镇（街道）")
    village: Short = Field(description="村（社区）")
    group_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = Field("", description="组")
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    name: Short = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    consent: Annotated[str, StringConstraints(max_length=16)] = Field(description="how consent was given: verbal…")
    groups: list[Annotated[str, StringConstraints(max_length=32)]] = Field(default=[], max_length=20)
    signs: list[Annotated[str, StringConstraints(max_length=32)]] = Field(default=[], max_length=30)
    seen: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    facts: VisitFacts = VisitFacts()
    drafted_at: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None, description="when the draft was written on the phone (ISO 8601), e.g. offline"
    )
    file_anyway: bool = Field(False, description="the volunteer saw the duplicate warning and files it anyway")

    def visit(self) -> Visit:
        return Visit(
            draft_key=self.draft_key,
            jurisdiction=self.jurisdiction,
            township=self.township,
            village=self.village,
            group_no=self.group_no,
            address=self.address,
            name=self.name,
            phone=self.phone,
            consent=self.consent,
            groups=list(dict.fromkeys(self.groups)),
            signs=list(dict.fromkeys(self.signs)),
            seen=self.seen,
            facts=self.facts.model_dump(exclude_none=True),
            drafted_at=self.drafted_at,
        )


class RiskReason(BaseModel):
    level: str
    reason: str
    signs: list[str]
    groups: list[str]
    sources: list[str]


class RiskOut(BaseModel):
    level: Literal["urgent", "high", "normal"]
    label: str
    reasons: list[RiskReason]


class DuplicateOut(BaseModel):
    number: str
    status: str
    reported_at: str
    place: str
    reason: str = Field(description="电话相同 or 姓名和住址相近")
    mine: bool = Field(description="the same volunteer reported it")


class CheckOut(BaseModel):
    risk: RiskOut
    screen: dict[str, Any] | None = Field(None, description="the rough screen: programs that may apply, and why")
    duplicates: list[DuplicateOut]
    advice: str = Field(description="what the volunteer should do now, in Chinese")


class FiledOut(CheckOut):
    created: bool
    number: str
    status_text: str


class DuplicateWarning(ErrorOut):
    duplicates: list[DuplicateOut]
    risk: RiskOut


class StatusRow(BaseModel):
    number: str | None
    draft_key: str | None
    type: str
    status: str
    status_text: str
    place: str
    household: str
    risk: str | None
    reported_at: str
    updated_at: str


class MineOut(BaseModel):
    reports: list[StatusRow]


def get_visits(request: Request, desk: CaseDesk = Depends(get_desk)) -> VisitIntake:
    return VisitIntake(desk.context, desk.intake, request.app.state.settings.policy_kb_dir)


def _checked(body: VisitIn, visits: VisitIntake) -> Visit:
    """The report as the desk takes it, or 422 saying in Chinese what to fix."""
    try:
        return check_visit(body.visit(), visits.table)
    except CaseError as exc:
        raise HTTPException(422, exc.message) from None


def _screen(request: Request, visit: Visit) -> dict[str, Any] | None:
    """The rough screen on what was entered; None when too little is known, or it refuses."""
    data = screen_request(visit)
    if data is None:
        return None
    try:
        return screen_summary(run_screen(data, pset=screen_parameters(request.app)))
    except InputError:
        log.warning("rough screen refused a volunteer's facts", exc_info=True)
        return None


def _advice(level: str, filed: bool) -> str:
    if level == "urgent":
        done = "已按急难求助上报，工作人员会马上处理。" if filed else "这是急难情况，请马上上报。"
        return f"{done}{IN_DANGER}"
    if level == "high":
        return "已上报，工作人员会尽快核实。" if filed else "情况较重，请尽快上报。"
    return "已上报，工作人员会按时处理。" if filed else "可以上报，工作人员会按时处理。"


@router.get("/console/visit", response_class=HTMLResponse, include_in_schema=False)
def visit_page(
    request: Request,
    principal: Principal = Depends(require_page(*VISIT_ROLES)),
    visits: VisitIntake = Depends(get_visits),
):
    table = visits.table
    return render(
        request,
        "console/visit.html",
        principal,
        # A household lives in a county or city, never in 全国 or a province.
        places=[p for p in known_places() if p != "全国" and not p.endswith("省")],
        table=table,
        rules_json=json.dumps(table.for_page(), ensure_ascii=False),
        in_danger=IN_DANGER,
    )


# The page's service worker: it keeps the last copy of /console/visit, so a volunteer who opens
# the page with no network still gets the form and the drafts kept on the phone. Browsers run
# service workers only on HTTPS or localhost; on an intranet's plain HTTP the page works as
# before (drafts kept while the page is open). No personal data in it: served to anyone.
SERVICE_WORKER = """
const CACHE = "jz-visit-v1", PAGE = "/console/visit";
async function keep(resp) {
  const cache = await caches.open(CACHE);
  if (resp.ok && !resp.redirected) await cache.put(PAGE, resp.clone());
  else if (resp.redirected) await cache.delete(PAGE);  // logged out: forget the page
  return resp;
}
self.addEventListener("install", ev => {
  self.skipWaiting();
  ev.waitUntil(fetch(PAGE, {credentials: "same-origin"}).then(keep).catch(() => null));
});
self.addEventListener("activate", ev => ev.waitUntil(self.clients.claim()));
self.addEventListener("fetch", ev => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin || url.pathname !== PAGE) return;
  ev.respondWith(fetch(ev.request).then(keep).catch(async () => {
    const cached = await (await caches.open(CACHE)).match(PAGE);
    return cached || new Response("<meta charset=utf-8><p>现在没有网络，请联网后再打开这个页面。</p>",
                                  {headers: {"Content-Type": "text/html; charset=utf-8"}});
  }));
});
"""


@router.get("/console/visit-sw.js", include_in_schema=False)
def visit_service_worker() -> Response:
    return Response(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/console/"},
    )


@router.post(
    "/v1/visits/check",
    response_model=CheckOut,
    summary="Risk, rough screen and duplicate warning of a visit report (files nothing)",
    responses=refusals(401, 403, 422),
)
def check(
    body: VisitIn,
    request: Request,
    principal: Principal = Depends(require(*VISIT_ROLES)),
    visits: VisitIntake = Depends(get_visits),
) -> dict[str, Any]:
    visit = _checked(body, visits)
    risk = visits.assess(visit)
    return {
        "risk": risk.as_dict(),
        "screen": _screen(request, visit),
        "duplicates": [d.as_dict() for d in visits.duplicates(visit, principal.actor)],
        "advice": _advice(risk.level, filed=False),
    }


@router.post(
    "/v1/visits",
    status_code=201,
    response_model=FiledOut,
    summary="File a volunteer's visit report as a case (idempotent by draft_key)",
    responses={
        **refusals(401, 403, 422),
        200: {"model": FiledOut, "description": "This draft was sent before: the case it made"},
        409: {
            "model": DuplicateWarning,
            "description": "The household looks already reported (not urgent, file_anyway not set); "
            "or someone else's draft key",
        },
    },
)
def file_visit(
    body: VisitIn,
    request: Request,
    response: Response,
    principal: Principal = Depends(require(*VISIT_ROLES)),
    visits: VisitIntake = Depends(get_visits),
):
    visit = _checked(body, visits)
    risk = visits.assess(visit)
    already = visits.filed(visit, principal.actor)
    if already is not None:
        response.status_code = 200
        return _filed(already, False, risk.as_dict(), None, [])
    duplicates = visits.duplicates(visit, principal.actor)
    if duplicates and not body.file_anyway and risk.level != "urgent":
        return JSONResponse(
            {
                "detail": "这户人家可能已经有人上报过，请看看是不是同一户",
                "duplicates": [d.as_dict() for d in duplicates],
                "risk": risk.as_dict(),
            },
            status_code=409,
        )
    screen = _screen(request, visit)
    view, created = visits.file(visit, principal.actor, screen, duplicates)
    if not created:
        response.status_code = 200
    return _filed(view, created, risk.as_dict(), screen, [d.as_dict() for d in duplicates])


def _filed(
    view: dict[str, Any], created: bool, risk: dict[str, Any], screen: dict[str, Any] | None, duplicates: list
) -> dict[str, Any]:
    return {
        "created": created,
        "number": view["number"],
        "status_text": VOLUNTEER_STATUS.get(view["status"], view["status_label"]),
        "risk": risk,
        "screen": screen,
        "duplicates": duplicates,
        "advice": _advice(risk["level"], filed=True),
    }


@router.get(
    "/v1/visits/mine",
    response_model=MineOut,
    summary="The volunteer's own reports and their status",
    responses=refusals(401, 403),
)
def mine(
    principal: Principal = Depends(require(*VISIT_ROLES)), visits: VisitIntake = Depends(get_visits)
) -> dict[str, Any]:
    return {"reports": visits.mine(principal.actor)}
