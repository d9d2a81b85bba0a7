"""Size limits of a case as the service accepts it, `fit_case`, which shortens a
case to them, and `trimmed`, how the desk keeps a text. Pure Python.

The service's pydantic schema (bot/service/case_schemas.py) reads its `max_length`s
from the constants here, and the action server fits every case with `fit_case` before
submitting it, so the two can never disagree: an urgent report is never refused for
its size. tests/actions/test_limits.py checks that a fitted case passes the schema.

Outside bot/cases/ because the action server uses it too, and actions call the service,
never the case desk's own code (lint-imports).
"""

from __future__ import annotations

import hashlib
from typing import Any

TEXT_MAX = 4000  # a transcript turn, the summary, a note, a reply
TITLE_MAX = 200
TRANSCRIPT_MAX_TURNS = 200
LIST_MAX = 20  # questions, programs
QUESTION_MAX = 500  # the desk keeps this much of each question
ID_MAX = 128  # sender id, idempotency key
JURISDICTION_MAX = 32
TIMESTAMP_MAX = 64  # a turn's `at`, `reported_at` (ISO 8601)
ROW_ID_MAX = 2**63 - 1  # a reply or dead-letter id: what a database integer column holds
CONTACT_MAX = {"name": 50, "phone": 30, "id_number": 30, "address": 200, "preferred_time": 50}
TURN_ROLES = ("resident", "bot", "operator", "user")


def clip(text: Any, limit: int) -> str:
    """At most `limit` characters; a cut text keeps its start and says how long it was."""
    whole = "" if text is None else str(text)
    if len(whole) <= limit:
        return whole
    marker = f"……（原文共 {len(whole)} 字，后面的已省略）"
    if len(marker) >= limit:
        return whole[:limit]
    return whole[: limit - len(marker)] + marker


def trimmed(text: str | None, limit: int) -> str:
    """How the desk keeps a text: trimmed, at most `limit` characters, browser form line
    breaks (CRLF) made plain. Unlike `clip`, a cut leaves no marker."""
    return (text or "").replace("\r\n", "\n").strip()[:limit]


def fit_key(key: str) -> str:
    """An idempotency key the service accepts (a long one becomes a stable digest)."""
    if len(key) <= ID_MAX:
        return key
    return f"{key[:60]}-{hashlib.sha256(key.encode()).hexdigest()}"


def fit_transcript(turns: list[Any]) -> list[dict[str, Any]]:
    """The newest turns, with the first message (its start, at least) kept in front.

    Too many turns: the first turn, a note of how many were left out, then the newest.
    """
    clean = []
    for turn in turns or []:
        if not isinstance(turn, dict):
            continue
        role = turn.get("role", "resident")
        out = {"role": role if role in TURN_ROLES else "bot", "text": clip(turn.get("text", ""), TEXT_MAX)}
        if turn.get("at") is not None:
            out["at"] = clip(turn["at"], TIMESTAMP_MAX)
        clean.append(out)
    if len(clean) <= TRANSCRIPT_MAX_TURNS:
        return clean
    newest = clean[-(TRANSCRIPT_MAX_TURNS - 2) :]
    left_out = len(clean) - 1 - len(newest)
    return [clean[0], {"role": "bot", "text": f"（中间 {left_out} 轮对话已省略）"}, *newest]


def fit_case(case: dict[str, Any]) -> dict[str, Any]:
    """A copy of `case` that the service's schema accepts whatever its size.

    Free text is cut (keeping its start), lists keep their newest entries, and a
    jurisdiction too long to be a place name is dropped (the desk then routes the
    case by default). Fitting a fitted case changes nothing.
    """
    out = dict(case)
    for name, limit in (
        ("title", TITLE_MAX),
        ("summary", TEXT_MAX),
        ("sender_id", ID_MAX),
        ("idempotency_key", ID_MAX),
        ("reported_at", TIMESTAMP_MAX),
    ):
        if out.get(name) is not None:
            out[name] = clip(out[name], limit)
    if out.get("jurisdiction") is not None and len(str(out["jurisdiction"])) > JURISDICTION_MAX:
        del out["jurisdiction"]
    if "transcript" in out:
        out["transcript"] = fit_transcript(out["transcript"])
    if "questions" in out:
        questions = [clip(q, QUESTION_MAX) for q in out["questions"] or [] if isinstance(q, str) and q.strip()]
        out["questions"] = questions[-LIST_MAX:]
    if "programs" in out:
        out["programs"] = [str(p) for p in out["programs"] or []][:LIST_MAX]
    if "contact" in out:
        contact = out["contact"] or {}
        out["contact"] = {k: clip(v, CONTACT_MAX[k]) for k, v in contact.items() if k in CONTACT_MAX and v is not None}
    return out
