"""Moved to bot/case_codes.py (the action server uses it, and actions do not import bot.cases);
re-exported here until actions/ imports bot.case_codes (see the lint-imports contracts in pyproject.toml)."""

from bot.case_codes import (
    ALPHABET,
    CASE_NUMBER_RE,
    CASE_PREFIX,
    CASE_SUFFIX_LENGTH,
    CHECK_CODE_LENGTH,
    find_case_number,
    find_check_code,
    new_case_number,
    new_check_code,
    normalize_case_number,
    normalize_check_code,
)

__all__ = [
    "ALPHABET",
    "CHECK_CODE_LENGTH",
    "CASE_SUFFIX_LENGTH",
    "CASE_PREFIX",
    "CASE_NUMBER_RE",
    "new_check_code",
    "new_case_number",
    "normalize_case_number",
    "normalize_check_code",
    "find_case_number",
    "find_check_code",
]
