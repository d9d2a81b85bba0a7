"""Imports every module that declares tables, so create_all sees them all."""
# Domain modules with tables are added here as they appear (e.g. bot.cases.store).
