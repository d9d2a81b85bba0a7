"""Migrations of the service database (bot/migrations): the revisions make exactly the
models' schema on SQLite and PostgreSQL, a database made by the old create_all is adopted
with its data, the baseline goes down cleanly, and simultaneous start-ups do not race."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, func, inspect, select, text
from sqlalchemy.exc import DatabaseError

import bot.storage_models  # noqa: F401  (every table module: what migrations.target_metadata() holds)
from bot import migrations
from bot.cases.desk import BOT, CaseDesk, NewCase
from bot.cases.store import Case
from bot.config import PROJECT_ROOT, Settings
from bot.db import Database
from bot.orm import Base
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

NEW_REVISION = '.venv/bin/python -m bot.migrations revision --autogenerate -m "what changed"'


def differences(db: Database, metadata: MetaData | None = None) -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata or migrations.target_metadata())


def assert_schema_is_the_models(db: Database) -> None:
    diff = differences(db)
    assert not diff, (
        "the models (bot/cases/store.py, bot/throttle/sql_storage.py …) and the migrations in "
        f"bot/migrations/versions disagree:\n  {diff}\nMake a revision for the change with\n  {NEW_REVISION}\n"
        "then read it (autogenerate misses triggers, data moves and renames) and run the tests again."
    )


def revision_of(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return migrations.current_revision(conn)


def assert_audit_log_is_append_only(db: Database) -> None:
    with db.engine.connect() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("UPDATE case_events SET action = 'forged'"))
        conn.execute(text("DELETE FROM case_events"))


def new_case(**kw) -> NewCase:
    return NewCase(
        type="consultation", jurisdiction="渠县", sender_id="conv-1", summary="咨询低保", contact={"name": "张三"}, **kw
    )


@pytest.fixture
def sqlite_db(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'service.db'}")
    yield db
    db.engine.dispose()


@pytest.fixture
def pg_db(postgres_url):
    db = Database(postgres_url)
    yield db
    db.engine.dispose()


# ---------------------------------------------------------------- the revisions make the models' schema


def test_upgrade_of_an_empty_sqlite_database_gives_the_models_schema(sqlite_db):
    sqlite_db.migrate()
    assert revision_of(sqlite_db) == migrations.head()
    assert_schema_is_the_models(sqlite_db)
    CaseDesk(sqlite_db).create_case(new_case(), BOT)
    assert_audit_log_is_append_only(sqlite_db)


@pytest.mark.postgres
def test_upgrade_of_an_empty_postgres_database_gives_the_models_schema(pg_db):
    pg_db.migrate()
    assert revision_of(pg_db) == migrations.head()
    assert_schema_is_the_models(pg_db)
    CaseDesk(pg_db).create_case(new_case(), BOT)
    assert_audit_log_is_append_only(pg_db)


def test_the_check_sees_a_model_without_a_migration(sqlite_db):
    """The guard above is not vacuous: a column the revisions do not make is reported."""
    sqlite_db.migrate()
    changed = MetaData()
    for table in migrations.target_metadata().tables.values():
        table.to_metadata(changed)
    changed.tables["cases"].append_column(Column("language", String(8)))
    assert [d[0] for d in differences(sqlite_db, changed)] == ["add_column"]


def test_the_documented_check_command_passes(capsys):
    from bot.migrations.__main__ import main

    assert main(["check"]) == 0
    assert "No new upgrade operations detected" in capsys.readouterr().out


def test_the_revisions_render_as_sql_for_postgres(capsys):
    """Offline mode (`upgrade head --sql`), for a DBA who applies the DDL by hand."""
    from bot.migrations.__main__ import main

    assert main(["--url", "postgresql+psycopg://nobody@localhost/none", "upgrade", "head", "--sql"]) == 0
    sql = capsys.readouterr().out
    assert "CREATE TABLE cases" in sql and "CREATE TRIGGER case_events_append_only" in sql
    assert "CREATE TRIGGER desk_user_events_append_only" in sql


# ---------------------------------------------------------------- a database made before migrations


# Columns later revisions added to the baseline's tables: create_all never made them.
LATER_COLUMNS = {
    "desk_users": (
        "must_change_password",
        "totp_secret",
        "totp_enabled_at",
        "totp_last_step",
        "last_seen_at",
    ),  # 0003, 0008
    "cases": ("contact_phone_last4", "contact_name_key", "visit"),  # 0004, 0006
}
# Indexes later revisions added to the baseline's tables (SQLite drops no indexed column).
LATER_INDEXES = (
    "ix_cases_contact_phone_last4",  # 0004
    "ix_cases_created_at",  # 0005
    "ix_cases_resolved_at",
    "ix_cases_followup_at",
    "ix_case_events_action_at",
    "ix_cases_jurisdiction_name_key",  # 0006
)


def _old_database(url: str, drop: tuple[str, ...] = ()) -> None:
    """What the service's start-up did before migrations: create_all of the tables there were
    then (the baseline's, without the columns later revisions add), then it was used."""
    import bot.storage_models  # noqa: F401

    old = Database(url)
    try:
        Base.metadata.create_all(old.engine, tables=[Base.metadata.tables[t] for t in migrations.BASELINE_TABLES])
        CaseDesk(old).create_case(new_case(), BOT, idempotency_key="kept")  # (the ORM writes today's columns)
        with old.engine.begin() as conn:
            for index in LATER_INDEXES:
                conn.execute(text(f"DROP INDEX {index}"))
            for table, columns in LATER_COLUMNS.items():
                for column in columns:
                    conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        with old.engine.begin() as conn:
            for table in drop:  # made by an older version still, before the table existed
                conn.execute(text(f"DROP TABLE {table}"))
        assert "alembic_version" not in inspect(old.engine).get_table_names()
    finally:
        old.engine.dispose()


def _cases(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Case.idempotency_key)))


