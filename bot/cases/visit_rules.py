"""The volunteer's visit checklist and risk table (policy_kb/discovery/visit.yml): the groups
a household is visited for, the signs seen, how consent was given, and the rules that turn
groups and signs into a risk level. Pure Python; bot/cases/visits.py files the visit.

The page (bot/service/templates/console/visit.html) runs the same rules offline, from
`VisitTable.for_page()`: a rule fires when any of its signs was seen (or it names none) and the
household is in any of its groups (or it names none); the highest level that fires wins.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TABLE_FILE = Path("discovery") / "visit.yml"
LEVELS = ("urgent", "high", "normal")
LEVEL_LABELS = {"urgent": "紧急", "high": "较高", "normal": "一般"}


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    level: str
    signs: frozenset[str]
    groups: frozenset[str]
    reason: str
    sources: tuple[str, ...]

    def fires(self, groups: set[str], signs: set[str]) -> bool:
        return (not self.signs or bool(self.signs & signs)) and (not self.groups or bool(self.groups & groups))


@dataclass(frozen=True)
class VisitTable:
    version: str
    groups: tuple[Item, ...]
    signs: tuple[Item, ...]
    consent: tuple[Item, ...]
    rules: tuple[Rule, ...]

    def labels(self, kind: str) -> dict[str, str]:
        return {i.id: i.label for i in getattr(self, kind)}

    def for_page(self) -> dict[str, Any]:
        """The table as the volunteer's page runs it offline (same rules, same order)."""
        return {
            "version": self.version,
            "levels": LEVEL_LABELS,
            "rules": [
                {"level": r.level, "any": sorted(r.signs), "groups": sorted(r.groups), "reason": r.reason}
                for r in self.rules
            ],
        }


def _items(raw: list[dict[str, Any]] | None, kind: str) -> tuple[Item, ...]:
    items = tuple(Item(str(i["id"]), str(i["label"]), tuple(str(s) for s in i.get("sources") or ())) for i in raw or [])
    ids = [i.id for i in items]
    if not items or len(set(ids)) != len(ids):
        raise ValueError(f"visit.yml {kind}: missing or repeated ids")
    return items


def parse_table(data: dict[str, Any]) -> VisitTable:
    groups, signs = _items(data.get("groups"), "groups"), _items(data.get("signs"), "signs")
    group_ids, sign_ids = {g.id for g in groups}, {s.id for s in signs}
    rules = []
    for raw in data.get("rules") or []:
        rule = Rule(
            level=str(raw["level"]),
            signs=frozenset(raw.get("any") or ()),
            groups=frozenset(raw.get("groups") or ()),
            reason=str(raw["reason"]),
            sources=tuple(str(s) for s in raw.get("sources") or ()),
        )
        if rule.level not in LEVELS:
            raise ValueError(f"visit.yml rule level {rule.level!r}: one of {LEVELS}")
        if not rule.signs and not rule.groups:
            raise ValueError(f"visit.yml rule {rule.reason!r} has neither signs nor groups: it would always fire")
        unknown = (rule.signs - sign_ids) | (rule.groups - group_ids)
        if unknown:
            raise ValueError(f"visit.yml rule {rule.reason!r} names unknown ids: {sorted(unknown)}")
        rules.append(rule)
    used = set().union(*(r.signs for r in rules)) if rules else set()
    if sign_ids - used:
        raise ValueError(f"visit.yml signs no rule uses: {sorted(sign_ids - used)}")
    return VisitTable(str(data.get("version", "")), groups, signs, _items(data.get("consent"), "consent"), tuple(rules))


@functools.cache
def load_table(kb_dir: Path) -> VisitTable:
    return parse_table(yaml.safe_load((Path(kb_dir) / TABLE_FILE).read_text(encoding="utf-8")))


# ---------------------------------------------------------------- risk


@dataclass(frozen=True)
class Risk:
    level: str
    reasons: tuple[dict[str, Any], ...]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "label": self.label, "reasons": list(self.reasons)}


def assess(table: VisitTable, groups: set[str], signs: set[str]) -> Risk:
    """The highest level any rule reaches, with every rule that fired (why, on what)."""
    fired = [r for r in table.rules if r.fires(groups, signs)]
    level = min((r.level for r in fired), key=LEVELS.index, default="normal")
    reasons = tuple(
        {
            "level": r.level,
            "reason": r.reason,
            "signs": sorted(r.signs & signs),
            "groups": sorted(r.groups & groups),
            "sources": list(r.sources),
        }
        for r in sorted(fired, key=lambda r: LEVELS.index(r.level))
    )
    return Risk(level, reasons)
