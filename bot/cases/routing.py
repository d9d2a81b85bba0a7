"""Target hotline (12345 / 12349) for a jurisdiction, from bot/cases/routing.yml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.cases.model import Hotline
from bot.places import NATIONAL, jurisdiction_path, normalize_place

ROUTING_FILE = Path(__file__).with_name("routing.yml")


@dataclass(frozen=True)
class Route:
    hotline: Hotline
    name: str
    matched_place: str
    reference: dict[str, Any]


@lru_cache(maxsize=2)
def _table(path: str | None = None) -> dict[str, dict[str, Any]]:
    with open(path or ROUTING_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    table = {}
    for place, entry in (data.get("places") or {}).items():
        Hotline(str(entry["hotline"]))
        table[normalize_place(place)] = entry
    if NATIONAL not in table:
        raise ValueError("routing.yml must have an entry for 全国")
    return table


def route_for(jurisdiction: str | None) -> Route:
    """The hotline for a place; unknown places raise bot.places.UnknownPlace."""
    table = _table()
    path = jurisdiction_path(jurisdiction) if jurisdiction else [NATIONAL]
    for place in path:
        if place in table:
            entry = table[place]
            return Route(Hotline(str(entry["hotline"])), entry.get("name", ""), place, entry.get("reference") or {})
    raise AssertionError("unreachable: 全国 is always in the table")
