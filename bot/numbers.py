"""Chinese numbers as residents write them, turned into Arabic numerals.

cn2an does the heavy lifting (一千五 → 1500, 七十多岁 → 70多岁); this module adds
what it lacks: 两 before a measure word (两口人), 万 after a decimal (1.5万),
rough ranges (五六百 → 550), 千把块 (about a thousand), 半年.
"""

from __future__ import annotations

import re
import warnings

import cn2an

_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10000}

# 五六百, 七八千, 三四十: two adjacent digits and a unit → the midpoint.
_RANGE = re.compile(r"([一二两三四五六七八])([二三四五六七八九])([十百千万])")
# 千把块, 百把块, 万把块: "about one <unit>".
_ROUGH = re.compile(r"(?<![一二两三四五六七八九十\d])([百千万])把")
# Runs of Chinese numeral characters, converted one by one.
_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
# 1.5万, 3万2 (= 32000), 2千
_DEC_WAN = re.compile(r"(\d+(?:\.\d+)?)\s*万(\d)?(?![\d千百])")
_DEC_QIAN = re.compile(r"(\d+(?:\.\d+)?)\s*千(\d)?(?![\d百])")


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _to_number(run: str) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _fmt(cn2an.cn2an(run.replace("两", "二").replace("〇", "零"), "smart"))
        except (ValueError, KeyError, IndexError, TypeError):
            return None


def _convert_run(m: re.Match) -> str:
    run, after = m[0], m.string[m.end() : m.end() + 2]
    # 一万五一年 = 15000 a year: a trailing 一 before 年/月/天 is "one", not a digit.
    if len(run) > 1 and run.endswith("一") and after[:1] in ("年", "月", "天", "个"):
        head = _to_number(run[:-1])
        return f"{head} 1" if head is not None else run
    converted = _to_number(run)
    return converted if converted is not None else run


def normalize_numbers(text: str) -> str:
    text = _RANGE.sub(lambda m: _fmt((_DIGIT[m[1]] + _DIGIT[m[2]]) / 2 * _UNIT[m[3]]), text)
    text = _ROUGH.sub(lambda m: str(_UNIT[m[1]]), text)
    text = text.replace("半年", "6个月")
    text = _RUN.sub(_convert_run, text)
    text = _DEC_WAN.sub(lambda m: _fmt(float(m[1]) * 10000 + (int(m[2]) * 1000 if m[2] else 0)), text)
    text = _DEC_QIAN.sub(lambda m: _fmt(float(m[1]) * 1000 + (int(m[2]) * 100 if m[2] else 0)), text)
    return text
