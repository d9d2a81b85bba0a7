"""Facts about a household, read from what a resident writes.

Residents give several facts in one message, in words ("我们屋头三口人，一年
收入一万二，老汉儿七十多岁，一级残疾"), and correct themselves ("不对，是四口人").
`extract_facts` returns what one message says; `merge_facts` lets a later
message override an earlier one. Fact ids follow docs/GLOSSARY.md; the
screening form turns them into a /v1/screen request.

`expecting` is the fact the assistant just asked for, so a bare answer
("三个", "一千五", "农村的") is read in that context.
"""

from __future__ import annotations

import re
from typing import Any

from bot.understanding import Query, understand

FACT_IDS = (
    "jurisdiction",
    "hukou",
    "household_size",
    "monthly_income",
    "ages",
    "disability_type",
    "disability_grade",
    "serious_illness",
    "employed",
    "property_ok",
    "has_able_supporter",
    "currently_receiving",
    "emergency_type",
    "monthly_rigid_expense",
    "labor_capacity",
    "local_standard",
)

_NUM = r"(\d+(?:\.\d+)?)"

_SIZE_PATTERNS = [
    re.compile(r"(?:家|屋头|屋里|户|一共|总共|我们|我家|家里)[^，。,.；;\d]{0,6}?" + _NUM + r"\s*(?:口人|口|个人|人)"),
    re.compile(r"1\s*家\s*" + _NUM + r"\s*口"),
    re.compile(_NUM + r"\s*口人"),
    re.compile(r"^(?:是|有|就)?\s*" + _NUM + r"\s*(?:口|个|人|个人)?\s*(?:人)?[。.!！]?$"),
]
_ALONE = re.compile(r"(?:就我|只有我|我)\s*1\s*个(?:人)?(?:住|过|生活)?|独居|孤寡|1个人(?:住|过|生活)")
_AND_PARTNER = re.compile(r"我(?:和|跟|同)(?:老伴|老婆|老公|爱人|媳妇|丈夫|妻子)(?:两|2)?(?:个人|口子)?")

_YEAR = r"(?:1\s*年|每年|年收入|年薪|全年|1年下来|1年到头)"
_MONTH = r"(?:1\s*个?\s*月|每个?月|月收入|月入|月工资|1月)"
_MONEY_WORDS = r"(?:收入|挣|赚|工资|进账|领|拿|有|能有|靠)"
_INCOME_YEAR = re.compile(_YEAR + r"[^，。,.；;\d]{0,8}?" + _NUM + r"\s*(?:块|元)?")
_INCOME_MONTH = re.compile(_MONTH + r"[^，。,.；;\d]{0,8}?" + _NUM + r"\s*(?:块|元)?")
_INCOME_YEAR_AFTER = re.compile(
    _MONEY_WORDS + r"[^，。,.；;\d]{0,4}?" + _NUM + r"\s*(?:块|元)?\s*" + r"(?:1\s*年|每年)"
)
_INCOME_MONTH_AFTER = re.compile(
    _MONEY_WORDS + r"[^，。,.；;\d]{0,4}?" + _NUM + r"\s*(?:块|元)?\s*" + r"(?:1\s*个?月|每个?月)"
)
_INCOME_PLAIN = re.compile(r"(?:收入|工资|挣|赚)[^，。,.；;\d]{0,4}?" + _NUM + r"\s*(?:块|元)?")
_NO_INCOME = re.compile(r"(?:没有|没|莫得|没得|无|0)\s*(?:任何)?\s*(?:收入|进项|经济来源|工资)|分文没有|1分钱都没")
_BARE_MONEY = re.compile(
    r"^(?:大概|差不多|大约|就|只有|有)?\s*" + _NUM + r"\s*(?:块|元|块钱)?(?:左右|的样子)?[。.!！]?$"
)

_AGE = re.compile(_NUM + r"\s*(?:多)?\s*(?:周)?岁")

