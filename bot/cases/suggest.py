"""Suggested answers for an operator: knowledge-base answers to the resident's
questions (with their citations) and reply templates from reply_templates.yml.

The knowledge base is `bot.kb.KnowledgeBase` (`.answer(question, jurisdiction=None)`
-> {"answer", "citations", "topics"}); any object with that method works, which
keeps this module testable without the real one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.hotlines import hotline_name

log = logging.getLogger(__name__)

TEMPLATES_FILE = Path(__file__).with_name("reply_templates.yml")
MAX_QUESTIONS = 5


class AnswersQuestions(Protocol):
    def answer(self, question: str, jurisdiction: str | None = None) -> dict[str, Any]: ...


@lru_cache(maxsize=1)
def default_kb() -> AnswersQuestions | None:
    """The project's knowledge base, loaded once; None while it is unavailable."""
    try:
        from bot.kb import KnowledgeBase

        return KnowledgeBase.load()
    except Exception as exc:  # not built yet, or its data failed to load
        log.warning("knowledge base unavailable for suggested answers: %s", exc)
        return None


def resident_questions(case: dict[str, Any]) -> list[str]:
    """The questions to answer: those the bot recorded, else the resident's own turns."""
    seen: list[str] = []
    candidates = list(case.get("questions") or [])
    if not candidates:
        candidates = [t.get("text", "") for t in case.get("transcript") or [] if t.get("role") == "resident"]
    for q in candidates:
        q = (q or "").strip()
        if len(q) >= 4 and q not in seen:
            seen.append(q)
    return seen[-MAX_QUESTIONS:]


def suggested_answers(
    case: dict[str, Any],
    kb: AnswersQuestions | None = None,
    kb_loader: Callable[[], AnswersQuestions | None] = default_kb,
) -> dict[str, Any]:
    """{"answers": [...], "templates": [...], "kb_available": bool}."""
    kb = kb if kb is not None else kb_loader()
    answers: list[dict[str, Any]] = []
    seen_answers: set[str] = set()
    if kb is not None:
        for q in resident_questions(case):
            try:
                res = kb.answer(q, jurisdiction=case.get("jurisdiction"))
            except Exception as exc:  # one bad question must not hide the others
                log.warning("kb.answer failed for a case question: %s", exc)
                continue
            text = (res or {}).get("answer") or ""
            if not text or text in seen_answers:
                continue
            seen_answers.add(text)
            answers.append(
                {
                    "question": q,
                    "answer": text,
                    "citations": [_citation(c) for c in (res.get("citations") or [])],
                    "topics": list(res.get("topics") or []),
                }
            )
    return {"answers": answers, "templates": reply_templates(case), "kb_available": kb is not None}


def _citation(c: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "title", "clause", "issuer", "date", "jurisdiction", "status", "source", "text")
    out: dict[str, Any] = {k: c.get(k) for k in keys}
    if out.get("text") and len(out["text"]) > 400:
        out["text"] = out["text"][:400] + "…"
    return out


@lru_cache(maxsize=2)
def _load_templates(path: str | None = None) -> tuple[dict[str, Any], ...]:
    with open(path or TEMPLATES_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return tuple(data.get("templates") or [])


def reply_templates(case: dict[str, Any], operator: str = "") -> list[dict[str, Any]]:
    values = {
        "number": case.get("number") or "",
        "hotline": hotline_name(case.get("hotline")),
        "jurisdiction": case.get("jurisdiction") or "",
        "operator": operator or case.get("assignee_name") or "工作人员",
    }
    out = []
    for t in _load_templates():
        try:
            text = str(t["text"]).format(**values)
        except (KeyError, IndexError):
            text = str(t["text"])
        out.append({"id": t["id"], "title": t["title"], "text": text})
    return out
