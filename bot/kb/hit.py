"""What a search of the provisions returns (bot.kb.knowledge_base.KnowledgeBase.search), in a
module of its own so that the answers (bot/kb/answer.py) read hits without importing the search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.kb.provision import Provision


@dataclass
class Hit:
    """One ranked provision; `superseded` lists the overridden rules it replaces."""

    provision: Provision
    score: float
    superseded: list[Provision] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.provision["id"])

    def __getitem__(self, key: str) -> Any:  # hit["title"] reads the provision
        fields: Mapping[str, Any] = self.provision
        return fields[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.provision,
            "score": round(float(self.score), 4),
            "superseded": [dict(p) for p in self.superseded],
        }
