"""Pages of a queue: its WHERE clause with the filters and the search, a stable order, a count.

Offset paging: a shift's queues hold hundreds of cases, not millions, so OFFSET costs nothing
worth saving, and operators want what keyset paging cannot give cheaply, a page number and the
total (第 3 页，共 7 页). The order is the queue's own plus the id, so no case shows on two
pages or on none while nothing changes; a case claimed meanwhile leaves the queue, and the
next page then starts one case later (it is seen again on a reload, never lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select
from sqlalchemy.orm import Session

from bot.cases.model import OPEN_STATUSES
from bot.cases.search import CaseFilters, SearchTerm
from bot.cases.store import Case

PAGE_SIZE = 50
LIMIT_MAX = 500  # the most one request may ask for (the JSON API's `limit`)
OFFSET_MAX = 1_000_000
# A phone's last 4 digits find at most this many cases to compare in full (a desk of a
# million cases has about 100 per 4 digits).
PHONE_CANDIDATES_MAX = 5_000


@dataclass
class CasePage:
    cases: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    search: SearchTerm | None = None
    filters: CaseFilters = field(default_factory=CaseFilters)

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.cases) < self.total


def filter_clauses(filters: CaseFilters, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.type:
        out.append(Case.type == str(filters.type))
    if filters.place:
        out.append(Case.jurisdiction.in_(filters.places()))
    if filters.hotline:
        out.append(Case.hotline == str(filters.hotline))
    if filters.priority:
        out.append(Case.priority == str(filters.priority))
    if filters.status:
        out.append(Case.status == str(filters.status))
    if filters.overdue:
        out.append(and_(Case.status.in_(list(OPEN_STATUSES)), Case.due_at < now))
    return out


def search_clause(s: Session, term: SearchTerm) -> ColumnElement[bool]:
    """The WHERE clause of a search. Phones: the indexed last 4 digits, then each candidate's
    whole number compared here (the clause is then a list of ids)."""
    if term.kind == "number":
        return Case.number == term.value
    if term.kind == "name":
        name: ColumnElement[bool] = Case.contact["name"].as_string().contains(term.value, autoescape=True)
        return name
    last4 = term.value[-4:]
    if term.kind == "last4":
        return Case.contact_phone_last4 == last4
    rows = s.execute(select(Case.id, Case.contact).where(Case.contact_phone_last4 == last4).limit(PHONE_CANDIDATES_MAX))
    ids = [row.id for row in rows if term.matches_phone((row.contact or {}).get("phone"))]
    return Case.id.in_(ids) if ids else false()


def ordered(q: Select[Any], queue: str) -> Select[Any]:
    """The queue's order, then the id: every case has one place in it."""
    if queue == "all":
        return q.order_by(Case.created_at.desc(), Case.id.desc())
    return q.order_by(Case.priority_rank, Case.created_at, Case.id)


def page_query(
    s: Session, where: list[ColumnElement[bool]], queue: str, limit: int, offset: int
) -> tuple[list[Case], int]:
    """One page of cases and the count of all that match."""
    total = s.scalar(select(func.count(Case.id)).where(*where)) or 0
    rows = list(s.scalars(ordered(select(Case).where(*where), queue).limit(limit).offset(offset)))
    return rows, total
