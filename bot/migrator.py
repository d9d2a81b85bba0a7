"""Runs the schema migrations of the service database (bot/migrations: Alembic, configured
here, no alembic.ini).

`upgrade(engine)` is what every process that opens the service database runs first
(bot.db.Database.migrate: the service at start-up, the admin and retention commands):

- under a lock, so several processes starting at once do not race: on PostgreSQL a session
  advisory lock (held by the connection the migrations run on, so it covers every machine
  using the database and goes away if the process dies); on SQLite an flock on a file beside
  the database (SQLite is one machine's file, so a file lock covers every process using it);
- a database made before migrations existed (tables created by `Base.metadata.create_all`,
  no `alembic_version`) is adopted: the baseline runs with IF NOT EXISTS on every table,
  index and trigger, which creates only what an old version had not made yet and records the
  baseline as the database's revision (a stamp that also fills gaps); nothing is dropped;
- then alembic upgrades to head.

Developers make a revision with `python -m bot.migrations revision --autogenerate -m "…"`
(README, "Database migrations"); tests/test_migrations.py fails while the models and the
revisions disagree.

This runner lives beside the migrations package, not in it: the engine (bot/db.py
`Database.migrate`) imports it, while the package's alembic environment and command line
import every table module (bot/storage_models.py) — with the runner inside, the package
and bot.db would import each other. It imports no table module itself.
"""

from __future__ import annotations

import fcntl
import logging
import sys
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # alembic's script directory
BASELINE = "0001"  # the schema create_all made before migrations existed
# Its tables: a database holding any of them and no alembic_version was made by create_all.
BASELINE_TABLES = (
    "desk_users",
    "cases",
    "case_events",
    "case_notes",
    "case_replies",
    "dead_letters",
    "rate_limit_counters",
)
VERSION_TABLE = "alembic_version"
# One advisory-lock key for "migrating the service database" (a stable 32-bit number).
ADVISORY_LOCK_KEY = zlib.crc32(b"jiuzhu-assistant service database migrations")

_script: ScriptDirectory | None = None
_thread_lock = threading.Lock()


def target_metadata() -> MetaData:
    """The one MetaData of the service database: every table module registers on bot.orm.Base.

    It is complete once bot/storage_models.py (the list of table modules) is imported: by
    alembic's environment (env.py: autogenerate, check) and the service; a caller comparing
    schemas imports it first. The migrations themselves import no table module, so the
    engine (bot/db.py, whose `migrate` runs them) stays below every domain that has tables.
    """
    if "bot.storage_models" not in sys.modules:
        raise RuntimeError("import bot.storage_models first: it imports every module that declares tables")
    from bot.orm import Base

    return Base.metadata


def config(url: str | None = None, connection: Connection | None = None, adopt: bool = False) -> Config:
    """An Alembic Config for bot/migrations, built in code.

    `connection`: run on it (the caller holds the lock and commits); else `url`; else the
    project's settings. `adopt`: the baseline creates only what does not exist yet.
    """
    cfg = Config(stdout=sys.stdout)  # the current stdout (the default is the one at import)
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    cfg.attributes["adopt"] = adopt
    return cfg


def migration_url(cfg: Config) -> str:
    url = cfg.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.config import settings

    return settings().resolved_database_url()


def script_directory() -> ScriptDirectory:
    """The revisions, read once per process (parsing them is most of an upgrade's cost)."""
    global _script
    if _script is None:
        _script = ScriptDirectory.from_config(config())
    return _script


def head() -> str:
    return script_directory().get_current_head()


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the database to `revision` (head): adopts a pre-migration database, then upgrades."""
    with _migration_lock(engine) as conn:
        tables = set(inspect(conn).get_table_names())
        if VERSION_TABLE not in tables and tables & set(BASELINE_TABLES):
            log.warning(
                "service database has tables but no %s (made before migrations): "
                "adopting it at the baseline revision %s",
                VERSION_TABLE,
                BASELINE,
            )
            _run(conn, lambda cfg: command.upgrade(cfg, BASELINE), adopt=True)
        elif VERSION_TABLE in tables and current_revision(conn) == head() and revision == "head":
            return  # already there (the usual start-up): no need to load the environment
        _run(conn, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    with _migration_lock(engine) as conn:
        _run(conn, lambda cfg: command.downgrade(cfg, revision))


def _run(conn: Connection, action, adopt: bool = False) -> None:
    cfg = config(connection=conn, adopt=adopt)
    action(cfg)
    conn.commit()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection on which only one process at a time migrates this database.

    Alembic's `context` and `op` are process-wide, so one thread at a time migrates any
    database in this process; the database's own lock then keeps other processes out.
    """
    with _thread_lock, _database_lock(engine) as conn:
        yield conn


@contextmanager
def _database_lock(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()  # the lock belongs to the session, not to this transaction
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    path = _sqlite_file(engine)
    with nullcontext() if path is None else _file_lock(Path(f"{path}.migrate-lock")), engine.connect() as conn:
        yield conn


def _sqlite_file(engine: Engine) -> str | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return None if not database or database == ":memory:" or database.startswith("file:") else database


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:  # flock: let go by the kernel if the process dies
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
