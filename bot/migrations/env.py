"""Alembic's environment for the service database (bot/migrator.py runs it).

The connection comes from `config.attributes["connection"]` (start-up: bot.db.Database.migrate,
under the migration lock) or, when alembic is run without one, from the URL in the config
(`python -m bot.migrations --url …`) or the project's settings (JZ_DATABASE_URL / JZ_DATA_DIR).
"""

from __future__ import annotations

from alembic import context

import bot.storage_models  # noqa: F401  (every table module: the models autogenerate compares)
from bot.migrator import migration_url, target_metadata

config = context.config


def _configure(**kw) -> None:
    context.configure(
        target_metadata=target_metadata(),
        # Batch mode: SQLite cannot ALTER most things, so revisions are written as
        # "copy and move" batches that also run (as plain ALTERs) on PostgreSQL.
        render_as_batch=True,
        compare_type=True,
        **kw,
    )


def run_offline() -> None:
    _configure(url=migration_url(config), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from bot.engine import make_engine

    engine = make_engine(migration_url(config))
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
