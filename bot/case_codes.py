"""Case numbers and check codes: how they are made, and how a resident's typing of them
is read back. Pure Python (standard library).

- A check code is 8 characters drawn with `secrets` from an alphabet without look-alike
  characters (no 0/O, 1/I/L, no U): about 39 bits, and easy to read out on a phone.
  It always mixes letters and digits, so a chat message's bare code is told from a word
  or a number.
- A case number is ``GD`` + the local date + 6 random characters of the same alphabet
  (e.g. ``GD20261122K7M3QX``, as long as the old numbers): the day stays readable, the
  rest cannot be guessed from the case before or after it.
- Older cases keep what they were given: numbers ``GD`` + date + a 6-digit sequence and
  6-digit check codes are still found (the parsers and the lookup accept both).

What a resident types is normalised before it is compared: full-width characters
(ＧＤ２０２６…) become ASCII, case is ignored, spaces and hyphens are dropped.

Outside bot/cases/ because the action server reads case numbers and codes in residents'
messages too, and actions never import the case desk's own code (lint-imports).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

# Crockford's base32 less 0 and 1: nothing here is mistaken for another symbol of it.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_CODE_LENGTH = 8
CASE_SUFFIX_LENGTH = 6
CASE_PREFIX = "GD"

_DIGITS = frozenset("23456789")

# In a message: GD, the date (8 digits), then the rest of the number (the new random part,
# or the old sequence). Matched on NFKC-normalised text, ignoring case.
CASE_NUMBER_RE = re.compile(r"GD\s*(\d{8})[\s-]?([0-9A-Z]{3,10})(?![0-9A-Z])", re.IGNORECASE)
# After a label (查询码 / 验证码 / 码): the code itself; old codes are 4–8 digits.
_LABELLED_CODE_RE = re.compile(
    r"(?:查询码|验证码|码)[^0-9A-Z]{0,3}([0-9A-Z]{4}[\s-]?[0-9A-Z]{0,8})(?![0-9A-Z])", re.IGNORECASE
)
# Unlabelled: an old 6-digit code, or 8 characters of the alphabet mixing letters and digits.
_BARE_CODE_RE = re.compile(
    r"(?<![0-9A-Z])(\d{6}|(?=[0-9A-Z]{0,7}\d)(?=[0-9A-Z]{0,7}[A-Z])[0-9A-Z]{4}[\s-]?[0-9A-Z]{4})(?![0-9A-Z])",
    re.IGNORECASE,
)


def new_check_code() -> str:
    """8 characters from ALPHABET, at least one letter and one digit (drawn again otherwise)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CHECK_CODE_LENGTH))
        if any(c in _DIGITS for c in code) and any(c.isalpha() for c in code):
            return code


def new_case_number(local_day: date) -> str:
    """``GD`` + yyyymmdd + 6 random characters; the caller makes sure it is not taken."""
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(CASE_SUFFIX_LENGTH))
    return f"{CASE_PREFIX}{local_day:%Y%m%d}{suffix}"


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def normalize_case_number(text: str) -> str:
    """How a typed case number is compared: NFKC, upper case, no spaces or hyphens."""
    return re.sub(r"[\s\-]", "", _plain(text)).upper()


def normalize_check_code(text: str) -> str:
    """How a typed check code is compared: NFKC, upper case, no spaces or hyphens."""
    return re.sub(r"[\s\-]", "", _plain(text)).upper()


def find_case_number(text: str) -> str | None:
    """The case number in a message (normalised), or None."""
    m = CASE_NUMBER_RE.search(_plain(text))
    return f"{CASE_PREFIX}{m[1]}{m[2]}".upper() if m else None


def find_check_code(text: str) -> str | None:
    """The check code in a message once its case number is taken out (normalised), or None."""
    rest = CASE_NUMBER_RE.sub(" ", _plain(text))
    m = _LABELLED_CODE_RE.search(rest) or _BARE_CODE_RE.search(rest)
    return normalize_check_code(m[1]) if m else None
