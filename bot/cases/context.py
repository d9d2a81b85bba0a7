"""What every part of the case desk shares: the database, the SLA rules and the clock,
the write transaction, the audit event and finding a case by its number."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.cases.actors import Actor
from bot.cases.model import Conflict, NotFound
from bot.cases.sla import SlaRules
from bot.cases.store import Case, CaseEvent
from bot.cases.views import case_view
from bot.db import Database


@dataclass
class DeskContext:
    db: Database
    rules: SlaRules
    clock: Callable[[], datetime]

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction. On SQLite it takes the write lock up front
        (BEGIN IMMEDIATE) so concurrent writers queue instead of failing."""
        with self.db.session() as s:
            if self.db.is_sqlite:
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield s
                s.commit()
            except StaleDataError as exc:
                s.rollback()
                raise Conflict("工单刚被其他人修改，请刷新后再试") from exc
            except Exception:
                s.rollback()
                raise

    def read(self) -> AbstractContextManager[Session]:
        return self.db.session()

    def audit(self, s: Session, case: Case, actor: Actor, action: str, **detail: Any) -> None:
        """Every change writes its event in the same transaction as the change itself."""
        s.add(CaseEvent(case_id=case.id, at=self.clock(), actor=actor.name, action=action, detail=detail))

    def view(
        self, s: Session, case: Case, viewer: Actor, full: bool = False, with_check_code: bool = False
    ) -> dict[str, Any]:
        """The case as `viewer` may see it, now (bot/cases/views.py)."""
        return case_view(s, case, viewer, self.rules, self.clock(), full=full, with_check_code=with_check_code)


def get_case(s: Session, number: str) -> Case:
    case = s.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"没有找到工单 {number}")
    return case
