"""Imports every module that declares tables, so create_all sees them all."""
# Domain modules with tables are added here as they appear (e.g. bot.cases.store).
import bot.cases.store  # noqa: F401,E402  (case desk: cases, audit log, notes, outbox, users)
import bot.throttle.sql_storage  # noqa: F401,E402  (login and lookup throttle counters)