def test_the_baseline_tables_are_the_ones_the_baseline_makes(sqlite_db):
    """How start-up recognises a create_all database (bot.migrations.BASELINE_TABLES)."""
    migrations.upgrade(sqlite_db.engine, migrations.BASELINE)
    made = set(inspect(sqlite_db.engine).get_table_names()) - {"alembic_version"}
    assert made == set(migrations.BASELINE_TABLES)


def test_the_service_adopts_a_database_made_by_create_all(tmp_path, monkeypatch):
    from bot.service.app import create_app

    data_dir = tmp_path / "svc"
    _old_database(f"sqlite:///{data_dir / 'service.db'}")
    monkeypatch.setenv("JZ_BOT_TOKEN", "test-bot-token-0123456789")
    app = create_app(Settings(data_dir=data_dir))  # start-up: migrate, not create_all
    try:
        db = app.state.db
        assert revision_of(db) == migrations.head()
        assert _cases(db) == ["kept"]
        assert_schema_is_the_models(db)
        assert_audit_log_is_append_only(db)
    finally:
        app.state.db.engine.dispose()
    again = create_app(Settings(data_dir=data_dir))  # the next start-up: nothing to do
    assert _cases(again.state.db) == ["kept"]
    again.state.db.engine.dispose()


def test_an_older_create_all_database_gets_the_tables_it_lacked(sqlite_db):
    _old_database(sqlite_db.url, drop=("dead_letters", "rate_limit_counters"))
    sqlite_db.migrate()
    assert revision_of(sqlite_db) == migrations.head()
    assert _cases(sqlite_db) == ["kept"]
    assert_schema_is_the_models(sqlite_db)


@pytest.mark.postgres
def test_a_postgres_database_made_by_create_all_is_adopted(pg_db):
    _old_database(pg_db.url, drop=("rate_limit_counters",))
    pg_db.migrate()
    assert revision_of(pg_db) == migrations.head()
    assert _cases(pg_db) == ["kept"]
    assert_schema_is_the_models(pg_db)
    assert_audit_log_is_append_only(pg_db)


# ---------------------------------------------------------------- down


