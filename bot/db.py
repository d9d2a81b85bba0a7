"""Database engine and sessions (SQLAlchemy 2).

SQLite is the embedded default; PostgreSQL is used by setting
JZ_DATABASE_URL=postgresql+psycopg://... . Domain modules declare their tables
on `Base` (bot/orm.py, which imports nothing of the project) and receive a Session; they
never build engines themselves. The schema is made and changed by migrations
(bot/migrations, run by bot/migrator.py: `Database.migrate`), never by create_all.

Nothing here imports a table module: the migrations run their revisions, which need no
models (lint-imports keeps this module below every domain, see .importlinter).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from bot.engine import make_engine

__all__ = ["Database", "make_engine"]


class Database:
    """An engine plus a session factory; one per process."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        """Brings the schema to the newest revision (bot/migrations): every process that
        opens the service database calls this first. Safe when several start at once; a
        database made by the old create_all is adopted at the baseline, its data kept."""
        from bot import migrator  # here: only processes that migrate load alembic

        migrator.upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s:
            yield s
