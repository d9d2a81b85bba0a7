"""Masking personal data (个人信息保护法): 身份证号, phone numbers, bank-card numbers,
names and addresses, in values and in free text.

The one masking module: the service (API answers and console pages for people who do not
handle the case), the action server, the Rasa server (its tracker store and logs,
rasa_channels/) and every log use it. Pure functions, no framework imports; it runs on
Python 3.10 (Rasa's environment) and 3.11.

What counts as a number to mask (`mask_text`), so that a real number is always masked and
amounts, case numbers (GD…) and service numbers (110, 12345, 12349) are not:
- 身份证号, 18 characters: the ISO 7064 MOD 11-2 check digit is right (stdnum.cn.ric), or
  the number is shaped like one (a province code, then a real birth date) — a mistyped
  number is still the person's. 15 digits (the old card): a province code and a real
  YYMMDD birth date.
- Bank cards, 16–19 digits (also in groups of four): the Luhn check digit is right
  (stdnum.luhn).
- Mainland mobile numbers, 1[3-9] + 9 digits (optionally +86, and spaces or dashes);
  landlines with an area code, 0 + 2–3 digits, then 7–8 digits.
- After a word that says what follows (身份证/证件号, 银行卡/卡号/账号, 电话/座机/手机) a
  number of that kind's length is masked whatever its check digit: a mistyped one too.
Numbers glued to letters (GD20261122000012, hex ids) are never taken apart.

Names and addresses (`mask_personal_text`, for people who do not handle a case): a name
after 我叫/姓名/名字是/叫做 (and the case's own contact name wherever it appears), and an
address after 住在/家住/家在/住址/地址 up to the end of the clause, keeping the 县(区)/乡镇
level so an operator still knows where the case belongs.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import date

try:  # python-stdnum in the app environment (requirements/app.in)
    from stdnum import luhn as _luhn
    from stdnum.cn import ric as _ric
except ImportError:  # Rasa's environment has no stdnum: the same checks, written out
    _luhn = _ric = None

MASK = "*"

# ------------------------------------------------------------------ checks

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


# ------------------------------------------------------------------ values


def mask_id_number(value: str | None) -> str:
    """'510722199001011234' -> '510***********1234'."""
    if not value:
        return ""
    v = value.strip()
    if len(v) <= 7:
        return MASK * len(v)
    return v[:3] + MASK * (len(v) - 7) + v[-4:]


def mask_bank_card(value: str | None) -> str:
    """'6222021234567890128' -> '6222***********0128' (separators dropped)."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 8:
        return MASK * len(digits)
    return digits[:4] + MASK * (len(digits) - 8) + digits[-4:]


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


# An address's head down to the 乡镇/街道 level: [省][市/州][县/区/旗/县级市][乡/镇/街道].
_HAN = r"[\u4e00-\u9fff]"
_ADDRESS_HEAD = re.compile(
    rf"(?:{_HAN}{{1,8}}?(?:省|自治区))?"
    rf"(?:{_HAN}{{1,8}}?(?:市|自治州|州|地区|盟))?"
    rf"(?:{_HAN}{{1,8}}?(?:县|(?<![社小园校营])区|旗))?"
    rf"(?:{_HAN}{{1,8}}?(?:乡|镇|街道))?"
)


def mask_address(value: str | None) -> str:
    """'渠县三汇镇新华村3组12号' -> '渠县三汇镇*********': the county and township stay."""
    if not value:
        return ""
    v = value.strip()
    head = _ADDRESS_HEAD.match(v)
    keep = head.end() if head else 0
    rest = v[keep:]
    return v[:keep] + (MASK * len(rest) if rest else "")


# ------------------------------------------------------------------ free text

_FULL_WIDTH = str.maketrans("０１２３４５６７８９－＋Ｘｘ", "0123456789-+Xx")
# Digits, possibly in groups joined by one space or dash, not glued to letters or digits.
_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+86[- ]?)?\d+(?:[- ]\d+)*[Xx]?(?![0-9A-Za-z])")
# A landline with its area code in brackets: (0818)7321234, （0818）12345678.
_BRACKET_LANDLINE_RE = re.compile(r"[(（]0\d{2,3}[)）][- ]?\d{7,8}(?!\d)")
# A word saying what the number is: then a mistyped number is masked too.
_CONTEXT_RES = (
    (re.compile(r"(?:身份证|证件号|身份号码|公民身份)[^0-9\n]{0,8}?(\d{14,17}[0-9Xx])(?![0-9A-Za-z])"), mask_id_number),
    (
        re.compile(r"(?:银行卡|卡号|账号|帐号|存折|社保卡)[^0-9\n]{0,8}?(\d[\d -]{10,24}\d)(?![0-9A-Za-z])"),
        mask_bank_card,
    ),
    (re.compile(r"(?:电话|座机|手机|号码|联系方式)[^0-9\n]{0,6}?(?<![0-9])(\d{7,8})(?![0-9A-Za-z])"), mask_phone),
)


