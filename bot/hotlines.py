"""The numbers residents are told to call, and the sentences that tell them: one home.

Every text a Python module sends or shows a resident or an operator takes them from here. Rasa's
own responses (domain/*.yml) are the other home of resident texts; tests/test_hotlines.py checks
that they spell the same numbers and names.
"""

from __future__ import annotations

HOTLINE_NAMES = {"12345": "12345 政务服务便民热线", "12349": "12349 民政服务热线"}
EMERGENCY_NAMES = {"110": "110 报警", "120": "120 急救", "119": "119 火警"}
MENTAL_HEALTH_HOTLINE = "12356"
# Numbers a text may carry without a clause behind them, and that no masking hides.
SERVICE_NUMBERS = frozenset({*HOTLINE_NAMES, *EMERGENCY_NAMES, MENTAL_HEALTH_HOTLINE})

CALL_HOTLINES = "拨打 12345 政务服务便民热线或 12349 民政服务热线"
IF_URGENT = f"着急的话请{CALL_HOTLINES}。"
IN_DANGER = "遇到危险请立即拨打 110（报警）、120（急救）或 119（火警）。"
ASK_LOCALLY = f"如果还有不清楚的地方，可以到乡镇（街道）便民服务窗口问一问，也可以{CALL_HOTLINES}。"


def hotline_name(number: str | None) -> str:
    """'12349' -> '12349 民政服务热线'; an unknown number as given."""
    return HOTLINE_NAMES.get(str(number or ""), str(number or ""))


def call_now(numbers: list[str]) -> str:
    """'110 报警、120 急救' for the emergency numbers that fit a message."""
    return "、".join(EMERGENCY_NAMES[n] for n in numbers)
