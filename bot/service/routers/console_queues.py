"""The console's queue page (/console): a queue a page at a time, with filters and a search.

Paging, filters and search are GET parameters (bookmarkable, kept across pages); the domain
reads them (bot/cases/search.py, bot/cases/listing.py). An unknown value answers 422 with the
page and a Chinese message, not a 500.

A full phone number typed in the search never comes back in the page: the request is
redirected to the same search with the number masked in `q` (what the box shows) and sealed
in `pt` (what the next pages search for), so neither the page's HTML, its links nor the
browser's address bar and history hold it.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.cases import dead_letters
from bot.cases.desk import CaseDesk
from bot.cases.listing import PAGE_SIZE, CasePage
from bot.cases.model import PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS, CaseError, Hotline, Role
from bot.cases.search import CaseFilters, SearchTerm, normalize_phone, parse_filters, parse_search
from bot.places import known_places
from bot.privacy import mask_phone, mask_text
from bot.service.auth import ALL_ROLES, HANDLER_ROLES, Principal, secret_key
from bot.service.console_pages import CONSOLE_QUEUES, render
from bot.service.deps import get_desk, require_page

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

PAGE_MAX = 20_000
SEARCH_TOKEN_TTL = 12 * 3600  # a shift: a sealed search older than this asks for the number again
QUEUE_PAGE_QUEUES = (*CONSOLE_QUEUES, "all")  # "all": what a search runs over


def _fernet(request: Request) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"jiuzhu console phone search v1")
    return Fernet(base64.urlsafe_b64encode(key.derive(secret_key(request.app).encode())))


def _search(request: Request, q: str, pt: str) -> SearchTerm | None:
    if pt:
        try:
            digits = _fernet(request).decrypt(pt.encode(), ttl=SEARCH_TOKEN_TTL).decode()
        except (InvalidToken, ValueError):
            raise CaseError("这次搜索已过期，请重新输入电话号码") from None
        return SearchTerm("phone", normalize_phone(digits))
    return parse_search(q)


def _page_number(page: str) -> int:
    if not page.strip():
        return 1
    if not page.strip().isdigit() or not 1 <= int(page) <= PAGE_MAX:
        raise CaseError("页码不正确")
    return int(page)


def _link(params: dict[str, str], page: int) -> str:
    return "/console?" + urlencode({**{k: v for k, v in params.items() if v}, "page": str(page)})


@router.get("", response_class=HTMLResponse)
def queues(
    request: Request,
    queue: str = "",
    page: str = "1",
    q: str = "",
    pt: str = "",
    principal: Principal = Depends(require_page(*ALL_ROLES)),
    desk: CaseDesk = Depends(get_desk),
):
    if principal.role == Role.volunteer:
        return RedirectResponse("/console/report", status_code=303)
    counts = desk.counts(principal.actor)
    if queue not in QUEUE_PAGE_QUEUES:
        queue = "mine" if counts.get("mine") else "unassigned"
    error = None
    filters, term, number = CaseFilters(), None, 1
    try:
        filters = parse_filters(request.query_params)
        term = _search(request, q[:200], pt[:1000])
        number = _page_number(page[:12])
    except CaseError as exc:
        error = exc.message
    if term is not None:
        queue = "all"  # a search looks through every case, the filters still apply
    if term is not None and term.kind == "phone" and not pt:
        # Seen once, never echoed: the same search with the number masked and sealed.
        sealed = _fernet(request).encrypt(term.value.encode()).decode()
        params = {"queue": queue, **filters.as_params(), "q": mask_phone(term.value), "pt": sealed}
        return RedirectResponse("/console?" + urlencode(params), status_code=303)
    listing = CasePage([], 0, PAGE_SIZE, 0)
    if error is None:
        listing = desk.page_queue(queue, principal.actor, filters, term, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        if not listing.cases and listing.total:  # past the last page: show the last one
            last = (listing.pages - 1) * PAGE_SIZE
            listing = desk.page_queue(queue, principal.actor, filters, term, PAGE_SIZE, last)
    # What the box shows again: a full phone masked, and any number in other text masked too.
    echo = mask_phone(term.value) if term is not None and term.kind == "phone" else mask_text(q.strip()[:50])
    params = {"queue": queue, **filters.as_params(), "q": echo, "pt": pt if term is not None else ""}
    resp = render(
        request,
        "console/queues.html",
        principal,
        queue=queue,
        counts=counts,
        listing=listing,
        cases=listing.cases,
        filters=filters,
        search_echo=echo,
        searching=term is not None,
        error=error,
        previous_url=_link(params, listing.page - 1) if listing.has_previous else None,
        next_url=_link(params, listing.page + 1) if listing.has_next else None,
        choices={
            "type": TYPE_LABELS,
            "priority": PRIORITY_LABELS,
            "status": STATUS_LABELS,
            "hotline": {h: h.value for h in Hotline},
            "place": {p: p for p in known_places()},
        },
        can_claim=principal.role in HANDLER_ROLES,
        can_escalate=principal.role in (Role.supervisor, Role.admin),
        dead_letter_count=dead_letters.unresolved_count(desk),
    )
    if error is not None:
        resp.status_code = 422
    return resp
