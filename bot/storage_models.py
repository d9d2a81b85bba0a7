"""Every module that declares tables of the service database, so bot.orm.Base.metadata (the
migrations' target, bot/migrations) sees them all.

Imported by the composition roots only: the service (bot/service/app.py) and alembic's
environment (bot/migrations/env.py; `python -m bot.migrations revision --autogenerate`).
No domain module imports this file, so a domain never depends on another through it.
A new table module is added here (tests/test_migrations.py then asks for its revision).
"""

import bot.cases.store  # noqa: F401  (case desk: cases, audit log, notes, outbox, users)
import bot.channels.history  # noqa: F401  (web chat history: what the page showed, per conversation)
import bot.kb.gap_log  # noqa: F401  (knowledge gaps: the answers the knowledge base was not sure of)
import bot.throttle.sql_storage  # noqa: F401  (login and lookup throttle counters)
