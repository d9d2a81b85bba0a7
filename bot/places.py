"""Jurisdictions (places) and how they nest.

One source of truth for place names: the knowledge base, the eligibility
engine, case routing and the bot all resolve names through here. Unknown
places are an error, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

NATIONAL = "全国"

# child -> parent; the nesting given by the policy sources' README.
_PARENT: dict[str, str | None] = {
    "全国": None,
    "四川省": "全国",
    "达州市": "四川省",
    "渠县": "达州市",
    "巴中市": "四川省",
    "甘肃省": "全国",
    "白银市": "甘肃省",
    "会宁县": "白银市",
}

# Short and colloquial names residents use.
_ALIASES: dict[str, str] = {
    "全国": "全国",
    "国家": "全国",
    "中国": "全国",
    "national": "全国",
    "四川": "四川省",
    "四川省": "四川省",
    "川": "四川省",
    "达州": "达州市",
    "达州市": "达州市",
    "渠县": "渠县",
    "渠": "渠县",
    "巴中": "巴中市",
    "巴中市": "巴中市",
    "甘肃": "甘肃省",
    "甘肃省": "甘肃省",
    "白银": "白银市",
    "白银市": "白银市",
    "会宁": "会宁县",
    "会宁县": "会宁县",
}

# Stable ASCII ids for URLs, parameters and file names.
PLACE_IDS: dict[str, str] = {
    "全国": "national",
    "四川省": "sichuan",
    "达州市": "dazhou",
    "渠县": "quxian",
    "巴中市": "bazhong",
    "甘肃省": "gansu",
    "白银市": "baiyin",
    "会宁县": "huining",
}


class UnknownPlace(ValueError):
    """A place name we do not serve."""

    def __init__(self, name: str):
        super().__init__(f"未知的地区：{name}")
        self.name = name


@dataclass(frozen=True)
class Place:
    name: str

    @property
    def id(self) -> str:
        return PLACE_IDS[self.name]

    @property
    def path(self) -> list[str]:
        """This place first, then its parents up to 全国."""
        return jurisdiction_path(self.name)


def known_places() -> list[str]:
    return list(_PARENT)


def normalize_place(name: str) -> str:
    """Canonical name for a place ('达州' -> '达州市'); raises UnknownPlace."""
    key = (name or "").strip()
    if key in _ALIASES:
        return _ALIASES[key]
    for canonical, pid in PLACE_IDS.items():
        if key.lower() == pid:
            return canonical
    raise UnknownPlace(name)


def find_place_in_text(text: str) -> str | None:
    """The most specific known place mentioned in free text, if any."""
    best: str | None = None
    for alias in sorted(_ALIASES, key=len, reverse=True):
        if len(alias) < 2 or alias in ("国家", "中国", "national"):
            continue
        if alias in text:
            place = _ALIASES[alias]
            if best is None or len(jurisdiction_path(place)) > len(jurisdiction_path(best)):
                best = place
    return best


def jurisdiction_path(name: str) -> list[str]:
    """['渠县', '达州市', '四川省', '全国'] for '渠县'."""
    place: str | None = normalize_place(name)
    path: list[str] = []
    while place is not None:
        path.append(place)
        place = _PARENT[place]
    return path


def applies_in(rule_place: str, asker_place: str) -> bool:
    """Whether a rule issued for rule_place applies to someone in asker_place."""
    return normalize_place(rule_place) in jurisdiction_path(asker_place)
