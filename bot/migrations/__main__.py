"""Alembic's commands on the service database, configured in code (no alembic.ini):

    python -m bot.migrations revision --autogenerate -m "add cases.language"   # a new revision
    python -m bot.migrations upgrade head        # what start-up does (with its lock and adoption)
    python -m bot.migrations current | history | downgrade -1 | check | upgrade head --sql

The database is the project's (JZ_DATABASE_URL, else $JZ_DATA_DIR/service.db) or `--url URL`.
`revision --autogenerate` and `check` compare the models with a scratch SQLite database
upgraded to head unless --url is given, so they need no running database and see only
what the revisions themselves make.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic.config import CommandLine

from bot import migrator as migrations


def main(argv: list[str] | None = None) -> int:
    cli = CommandLine(prog="python -m bot.migrations")
    cli.parser.add_argument("--url", help="SQLAlchemy URL of the database (default: the project's settings)")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    name = options.cmd[0].__name__
    with tempfile.TemporaryDirectory(prefix="jz-migrations-") as scratch:
        url = options.url
        if url is None and (name == "check" or (name == "revision" and options.autogenerate)):
            url = f"sqlite:///{Path(scratch) / 'head.db'}"
            _upgrade(url, "head")
        if name == "upgrade" and not options.sql:
            _upgrade(url or migrations.migration_url(migrations.config()), options.revision)
            return 0
        cfg = migrations.config(url=url)
        cfg.cmd_opts = options
        cli.run_cmd(cfg, options)
    return 0


def _upgrade(url: str, revision: str) -> None:
    from bot.engine import make_engine

    engine = make_engine(url)
    try:
        migrations.upgrade(engine, revision)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
