"""Amounts: how a yuan figure is written, and comparing amounts known only as a range."""

from __future__ import annotations


def money(amount: float | None) -> str:
    """700.0 → "700", 12.5 → "12.5", None → "未知"."""
    if amount is None:
        return "未知"
    text = f"{amount:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def below(low: float | None, high: float | None, line_low: float | None, line_high: float | None) -> bool | None:
    """Is a value in [low, high] strictly below a line in [line_low, line_high]? None = can't tell.

    A ``None`` bound is unknown, so it can prove nothing.
    """
    if high is not None and line_low is not None and high < line_low:
        return True
    if line_high is not None and low is not None and low >= line_high:
        return False
    return None
