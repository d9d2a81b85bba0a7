"""A durable local spool for cases the service could not take yet.

An urgent report must never be lost: if the service stays unreachable after
the retries, the case is written here (SQLite, committed) before the resident
is told anything, and re-sent with the same idempotency key on later actions.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.config import settings


def _db_path() -> Path:
    path = Path(settings().data_dir) / "actions_spool.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _connect() -> sqlite3.Connection:
    conn = sqlite3.connect(_db_path(), timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS pending_cases ("
        " idempotency_key TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at REAL NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0)"
    )
    return conn


def save(key: str, case: dict[str, Any]) -> None:
    with _connect() as conn:
        conn.execute("INSERT OR IGNORE INTO pending_cases (idempotency_key, payload, created_at) VALUES (?, ?, ?)",
                     (key, json.dumps(case, ensure_ascii=False), time.time()))


def pending() -> list[tuple[str, dict[str, Any]]]:
    with _connect() as conn:
        rows = conn.execute("SELECT idempotency_key, payload FROM pending_cases ORDER BY created_at").fetchall()
    return [(key, json.loads(payload)) for key, payload in rows]


def done(key: str) -> None:
    with _connect() as conn:
        conn.execute("DELETE FROM pending_cases WHERE idempotency_key = ?", (key,))


def attempted(key: str) -> None:
    with _connect() as conn:
        conn.execute("UPDATE pending_cases SET attempts = attempts + 1 WHERE idempotency_key = ?", (key,))


async def flush(client) -> int:
    """Re-sends spooled cases; returns how many the service has now taken."""
    sent = 0
    for key, case in pending():
        try:
            await client.create_case(case, key, attempts=1)
        except Exception:  # still down: keep it for the next try
            attempted(key)
            break
        done(key)
        sent += 1
    return sent