_DISABILITY_TYPES = [
    ("multiple", r"多重残疾"),
    ("intellectual", r"智力|智障|脑瘫"),
    ("mental", r"精神"),
    ("visual", r"视力|眼睛看不见|盲人|失明|瞎"),
    ("hearing", r"听力|聋|耳朵听不见"),
    ("speech", r"言语|哑"),
    ("limb", r"肢体|截肢|瘫痪|偏瘫|腿脚残|腿残|手残"),
]
_DISABILITY_GRADE = re.compile(
    r"(\d)\s*级\s*(?:残|伤残|肢体|视力|听力|言语|智力|精神|多重)|残疾\s*(\d)\s*级|残疾证\s*(\d)\s*级"
)
_SEVERE_DISABILITY = re.compile(r"重度残疾|重残")
_ILLNESS = re.compile(
    r"癌|肿瘤|尿毒症|白血病|透析|重病|大病|重症|脑溢血|脑梗|心脏病|肝硬化|红斑狼疮|器官移植|慢性肾|瘫在床|住院"
)
_HUKOU_RURAL = re.compile(r"农村|农业户口|村里|乡下|农民")
_HUKOU_URBAN = re.compile(r"城镇|城市户口|城里|非农|居民户口|县城|街道|小区|社区")
_UNEMPLOYED = re.compile(
    r"(?:没有|没|莫得|没得|找不到)\s*(?:工作|活路|事做|班上)|失业|下岗|待业|无业|干不了活|做不了活"
)
_EMPLOYED = re.compile(r"打工|上班|有工作|在厂里|做零工|务工")
_NO_LABOR = re.compile(r"干不了活|做不了活|丧失劳动能力|没有劳动能力|莫得劳动能力|卧床|瘫在床")
_PROPERTY_BAD = re.compile(
    r"(?<![没无])有(?:小)?车|(?<![没无第])(?:两|2|几)套房|(?<![没无])有(?:商铺|门面)|开公司|(?<![没无])有存款\s*\d{5,}"
)
_PROPERTY_OK = re.compile(r"(?:没有|没|莫得|没得|无)\s*(?:房|车|存款)|租房|房子都没有")
_NO_SUPPORTER = re.compile(
    r"(?:没有|没|莫得|没得|无)\s*(?:儿女|子女|儿子|女儿|娃儿|亲人|家人)|无儿无女|孤寡|儿女(?:都)?不管|子女(?:都)?不管|五保"
)
_HAS_SUPPORTER = re.compile(r"儿子|女儿|儿女|子女")
_RECEIVING = [
    ("dibao", r"(?:已经|正在|在|现在)\s*(?:吃|领|享受)\s*低保|是低保户|低保户"),
    ("tekun", r"(?:已经|正在|在|现在)\s*(?:吃|领|享受)\s*(?:特困|五保)|是(?:特困|五保)户"),
    ("disability_subsidies", r"(?:在|已经)?领\s*(?:残疾人)?(?:两项补贴|护理补贴|生活补贴)"),
]
# Labels are the screen's emergency types (bot.eligibility.entities.EMERGENCY_TYPES): the
# screen refuses any other.
_EMERGENCIES = [
    ("fire", r"着火|失火|火灾|起火|烧了|烧光"),
    ("traffic_accident", r"车祸|被车撞|被撞"),
    ("accident", r"意外|摔伤|工伤"),
    ("sudden_illness", r"突发|急病|重病|住院|ICU|抢救|手术|押金"),
    ("disaster", r"洪水|水灾|地震|泥石流|塌方|冰雹|受灾|房子垮|房子倒"),
    ("unemployment", r"失业|下岗|厂子倒闭|没活干"),
    ("other", r"没饭吃|吃不上饭|断粮|没地方住|无家可归|露宿|流落街头"),
]
_STANDARD = re.compile(r"低保标准[^，。,.；;\d]{0,6}?" + _NUM)
_RIGID = re.compile(
    r"(?:看病|医药费|药费|治病|学费|读书|上学)((?:[^，。,.；;\d]|1\s*个?\s*[月年])*?)"
    + _NUM
    + r"(?!\s*个?\s*[月年])\s*(?:块|元)?"
)


def _first_number(pattern: re.Pattern, text: str) -> float | None:
    m = pattern.search(text)
    if not m:
        return None
    value = next(g for g in m.groups() if g is not None)
    return float(value)


def _income(text: str, expecting: str | None) -> float | None:
    """Household income per month; yearly figures divided by 12."""
    for pattern, per_year in (
        (_INCOME_YEAR, True),
        (_INCOME_YEAR_AFTER, True),
        (_INCOME_MONTH, False),
        (_INCOME_MONTH_AFTER, False),
    ):
        value = _first_number(pattern, text)
        if value is not None:
            return round(value / 12, 2) if per_year else value
    if _NO_INCOME.search(text):
        return 0.0
    value = _first_number(_INCOME_PLAIN, text)
    if value is not None:
        return value
    if expecting == "monthly_income":
        value = _first_number(_BARE_MONEY, text)
        if value is not None:
            return value
    return None


