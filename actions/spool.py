"""The action server's durable store for cases the service has not taken yet.

Two tables in one SQLite file (`$JZ_DATA_DIR/actions_spool.db`), every write committed
before the resident is told anything:

- `pending_cases`: reports the service has not taken yet. Every report is written here
  before it is sent (so the action server dying mid-send loses none) and removed once
  the service has it; actions/delivery.py re-sends what remains (same idempotency key,
  so never twice) every few seconds, when the action server starts, and after any
  successful submission.
- `dead_letters`: reports the service refused as sent (4xx). They never block the
  pending ones; each is handed to the service's dead-letter list (a console alert and
  a case of last resort, see bot/cases/dead_letters.py) and kept here until the service
  has acknowledged it.

Storage only; any failure to open or write the file raises SpoolError, which the
actions turn into "please call 12345 now" (never "已登记").
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.config import settings

ERROR_MAX = 2000


class SpoolError(Exception):
    """The spool could not be opened or written (disk full, read-only, missing)."""


def spool_path() -> Path:
    return Path(settings().data_dir) / "actions_spool.db"


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pending_cases ("
    " idempotency_key TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at REAL NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS dead_letters ("
    " idempotency_key TEXT PRIMARY KEY, payload TEXT NOT NULL, error TEXT NOT NULL,"
    " spooled_at REAL NOT NULL, dead_at REAL NOT NULL,"
    " acknowledged_at REAL, case_number TEXT, report_attempts INTEGER NOT NULL DEFAULT 0,"
    " last_report_error TEXT)",
)


def _connect() -> sqlite3.Connection:
    path = spool_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            conn.execute(statement)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(pending_cases)")}
        if "last_error" not in columns:  # spool files from before dead letters existed
            conn.execute("ALTER TABLE pending_cases ADD COLUMN last_error TEXT")
        conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def _db() -> Iterator[sqlite3.Connection]:
    """A connection whose block is one committed transaction; SpoolError on any failure."""
    try:
        conn = _connect()
    except (sqlite3.Error, OSError) as exc:
        raise SpoolError(f"spool {spool_path()}: {exc}") from exc
    try:
        with conn:
            yield conn
    except (sqlite3.Error, OSError) as exc:
        raise SpoolError(f"spool {spool_path()}: {exc}") from exc
    finally:
        conn.close()


def _dump(case: dict[str, Any]) -> str:
    return json.dumps(case, ensure_ascii=False)


# ------------------------------------------------------------------ pending


def save(key: str, case: dict[str, Any]) -> None:
    """Keeps a case for a later try (a second save of the same key keeps the first)."""
    with _db() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO pending_cases (idempotency_key, payload, created_at) VALUES (?, ?, ?)",
            (key, _dump(case), time.time()),
        )


def pending_rows() -> list[tuple[str, dict[str, Any], int]]:
    """(key, case, attempts so far), oldest first."""
    with _db() as conn:
        rows = conn.execute(
            "SELECT idempotency_key, payload, attempts FROM pending_cases ORDER BY created_at, rowid"
        ).fetchall()
    return [(key, json.loads(payload), attempts) for key, payload, attempts in rows]


def pending_count() -> int:
    with _db() as conn:
        return conn.execute("SELECT count(*) FROM pending_cases").fetchone()[0]


def pending() -> list[tuple[str, dict[str, Any]]]:
    return [(key, case) for key, case, _ in pending_rows()]


def done(key: str) -> None:
    with _db() as conn:
        conn.execute("DELETE FROM pending_cases WHERE idempotency_key = ?", (key,))


def attempted(key: str, error: str = "") -> None:
    with _db() as conn:
        conn.execute(
            "UPDATE pending_cases SET attempts = attempts + 1, last_error = ? WHERE idempotency_key = ?",
            (error[:ERROR_MAX], key),
        )


# ------------------------------------------------------------------ dead letters


def bury(key: str, case: dict[str, Any], error: str) -> None:
    """Moves a refused case to the dead letters (one transaction: it is always in exactly one table)."""
    now = time.time()
    with _db() as conn:
        row = conn.execute("SELECT created_at FROM pending_cases WHERE idempotency_key = ?", (key,)).fetchone()
        conn.execute(
            "INSERT OR IGNORE INTO dead_letters (idempotency_key, payload, error, spooled_at, dead_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (key, _dump(case), error[:ERROR_MAX], row[0] if row else now, now),
        )
        conn.execute("DELETE FROM pending_cases WHERE idempotency_key = ?", (key,))


def dead_letters(unacknowledged_only: bool = False) -> list[dict[str, Any]]:
    query = (
        "SELECT idempotency_key, payload, error, dead_at, acknowledged_at, case_number, report_attempts,"
        " last_report_error FROM dead_letters"
    )
    if unacknowledged_only:
        query += " WHERE acknowledged_at IS NULL"
    with _db() as conn:
        rows = conn.execute(query + " ORDER BY dead_at, rowid").fetchall()
    return [
        {
            "key": key,
            "case": json.loads(payload),
            "error": error,
            "dead_at": dead_at,
            "acknowledged_at": acked,
            "case_number": number,
            "report_attempts": attempts,
            "last_report_error": last,
        }
        for key, payload, error, dead_at, acked, number, attempts, last in rows
    ]


def acknowledged(key: str, case_number: str | None) -> None:
    """The service has the dead letter (and made `case_number` from it, if not None)."""
    with _db() as conn:
        conn.execute(
            "UPDATE dead_letters SET acknowledged_at = ?, case_number = ? WHERE idempotency_key = ?",
            (time.time(), case_number, key),
        )


def report_failed(key: str, error: str) -> None:
    with _db() as conn:
        conn.execute(
            "UPDATE dead_letters SET report_attempts = report_attempts + 1, last_report_error = ?"
            " WHERE idempotency_key = ?",
            (error[:ERROR_MAX], key),
        )
