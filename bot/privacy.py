"""Masking personal data (个人信息保护法): 身份证号, phone numbers, bank-card numbers,
names and addresses, in values and in free text.

The one masking module: the service (API answers and console pages for people who do not
handle the case), the action server, the Rasa server (its tracker store, rasa_channels/) and
every log (bot/log_masking.py) use it. Pure functions, no framework imports; it runs on
Python 3.10 (Rasa's environment) and 3.11.

What `mask_text` masks: every number bot/personal_numbers.py recognises as a 身份证号, a
bank card, a mobile or a landline (check digits decide, so amounts, case numbers (GD…) and
service numbers (110, 12345, 12349) stay); and after a word that says what follows
(身份证/证件号, 银行卡/卡号/账号, 电话/座机/手机) a number of that kind's length whatever its
check digit: a mistyped one too. Numbers glued to letters (GD20261122000012, hex ids) are
never taken apart.

Names and addresses (`mask_personal_text`, for people who do not handle a case): a name
after 我叫/姓名/名字是/叫做 (and the case's own contact name wherever it appears), and an
address after 住在/家住/家在/住址/地址 up to the end of the clause, keeping the 县(区)/乡镇
level so an operator still knows where the case belongs.
"""

from __future__ import annotations

import re

from bot.personal_numbers import is_bank_card, is_id_number, is_landline, is_mobile

MASK = "*"

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
# Seven digits anywhere in a text (full-width ones are digits to \d too): with fewer, only a
# run after a word for a card is masked (_CONTEXT_RES); every other number masked has 7 or
# more. Most texts a conversation stores have neither, and are passed by at once.
_SEVEN_DIGITS = re.compile(r"(?:\d\D*){7}")
_CARD_WORD = re.compile(r"银行卡|卡号|账号|帐号|存折|社保卡")
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
    if not _SEVEN_DIGITS.search(text) and not _CARD_WORD.search(text):
        return text
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
