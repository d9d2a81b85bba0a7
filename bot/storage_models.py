"""Imports every module that declares tables, so Base.metadata (the migrations' target,
bot/migrations) sees them all."""
# Domain modules with tables are added here as they appear (e.g. bot.cases.store).
import bot.cases.store  # noqa: F401,E402  (case desk: cases, audit log, notes, outbox, users)
import bot.throttle.sql_storage  # noqa: F401,E402  (login and lookup throttle counters)
import bot.channels.history  # noqa: F401,E402  (web chat history: what the page showed, per conversation)
