"""Units of parameters: how each is shown in Chinese, and a value written for a text."""

from __future__ import annotations

from typing import Any

UNIT_ZH = {
    "yuan_per_person_month": "元/人·月",
    "yuan_per_person_year": "元/人·年",
    "yuan_per_household_year": "元/户·年",
    "yuan_per_month": "元/月",
    "yuan_per_person_month_by_grade": "元/人·月（按等级）",
    "ratio": "倍",
    "rate": "（比例）",
    "months": "个月",
    "years": "年",
    "age_years": "周岁",
    "bool": "",
    "enum": "",
    "categories": "",
    "grade_by_type": "级",
}
NUMERIC_UNITS = {
    "yuan_per_person_month",
    "yuan_per_person_year",
    "yuan_per_household_year",
    "yuan_per_month",
    "ratio",
    "rate",
    "months",
    "years",
    "age_years",
}


def format_value(value: Any, unit: str) -> str:
    if value is None:
        return "未设置"
    if unit == "rate" and isinstance(value, (int, float)):
        return f"{value * 100:g}%"
    if unit == "bool":
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)):
        return f"{value:g}{UNIT_ZH.get(unit, '')}" if isinstance(value, float) else f"{value}{UNIT_ZH.get(unit, '')}"
    return str(value)
