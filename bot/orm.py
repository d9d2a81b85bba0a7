"""The declarative base of the service database's tables, and nothing else.

Each domain declares its own tables on `Base` in its own module (bot/cases/store.py,
bot/throttle/sql_storage.py, bot/channels/history.py). This module imports nothing of the
project, so a table module depends on SQLAlchemy and this file only, never on the engine
(bot/db.py) or the migrations. What makes `Base.metadata` complete is importing every table
module: bot/storage_models.py lists them and the composition roots import it (the service,
bot/service/app.py; alembic's environment, bot/migrations/env.py).
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
