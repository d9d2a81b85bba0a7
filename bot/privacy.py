"""Masking personal data: 身份证号, phone numbers and free text containing them.

Used wherever a person's data leaves the case store for someone who does not
need it in full: API answers for masked roles, console pages, logs and
transcripts. Pure functions; no framework imports.
"""
from __future__ import annotations

import logging
import re

MASK = "*"

# 18-digit resident ID (last char may be X) or the old 15-digit one, not part of a longer number.
_ID18_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_ID15_RE = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
# Mainland mobile numbers, optionally with +86 / 86 and separators.
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
# Landlines with an area code: 0818-1234567, (0818)12345678, 0818 1234567.
_LANDLINE_RE = re.compile(r"(?<!\d)[(（]?0\d{2,3}[)）]?[- ]?\d{7,8}(?!\d)")


def mask_id_number(value: str | None) -> str:
    """'510722199001011234' -> '510***********1234'."""
    if not value:
        return ""
    v = value.strip()
    if len(v) <= 7:
        return MASK * len(v)
    return v[:3] + MASK * (len(v) - 7) + v[-4:]


def mask_phone(value: str | None) -> str:
    """'13812345678' -> '138****5678'; landlines keep the area code and last 4 digits."""
    if not value:
        return ""
    v = value.strip()
    digits = re.sub(r"\D", "", v)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + MASK * 4 + digits[-4:]
    if digits.startswith("0") and len(digits) >= 10:
        area = 3 if digits[1] in "12" else 4  # 010, 02x are 3-digit area codes
        return digits[:area] + "-" + MASK * (len(digits) - area - 4) + digits[-4:]
    if len(digits) <= 4:
        return MASK * len(digits)
    return MASK * (len(digits) - 4) + digits[-4:]


def mask_name(value: str | None) -> str:
    """'张三丰' -> '张**'. Keeps the surname so an operator can address the person."""
    if not value:
        return ""
    v = value.strip()
    return v[:1] + MASK * max(len(v) - 1, 1)


def mask_text(text: str | None) -> str:
    """Masks every ID number and phone number found in free text.

    Short service numbers (110, 120, 12345, 12349) are left alone.
    """
    if not text:
        return text or ""
    out = _ID18_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    out = _ID15_RE.sub(lambda m: mask_id_number(m.group(0)), out)
    out = _MOBILE_RE.sub(lambda m: mask_phone(m.group(0)), out)
    out = _LANDLINE_RE.sub(lambda m: mask_phone(m.group(0)), out)
    return out


def mask_contact(contact: dict | None) -> dict:
    """A resident contact dict with name, phone and id_number masked; other keys kept."""
    if not contact:
        return {}
    masked = dict(contact)
    if masked.get("name"):
        masked["name"] = mask_name(masked["name"])
    for key in ("phone", "phone2"):
        if masked.get(key):
            masked[key] = mask_phone(masked[key])
    if masked.get("id_number"):
        masked["id_number"] = mask_id_number(masked["id_number"])
    if masked.get("address"):
        masked["address"] = mask_text(masked["address"])
    return masked


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID and phone numbers in every record.

    `logging.getLogger().addFilter(MaskingFilter())` or on a handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = ()
        return True


def install_log_masking(logger_names: tuple[str, ...] = ("", "uvicorn", "uvicorn.error", "uvicorn.access",
                                                         "rasa_sdk", "sanic.root")) -> None:
    """Masks ID and phone numbers in everything these loggers' handlers write.

    A filter on a logger does not see records propagated from its children, so the
    filter goes on the handlers, where every record passes.
    """
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
