"""Moved to bot/case_limits.py (the action server uses it, and actions do not import bot.cases);
re-exported here until actions/ imports bot.case_limits (see the lint-imports contracts in pyproject.toml)."""

from bot.case_limits import (
    CONTACT_MAX,
    ID_MAX,
    JURISDICTION_MAX,
    LIST_MAX,
    QUESTION_MAX,
    ROW_ID_MAX,
    TEXT_MAX,
    TIMESTAMP_MAX,
    TITLE_MAX,
    TRANSCRIPT_MAX_TURNS,
    TURN_ROLES,
    clip,
    fit_case,
    fit_key,
    fit_transcript,
    trimmed,
)

__all__ = [
    "TEXT_MAX",
    "TITLE_MAX",
    "TRANSCRIPT_MAX_TURNS",
    "LIST_MAX",
    "QUESTION_MAX",
    "ID_MAX",
    "JURISDICTION_MAX",
    "TIMESTAMP_MAX",
    "ROW_ID_MAX",
    "CONTACT_MAX",
    "TURN_ROLES",
    "clip",
    "trimmed",
    "fit_key",
    "fit_transcript",
    "fit_case",
]