def test_downgrade_of_the_baseline_leaves_an_empty_database(sqlite_db):
    sqlite_db.migrate()
    migrations.downgrade(sqlite_db.engine, "base")
    assert set(inspect(sqlite_db.engine).get_table_names()) == {"alembic_version"}
    assert revision_of(sqlite_db) is None
    sqlite_db.migrate()  # and up again
    assert_schema_is_the_models(sqlite_db)


@pytest.mark.postgres
def test_downgrade_on_postgres_removes_the_trigger_function_too(pg_db):
    pg_db.migrate()
    migrations.downgrade(pg_db.engine, "base")
    assert set(inspect(pg_db.engine).get_table_names()) == {"alembic_version"}
    with pg_db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'case_events_append_only'")) == 0


# ---------------------------------------------------------------- 0003: accounts


def test_existing_users_are_kept_and_asked_nothing_new_by_the_accounts_revision(sqlite_db):
    """Users from before 0003 keep working: no forced password change, no two-step login;
    the accounts' audit log is append-only in the database; and 0003 goes down keeping them."""
    migrations.upgrade(sqlite_db.engine, "0002")
    with sqlite_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO desk_users (username, display_name, role, password_hash, active, session_version, "
                "created_at) VALUES ('wangfang', '王芳', 'operator', 'x', 1, 3, '2026-11-30 08:00:00')"
            )
        )
    sqlite_db.migrate()
    assert revision_of(sqlite_db) == migrations.head()
    assert_schema_is_the_models(sqlite_db)
    with sqlite_db.engine.begin() as conn:
        row = conn.execute(text("SELECT id, must_change_password, totp_secret, session_version FROM desk_users")).one()
        assert (row.must_change_password, row.totp_secret, row.session_version) == (0, None, 3)
        conn.execute(
            text(
                "INSERT INTO desk_user_events (user_id, at, actor, action, detail) VALUES (:u, '2026-12-01', 'system', 'deactivated', '{}')"
            ),
            {"u": row.id},
        )
    with sqlite_db.engine.connect() as conn, pytest.raises(DatabaseError, match="desk_user_events is append-only"):
        conn.execute(text("DELETE FROM desk_user_events"))
    migrations.downgrade(sqlite_db.engine, "0002")
    assert "desk_user_events" not in inspect(sqlite_db.engine).get_table_names()
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("SELECT username, session_version FROM desk_users")).one() == ("wangfang", 3)


# ---------------------------------------------------------------- 0004: the phone search's last 4 digits


def test_the_phone_revision_fills_the_last_4_digits_of_existing_cases_and_goes_down(sqlite_db):
    migrations.upgrade(sqlite_db.engine, "0003")
    with sqlite_db.engine.begin() as conn:
        for i, contact in enumerate(
            ['{"name": "张三", "phone": "+86 138-1234-5678"}', '{"name": "李四"}', '{"phone": "110"}', "{}"]
        ):
            conn.execute(
                text(
                    "INSERT INTO cases (number, check_code, type, channel, jurisdiction, hotline, priority, "
                    "priority_rank, status, title, summary, transcript, questions, programs, contact, created_by, "
                    "escalated, created_at, updated_at, due_at, resolution, followup_note, version) VALUES "
                    "(:n, 'AB3D5F7G', 'consultation', 'web', '渠县', '12345', 'normal', 2, 'new', '', '', '[]', "
                    "'[]', '[]', :c, 'bot', 0, '2026-12-01', '2026-12-01', '2026-12-04', '', '', 1)"
                ),
                {"n": f"GD20261201{i:06d}", "c": contact},
            )
    sqlite_db.migrate()
    assert_schema_is_the_models(sqlite_db)
    with sqlite_db.engine.connect() as conn:
        got = conn.execute(text("SELECT number, contact_phone_last4 FROM cases ORDER BY number")).all()
    assert [g[1] for g in got] == ["5678", None, None, None]
    from bot.cases.search import parse_search

    page = CaseDesk(sqlite_db).page_queue("all", BOT, search=parse_search("13812345678"))
    assert [c["number"] for c in page.cases] == ["GD20261201000000"]
    migrations.downgrade(sqlite_db.engine, "0003")
    assert "contact_phone_last4" not in {c["name"] for c in inspect(sqlite_db.engine).get_columns("cases")}