def _household_size(text: str, expecting: str | None) -> int | None:
    if _ALONE.search(text):
        return 1
    if _AND_PARTNER.search(text):
        return 2
    patterns = _SIZE_PATTERNS if expecting == "household_size" else _SIZE_PATTERNS[:3]
    for pattern in patterns:
        value = _first_number(pattern, text)
        if value is not None and 1 <= value <= 20:
            return int(value)
    return None


def extract_facts(text: str, expecting: str | None = None, query: Query | None = None) -> dict[str, Any]:
    """The facts one message states. Only what it states: silence is not "no".

    The message is read through bot.understanding (simplified characters, numbers as digits,
    the place named); the patterns read its words as written (`Query.literal`), since they
    tell 低保户 from 低保标准. Pass the `query` when the message is already read."""
    query = query or understand(text)
    t = query.literal
    facts: dict[str, Any] = {}
    if query.place:
        facts["jurisdiction"] = query.place
    if _HUKOU_RURAL.search(t):
        facts["hukou"] = "rural"
    elif _HUKOU_URBAN.search(t) or expecting == "hukou" and re.search(r"城", t):
        facts["hukou"] = "urban"
    size = _household_size(t, expecting)
    if size is not None:
        facts["household_size"] = size
    income = _income(t, expecting)
    if income is not None:
        facts["monthly_income"] = income
    ages = [int(float(a)) for a in _AGE.findall(t) if 0 <= float(a) <= 120]
    if ages:
        facts["ages"] = ages
    disability_type = _first_label(_DISABILITY_TYPES, t)
    if disability_type:
        facts["disability_type"] = disability_type
    m = _DISABILITY_GRADE.search(t)
    if m:
        facts["disability_grade"] = int(next(g for g in m.groups() if g))
    elif _SEVERE_DISABILITY.search(t):
        facts.setdefault("disability_grade", 2)
    if _ILLNESS.search(t):
        facts["serious_illness"] = True
    if _UNEMPLOYED.search(t):
        facts["employed"] = False
    elif _EMPLOYED.search(t):
        facts["employed"] = True
    if _NO_LABOR.search(t):
        facts["labor_capacity"] = "none"
    if _PROPERTY_BAD.search(t):
        facts["property_ok"] = False
    elif _PROPERTY_OK.search(t):
        facts["property_ok"] = True
    if _NO_SUPPORTER.search(t):
        facts["has_able_supporter"] = False
    elif expecting == "has_able_supporter" and _HAS_SUPPORTER.search(t):
        facts["has_able_supporter"] = True
    receiving = [pid for pid, pattern in _RECEIVING if re.search(pattern, t)]
    if receiving:
        facts["currently_receiving"] = receiving
    emergency_type = _first_label(_EMERGENCIES, t)
    if emergency_type:
        facts["emergency_type"] = emergency_type
    standard = _first_number(_STANDARD, t)
    if standard is not None:
        facts["local_standard"] = standard
        facts.pop("monthly_income", None)
    m = _RIGID.search(t)
    if m:
        per_year = re.search(r"年", m[1]) is not None
        facts["monthly_rigid_expense"] = round(float(m[2]) / 12, 2) if per_year else float(m[2])
    if expecting and not facts:  # a bare yes/no answers the question just asked
        answer = _yes_no(t)
        if answer is not None and expecting in ("property_ok", "has_able_supporter", "serious_illness", "employed"):
            # The property question asks "有没有车、第二套房、大额存款": "有" means not ok.
            facts[expecting] = (not answer) if expecting == "property_ok" else answer
    return facts


def _first_label(labelled: list[tuple[str, str]], text: str) -> str | None:
    """The label of the first (label, pattern) pair whose pattern occurs in the text."""
    return next((label for label, pattern in labelled if re.search(pattern, text)), None)


def _yes_no(text: str) -> bool | None:
    if re.search(r"^(?:不对|不是这样|错了)", text.strip()):  # a correction, not an answer
        return None
    if re.search(r"^(?:没有|没|莫得|没得|不是|不|否|无)", text.strip()):
        return False
    if re.search(r"^(?:有|是|对|嗯|要得|是的|对头)", text.strip()):
        return True
    return None


def merge_facts(known: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A later statement replaces an earlier one ("不对，是四口人")."""
    merged = dict(known or {})
    merged.update(new)
    return merged
