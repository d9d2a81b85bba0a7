"""Recognising personal numbers: 身份证号, bank-card numbers, mainland mobile and landline
numbers. bot/privacy.py masks what these checks accept.

Check digits and shapes decide, so that a real number is always recognised and amounts, case
numbers (GD…) and service numbers (110, 12345, 12349) are not:
- 身份证号, 18 characters: the ISO 7064 MOD 11-2 check digit is right (stdnum.cn.ric), or
  the number is shaped like one (a province code, then a real birth date) — a mistyped
  number is still the person's. 15 digits (the old card): a province code and a real
  YYMMDD birth date.
- Bank cards, 16–19 digits (also in groups of four): the Luhn check digit is right
  (stdnum.luhn).
- Mainland mobile numbers, 1[3-9] + 9 digits (optionally +86, and spaces or dashes);
  landlines with an area code, 0 + 2–3 digits, then 7–8 digits.

Pure functions, no framework imports; it runs on Python 3.10 (Rasa's environment) and 3.11.
"""

from __future__ import annotations

import re
from datetime import date

try:  # python-stdnum in the app environment (requirements/app.in)
    from stdnum import luhn as _luhn
    from stdnum.cn import ric as _ric
except ImportError:  # Rasa's environment has no stdnum: the same checks, written out
    _luhn = _ric = None

# 省级行政区划代码 (GB/T 2260): the first two digits of every 身份证号.
_PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
        "91",
    }
)


def ric_check_digit(number: str) -> str:
    """The 18th character of a 身份证号 from its first 17 digits (ISO 7064 MOD 11-2)."""
    if _ric is not None:
        return _ric.calc_check_digit(number[:17] + "0")
    checksum = (1 - 2 * int(number[:17], 13)) % 11
    return "X" if checksum == 10 else str(checksum)


def luhn_valid(digits: str) -> bool:
    """Whether a bank-card number's last digit is its Luhn check digit."""
    if not digits.isdigit():
        return False
    if _luhn is not None:
        return _luhn.is_valid(digits)
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1890, 1, 1) <= born <= date.today()


def is_id_number(value: str) -> bool:
    """A 身份证号 (18 characters, or the old 15 digits) to mask: see the module docstring."""
    v = value.strip().upper()
    if len(v) == 18 and v[:17].isdigit() and (v[17].isdigit() or v[17] == "X"):
        if v[17] == ric_check_digit(v):
            return True
        return v[:2] in _PROVINCES and _real_date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    if len(v) == 15 and v.isdigit():
        return v[:2] in _PROVINCES and _real_date(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
    return False


def is_bank_card(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    return 16 <= len(digits) <= 19 and luhn_valid(digits)


def is_mobile(value: str) -> bool:
    digits = re.sub(r"[ +-]", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return len(digits) == 11 and re.fullmatch(r"1[3-9]\d{9}", digits) is not None


def is_landline(value: str) -> bool:
    digits = re.sub(r"[ ()（）-]", "", value)
    return digits.isdigit() and digits.startswith("0") and not digits.startswith("00") and 10 <= len(digits) <= 12