def _mask_number(token: str) -> str | None:
    """The masked form of one number, or None when it is none of ours."""
    compact = re.sub(r"[ -]", "", token)
    if is_id_number(compact):
        return mask_id_number(compact)
    if is_bank_card(compact):
        return mask_bank_card(compact)
    if is_mobile(compact):
        return mask_phone(compact)
    if is_landline(compact):
        return mask_phone(compact)
    return None


def _mask_token(token: str) -> str:
    whole = _mask_number(token)
    if whole is not None:
        return whole
    if not re.search(r"[ -]", token):
        return token
    # Two numbers side by side ("13812345678 13912345678"): each on its own.
    parts = re.split(r"([ -])", token)
    return "".join(p if p in (" ", "-") else (_mask_number(p) or p) for p in parts)


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, last = [], 0
    for start, end, new in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str | None) -> str:
    """Masks every 身份证号, bank-card and phone number found in free text.

    Short service numbers (110, 120, 12345, 12349), amounts and case numbers stay.
    Full-width digits are read as digits.
    """
    if not text:
        return text or ""
    probe = text.translate(_FULL_WIDTH)  # same length: spans found in probe fit text
    spans: list[tuple[int, int, str]] = []
    for pattern, masker in _CONTEXT_RES:
        for m in pattern.finditer(probe):
            spans.append((m.start(1), m.end(1), masker(m.group(1))))
    for m in _BRACKET_LANDLINE_RE.finditer(probe):
        spans.append((m.start(), m.end(), mask_phone(m.group(0))))
    taken = [(s, e) for s, e, _ in spans]
    for m in _NUMBER_RE.finditer(probe):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        new = _mask_token(m.group(0))
        if new != m.group(0):
            spans.append((m.start(), m.end(), new))
    return _replace_spans(text, spans) if spans else text


_NAME_RE = re.compile(
    rf"(?:我叫|我的名字是|名字是|名字叫|姓名[是为:：]?\s*|叫做|本人名叫|联系人[是:：]?\s*)({_HAN}{{2,3}})"
)
_ADDRESS_RE = re.compile(r"(?:住在|家住|家在|住址[是为:：]?\s*|地址[是为:：]?\s*|现住)([^，。,；;！!？?\n]+)")


def mask_personal_text(text: str | None, names: tuple[str, ...] | list[str] = ()) -> str:
    """`mask_text`, and names and addresses: for someone who does not handle the case.

    `names` are the case's own people (its contact name), masked wherever they appear.
    """
    if not text:
        return text or ""
    out = mask_text(text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, mask_name(name))
    out = _NAME_RE.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + mask_name(m.group(1)), out)
    out = _ADDRESS_RE.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + mask_address(m.group(1)), out)
    return out


def mask_contact(contact: dict | None) -> dict:
    """A resident contact dict with name, phone, id_number and address masked; other keys kept."""
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
        masked["address"] = mask_address(mask_text(masked["address"]))
    return masked


def mask_values(value):
    """Every string inside `value` (dicts, lists, nested) through `mask_text`."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_values(v) for v in value]
    return value


# ------------------------------------------------------------------ logs


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is not ours to fix here
        return
    masked = mask_text(message)
    if masked != message:
        record.msg = masked
        record.args = ()
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set: the traceback is written masked.
        record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID, bank-card and phone numbers in every record
    (its message and its traceback). `handler.addFilter(MaskingFilter())`."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


def install_log_masking(
    logger_names: tuple[str, ...] = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "rasa_sdk", "sanic.root"),
) -> None:
    """Masks ID and phone numbers in everything these loggers' handlers write.

    A filter on a logger does not see records propagated from its children, so the
    filter goes on the handlers, where every record passes.
    """
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())


class MaskingStream:
    """A text stream that masks what is written to it (a process's stdout/stderr)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(mask_text(text) if isinstance(text, str) else text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def install_process_masking() -> None:
    """Masks personal numbers in everything this process logs or prints, whenever its
    log handlers are made: every log record as it is created (message and traceback),
    sys.stdout and sys.stderr, and the handlers that exist now. Used by the Rasa server
    (rasa_channels/), whose logging Rasa and Sanic set up themselves. Idempotent."""
    old = logging.getLogRecordFactory()
    if not getattr(old, "jz_masking", False):

        def factory(*args, **kwargs):
            record = old(*args, **kwargs)
            _mask_record(record)
            return record

        factory.jz_masking = True
        logging.setLogRecordFactory(factory)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))
    install_log_masking(("",))
