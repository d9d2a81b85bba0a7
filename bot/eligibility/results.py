"""A program's result and the trace that explains it.

A trace item is one clause-by-clause step: ``{test, passed, kind, text, citation,
parameters}``. ``passed`` is True / False / None (unknown); ``kind`` "condition" decides
the status, "info" only explains. A result is ``unlikely`` if any condition failed, else
``need_info`` if any is unknown, else ``likely`` — unless the program decides its status
itself (``status_override``, for programs that weigh several members or routes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.eligibility.parameters import Resolved

LIKELY, UNLIKELY, NEED_INFO = "likely", "unlikely", "need_info"
# How good a status is for the resident, to pick the best of several routes or members.
STATUS_RANK = {LIKELY: 2, NEED_INFO: 1, UNLIKELY: 0}


def trace_item(
    test: str,
    passed: bool | None,
    text: str,
    citation: dict[str, Any] | None,
    parameters: dict[str, Any] | None = None,
    kind: str = "condition",
) -> dict[str, Any]:
    # Key order is the API's: answers are serialised as built.
    return {
        "test": test,
        "passed": passed,
        "kind": kind,
        "text": text,
        "citation": citation,
        "parameters": parameters or {},
    }


def parameters_used(*resolved: Resolved) -> dict[str, Any]:
    """The ``parameters`` of a trace item: each parameter's value and where it came from."""
    return {
        r.name: {
            "value": r.value,
            "unit": r.unit,
            "origin": r.origin,
            "set_in": r.place,
            "effective": r.effective.isoformat() if r.effective else None,
        }
        for r in resolved
    }


@dataclass
class Result:
    program: str
    explanation: list[dict[str, Any]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (fact id, "status" | "estimate")
    estimate: dict[str, Any] | None = None
    status_override: str | None = None

    def add(
        self,
        test: str,
        passed: bool | None,
        text: str,
        citation: dict[str, Any] | None,
        parameters: dict[str, Any] | None = None,
        kind: str = "condition",
    ) -> bool | None:
        """Append a trace item; returns its ``passed``."""
        self.explanation.append(trace_item(test, passed, text, citation, parameters, kind))
        return passed

    def need(self, *facts: str, purpose: str = "status") -> None:
        """Ask for facts (each once, in the order first asked)."""
        for fact in facts:
            if not any(known == fact for known, _ in self.missing):
                self.missing.append((fact, purpose))

    @property
    def status(self) -> str:
        if self.status_override:
            return self.status_override
        conditions = [i["passed"] for i in self.explanation if i["kind"] == "condition"]
        if any(p is False for p in conditions):
            return UNLIKELY
        if any(p is None for p in conditions):
            return NEED_INFO
        return LIKELY


def best(*statuses: str) -> str:
    return max(statuses, key=lambda s: STATUS_RANK[s]) if statuses else UNLIKELY
