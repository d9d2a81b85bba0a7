"""Retention of personal data: nothing personal is kept longer than JZ_RETENTION_DAYS
(default 180; 0 keeps everything).

What goes, once older than that:
- Rasa's conversations: every event in the tracker store (its `events` table, SQLite or
  PostgreSQL) whose time is before the cut-off is deleted. Messages there are masked
  already and slot values sealed (rasa_channels/tracker_store.py); this removes them.
- Closed and transferred cases (the time they were closed, or last changed): the
  transcript, summary, questions, eligibility details, contact, resolution, follow-up note,
  sender id, and the text of their internal notes and replies are emptied. The skeleton
  stays for statistics: number, type, channel, place, hotline, priority, status, programs,
  satisfaction and every time stamp; the title becomes 【已过保存期限】 + the case type.
  An audit event records it. Open cases are never touched, however old.
- Resolved dead letters (the refused report they kept), in the service database and,
  when it is in the same data folder, in the action server's spool (acknowledged ones
  only: a report still waiting for delivery is never removed).
- Web chat history (bot/channels/history.py): every message older than the cut-off is
  deleted, whatever the conversation (what a reload of the page shows again).
- Knowledge gaps (bot/kb/gap_log.py): every recorded low-confidence answer older than the
  cut-off is deleted (the questions are masked, but they are still residents' words).
SQLite files are written with secure_delete, so removed text does not linger in free pages.

The service runs `run` every JZ_RETENTION_CHECK_HOURS (bot/service/app.py); by hand:
`python -m bot.retention [--days N] [--dry-run]`.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, delete, func, inspect, or_, select, text, update

from bot.cases.model import TYPE_LABELS, CaseType, Status
from bot.cases.store import Case, CaseEvent, CaseNote, CaseReply, DeadLetter
from bot.config import Settings
from bot.config import settings as default_settings
from bot.db import Database

log = logging.getLogger(__name__)

PURGED_MARK = "【已过保存期限】"
FINISHED = (Status.closed, Status.transferred)


@dataclass
class Report:
    cutoff: str
    cases: int = 0
    dead_letters: int = 0
    tracker_events: int = 0
    spool_dead_letters: int = 0
    chat_messages: int = 0
    knowledge_gaps: int = 0


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def cutoff_for(cfg: Settings, now: datetime | None = None) -> datetime | None:
    """The oldest time kept (naive UTC, as the service stores times), or None: keep all."""
    if cfg.retention_days <= 0:
        return None
    now = now or _utcnow()
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now - timedelta(days=cfg.retention_days)


def _secure_sqlite(s) -> None:
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("PRAGMA secure_delete=ON"))


def purge_cases(db: Database, cutoff: datetime, dry_run: bool = False) -> tuple[int, int]:
    """(cases emptied, dead letters emptied) in the service database."""
    finished_at = func.coalesce(Case.closed_at, Case.updated_at)
    with db.session() as s:
        _secure_sqlite(s)
        cases = list(
            s.scalars(
                select(Case).where(
                    Case.status.in_([str(x) for x in FINISHED]),
                    finished_at < cutoff,
                    ~Case.title.startswith(PURGED_MARK),
                )
            )
        )
        letters = list(
            s.scalars(
                select(DeadLetter).where(
                    DeadLetter.resolved_at.is_not(None),
                    DeadLetter.resolved_at < cutoff,
                    or_(DeadLetter.error != "", DeadLetter.sender_id.is_not(None)),
                )
            )
        )
        if dry_run:
            return len(cases), len(letters)
        now = _utcnow()
        for case in cases:
            case.title = PURGED_MARK + TYPE_LABELS[CaseType(case.type)]
            case.summary = ""
            case.transcript = []
            case.questions = []
            case.eligibility = None
            case.contact = {}
            case.resolution = ""
            case.followup_note = ""
            case.sender_id = None
            s.execute(update(CaseNote).where(CaseNote.case_id == case.id).values(text=""))
            s.execute(update(CaseReply).where(CaseReply.case_id == case.id).values(text=""))
            s.add(
                CaseEvent(
                    case_id=case.id,
                    at=now,
                    actor="system",
                    action="retention",
                    detail={"retention_days_cutoff": cutoff.isoformat(timespec="seconds")},
                )
            )
        for letter in letters:
            letter.payload = {}
            letter.error = ""
            letter.sender_id = None
        s.commit()
    if db.is_sqlite:
        _checkpoint(db)
    return len(cases), len(letters)


def purge_chat_history(db: Database, cutoff: datetime, dry_run: bool = False) -> int:
    """Deletes web chat history older than the cut-off; the number of messages."""
    from bot.channels.history import ChatMessage

    with db.session() as s:
        _secure_sqlite(s)
        if dry_run:
            return s.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.at < cutoff)) or 0
        n = s.execute(delete(ChatMessage).where(ChatMessage.at < cutoff)).rowcount or 0
        s.commit()
    if n and db.is_sqlite:
        _checkpoint(db)
    return n


def purge_knowledge_gaps(db: Database, cutoff: datetime, dry_run: bool = False) -> int:
    """Deletes the knowledge gaps recorded before the cut-off; the number of rows."""
    from bot.kb import gap_log

    n = gap_log.purge(db, cutoff, dry_run)
    if n and not dry_run and db.is_sqlite:
        _checkpoint(db)
    return n


def _checkpoint(db: Database) -> None:
    """Copies the WAL into the database and empties it, so old page images go too."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    except Exception as exc:  # a busy reader: the next run does it
        log.info("retention: WAL checkpoint deferred (%s)", exc)