def test_the_visits_revision_fills_the_name_keys_of_existing_cases_and_goes_down(sqlite_db):
    migrations.upgrade(sqlite_db.engine, "0005_case_stats")
    with sqlite_db.engine.begin() as conn:
        for i, contact in enumerate(['{"name": "王晓明", "phone": "13812345678"}', '{"phone": "110"}', "{}"]):
            conn.execute(
                text(
                    "INSERT INTO cases (number, check_code, type, channel, jurisdiction, hotline, priority, "
                    "priority_rank, status, title, summary, transcript, questions, programs, contact, created_by, "
                    "escalated, created_at, updated_at, due_at, resolution, followup_note, version) VALUES "
                    "(:n, 'AB3D5F7G', 'discovery', 'console', '渠县', '12345', 'high', 1, 'new', '', '', '[]', "
                    "'[]', '[]', :c, 'v1', 0, '2026-12-01', '2026-12-01', '2026-12-04', '', '', 1)"
                ),
                {"n": f"GD20261201{i:06d}", "c": contact},
            )
    sqlite_db.migrate()
    assert_schema_is_the_models(sqlite_db)
    with sqlite_db.engine.connect() as conn:
        got = conn.execute(text("SELECT contact_name_key FROM cases ORDER BY number")).scalars().all()
    from bot.cases.household_match import name_key

    assert got == ["wangxiaoming", None, None] == [name_key("王小明"), None, None]
    migrations.downgrade(sqlite_db.engine, "0005_case_stats")
    columns = {c["name"] for c in inspect(sqlite_db.engine).get_columns("cases")}
    assert "contact_name_key" not in columns and "visit" not in columns


# ---------------------------------------------------------------- several processes starting at once

# A service's start-up as its own process: imports done, it says "ready", waits for the
# starting gun (a file), then migrates. Processes, not threads: alembic runs one thread at a
# time per process anyway, so only processes test the database's lock.
STARTER = """
import sys, time, pathlib
from bot.db import Database
import bot.migrations, bot.storage_models
print("ready", flush=True)
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.002)
Database(sys.argv[1]).migrate()
"""


def _simultaneous_start_ups(url: str, n: int, tmp_path: Path) -> list[tuple[int, str]]:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, url, str(go)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        go.touch()
        return [(p.wait(120), p.stderr.read()) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _assert_one_revision_at_head(url: str) -> None:
    db = Database(url)
    try:
        assert revision_of(db) == migrations.head()
        assert_schema_is_the_models(db)
        with db.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(text("alembic_version"))) == 1
    finally:
        db.engine.dispose()


@pytest.mark.postgres
def test_simultaneous_start_ups_on_a_fresh_postgres_database_all_succeed(postgres_url, tmp_path):
    assert _simultaneous_start_ups(postgres_url, 3, tmp_path) == [(0, "")] * 3
    _assert_one_revision_at_head(postgres_url)


def test_simultaneous_start_ups_on_a_fresh_sqlite_database_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'service.db'}"
    assert _simultaneous_start_ups(url, 3, tmp_path) == [(0, "")] * 3
    _assert_one_revision_at_head(url)


def test_threads_of_one_process_migrating_at_once_all_succeed(tmp_path):
    """Alembic's context is process-wide: two databases migrated from two threads at once."""
    urls = [f"sqlite:///{tmp_path / f'{i}.db'}" for i in range(3)] * 2
    barrier = threading.Barrier(len(urls))
    errors: list[BaseException] = []

    def start(url: str) -> None:
        db = Database(url)
        try:
            barrier.wait()
            db.migrate()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            db.engine.dispose()

    threads = [threading.Thread(target=start, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for url in set(urls):
        _assert_one_revision_at_head(url)
