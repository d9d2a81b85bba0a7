"""Schema migrations of the service database: alembic's script directory (env.py, the
revisions in versions/) and its command line (`python -m bot.migrations`, __main__.py).

The runner (`upgrade(engine)` under a lock, adopting a database made before migrations,
`target_metadata()`, …) is bot/migrator.py, re-exported here; see its docstring.
"""

from bot.migrator import (
    ADVISORY_LOCK_KEY,
    BASELINE,
    BASELINE_TABLES,
    MIGRATIONS_DIR,
    VERSION_TABLE,
    config,
    current_revision,
    downgrade,
    head,
    migration_url,
    script_directory,
    target_metadata,
    upgrade,
)

__all__ = [
    "ADVISORY_LOCK_KEY",
    "BASELINE",
    "BASELINE_TABLES",
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "config",
    "current_revision",
    "downgrade",
    "head",
    "migration_url",
    "script_directory",
    "target_metadata",
    "upgrade",
]