def tracker_engine_url(url: str) -> str:
    """Rasa's tracker URL as this environment's SQLAlchemy opens it (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def purge_tracker(url: str, cutoff: datetime, dry_run: bool = False) -> int:
    """Deletes Rasa's events older than the cut-off; the number deleted."""
    if url.startswith("sqlite:///") and not url[len("sqlite:///") :].strip():
        return 0
    if url.startswith("sqlite:///"):
        from pathlib import Path

        if not Path(url[len("sqlite:///") :]).exists():
            return 0  # Rasa has not started here yet
    engine = create_engine(
        tracker_engine_url(url), **({"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {})
    )
    try:
        if not inspect(engine).has_table("events"):
            return 0
        stamp = cutoff.replace(tzinfo=UTC).timestamp()
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("PRAGMA secure_delete=ON"))
            if dry_run:
                return conn.execute(text("SELECT count(*) FROM events WHERE timestamp < :t"), {"t": stamp}).scalar()
            return conn.execute(text("DELETE FROM events WHERE timestamp < :t"), {"t": stamp}).rowcount or 0
    finally:
        engine.dispose()


def purge_spool(cfg: Settings, cutoff: datetime, dry_run: bool = False) -> int:
    """Acknowledged dead letters older than the cut-off, from the action server's spool."""
    path = cfg.data_dir / "actions_spool.db"
    if not path.exists():
        return 0
    stamp = cutoff.replace(tzinfo=UTC).timestamp()
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA secure_delete=ON")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "dead_letters" not in tables:
            return 0
        where = "acknowledged_at IS NOT NULL AND acknowledged_at < ?"
        if dry_run:
            return conn.execute(f"SELECT count(*) FROM dead_letters WHERE {where}", (stamp,)).fetchone()[0]
        with conn:
            n = conn.execute(f"DELETE FROM dead_letters WHERE {where}", (stamp,)).rowcount
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return n
    finally:
        conn.close()


def run(
    cfg: Settings | None = None, db: Database | None = None, now: datetime | None = None, dry_run: bool = False
) -> Report | None:
    """One retention pass over everything; None when retention is off (JZ_RETENTION_DAYS=0)."""
    cfg = cfg or default_settings()
    cutoff = cutoff_for(cfg, now)
    if cutoff is None:
        return None
    own = db is None
    if db is None:
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(cfg.resolved_database_url())
        db.migrate()  # a data folder the service has not used yet
    try:
        report = Report(cutoff=cutoff.isoformat(timespec="seconds"))
        report.cases, report.dead_letters = purge_cases(db, cutoff, dry_run)
        report.tracker_events = purge_tracker(cfg.resolved_tracker_store_url(), cutoff, dry_run)
        report.spool_dead_letters = purge_spool(cfg, cutoff, dry_run)
        report.chat_messages = purge_chat_history(db, cutoff, dry_run)
        report.knowledge_gaps = purge_knowledge_gaps(db, cutoff, dry_run)
    finally:
        if own:
            db.engine.dispose()
    if (
        report.cases
        or report.dead_letters
        or report.tracker_events
        or report.spool_dead_letters
        or report.chat_messages
        or report.knowledge_gaps
    ):
        log.info("retention (%s): %s", "dry run" if dry_run else "done", asdict(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, help="keep this many days (default JZ_RETENTION_DAYS)")
    parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    args = parser.parse_args(argv)
    cfg = default_settings()
    if args.days is not None:
        cfg = cfg.model_copy(update={"retention_days": args.days})
    report = run(cfg, dry_run=args.dry_run)
    if report is None:
        print("retention is off (JZ_RETENTION_DAYS=0): nothing removed")
        return 0
    what = "would be emptied" if args.dry_run else "emptied"
    print(
        f"kept from {report.cutoff} (UTC); {what}: {report.cases} closed cases, "
        f"{report.dead_letters} resolved dead letters, {report.tracker_events} Rasa events, "
        f"{report.spool_dead_letters} spooled dead letters, {report.chat_messages} web chat messages, "
        f"{report.knowledge_gaps} knowledge gaps"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
