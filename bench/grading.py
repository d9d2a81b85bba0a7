"""Grading replies with answer keys (../shared/eval/README.md's rules).

A reply answers a question when what the resident sees for that one message
(every text the bot sent) contains at least one phrase of EVERY `must` group,
and is at most 700 characters in all; or when the route the bot took is one of
the key's `ok_actions` (screen / handover / complaint_case / volunteer_case).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

MAX_REPLY_CHARS = 700

# The first action of each route, as Rasa records it in the tracker store.
ROUTE_ACTIONS = {
    "action_report_emergency": "urgent",
    "discovery_form": "volunteer_case",
    "action_start_screen": "screen",
    "action_hand_over": "handover",
    "action_register_complaint": "complaint_case",
    "action_answer_policy": "answer",
    "action_two_stage_fallback": "fallback",
    "action_default_fallback": "fallback",
}


@dataclass(frozen=True)
class Graded:
    question: str
    topic: str
    passed: bool
    route: str
    chars: int
    missing: list[list[str]]


def load_keys(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def grade(key: dict, texts: list[str], route: str) -> Graded:
    reply = "\n".join(texts)
    missing = [group for group in key.get("must") or [] if not any(phrase in reply for phrase in group)]
    ok = (not missing and len(reply) <= MAX_REPLY_CHARS) or route in (key.get("ok_actions") or [])
    return Graded(key["q"], key.get("topic", ""), ok, route, len(reply), missing)


def route_of(actions: list[str]) -> str:
    """The route of one turn, from the actions the bot ran (most telling first)."""
    for action, route in ROUTE_ACTIONS.items():
        if action in actions:
            return route
    return "other"


def turn_actions(tracker_db: Path, sender: str) -> list[str]:
    """Actions Rasa ran for a conversation, read from its SQLite tracker store."""
    with sqlite3.connect(tracker_db) as conn:
        rows = conn.execute(
            "SELECT action_name FROM events WHERE sender_id = ? AND type_name = 'action' ORDER BY id", (sender,)
        ).fetchall()
    return [r[0] for r in rows if r[0]]


def summary(graded: list[Graded]) -> dict:
    n = len(graded) or 1
    routes: dict[str, int] = {}
    for g in graded:
        routes[g.route] = routes.get(g.route, 0) + 1
    return {"n": len(graded), "share": round(sum(g.passed for g in graded) / n, 3), "routes": routes}
