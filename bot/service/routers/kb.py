"""Knowledge-base endpoints: GET /v1/kb/search, POST /v1/kb/answer and GET /v1/kb/provisions
(the cited provisions again, by id: what 看原文 shows, actions/policy.py).

Thin: validate input, call bot.kb.KnowledgeBase (loaded once per app and kept
on app.state), shape the response. An answer the knowledge base was not sure of is
recorded for the console's knowledge gaps (bot/kb/gap_log.py) after the response has
been sent, best effort: a failure to record is logged, never the answer's.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request
from pydantic import BaseModel, Field, field_validator

from bot.db import Database
from bot.kb import KnowledgeBase, gap_log
from bot.kb.citation import Citation
from bot.places import UnknownPlace, known_places, normalize_place
from bot.service.deps import get_kb
from bot.text import MAX_MESSAGE_CHARS, clean_message, require_text

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
log = logging.getLogger(__name__)

_PLACES_HINT = "、".join(known_places())


class AnswerRequest(BaseModel):
    question: str = Field(
        min_length=1, max_length=MAX_MESSAGE_CHARS, description="the resident's question", examples=["低保是什么"]
    )
    jurisdiction: str | None = Field(
        default=None, description=f"the asker's place, one of: {_PLACES_HINT}", examples=["渠县"]
    )

    @field_validator("question")
    @classmethod
    def _question_not_blank(cls, v: str) -> str:
        return require_text(v, "问题不能为空")

    @field_validator("jurisdiction")
    @classmethod
    def _known_place(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        try:
            return normalize_place(v)
        except UnknownPlace:
            raise ValueError(f"未知的地区“{v}”，可选：{_PLACES_HINT}") from None


class AnswerResponse(BaseModel):
    answer: str = Field(description="the short answer, its basis line, then the quoted provisions")
    short_answer: str | None = Field(
        default=None, description="the answer without the quotes: what a phone shows first"
    )
    basis: str = Field(default="", description="the sources as one line: 依据：《title》clause；…")
    citations: list[Citation]
    topics: list[str] = Field(description="program topic ids, e.g. dibao, temporary_assistance")
    match: Literal["card", "clauses", "none"] = Field(
        description="card: a knowledge card answers; clauses: the closest provisions (may not answer); none: nothing found"
    )
    confidence: float = Field(
        description="score of the best knowledge card; below the calibrated threshold clauses answer"
    )
    sure: bool | None = Field(
        default=None, description="false: the answer first says which question it took the message for"
    )
    card_id: str | None = Field(
        default=None, description="the knowledge card that answers, e.g. dibao_amount.payment_day"
    )
    card_ids: list[str] = Field(default=[], description="every card answering (one per question asked)")
    rule_place: str | None = Field(default=None, description="whose rule the card's answer gives (全国 or a place)")
    local_places: list[str] = Field(default=[], description="places with their own version of this card's answer")
    status: str | None = Field(default=None, description="in_force, or draft when a cited provision is a draft")
    effective_from: str | None = None
    kind: str = Field(description="what the question asks: 定义/条件/材料/流程/时限/金额/发放/计算/退出/投诉/热线/其他")
    personal: bool = Field(description="the question tells the asker's own situation")


class SearchHit(Citation):
    score: float
    section_path: list[str] = []
    topics: list[str] = []
    superseded: list[Citation] = Field(default=[], description="overridden rules this provision replaces")


class SearchResponse(BaseModel):
    query: str
    jurisdiction: str | None
    hits: list[SearchHit]


def warm_up(app) -> None:
    """Loads what the first answer would otherwise wait for (a few seconds)."""
    from bot.understanding import understand

    cfg = getattr(app.state, "settings", None)
    knowledge = KnowledgeBase.load(getattr(cfg, "policy_kb_dir", None))
    app.state.kb = knowledge
    knowledge.rank_cards(understand("低保怎么申请", knowledge.kb_dir))


def _place_or_422(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    try:
        return normalize_place(name)
    except UnknownPlace:
        raise HTTPException(
            status_code=422, detail=f"字段 jurisdiction 有误：未知的地区“{name}”，可选：{_PLACES_HINT}"
        ) from None


def _citation_fields(p: dict) -> dict:
    from bot.kb.answer import citation

    return citation(p)


PROVISION_ID = r"^[A-Za-z0-9_.\-]{1,80}$"
MAX_PROVISIONS = 20


class ProvisionsResponse(BaseModel):
    provisions: list[Citation] = Field(description="the provisions found, in the order asked, each once")
    missing: list[str] = Field(description="ids the knowledge base does not hold (now)")


@router.get("/provisions", response_model=ProvisionsResponse, summary="按编号取条款原文 (provisions by id)")
def provisions(
    request: Request,
    id: Annotated[
        list[str],
        Query(
            min_length=1,
            max_length=MAX_PROVISIONS,
            description="provision ids, as an answer's citations give them (repeat the parameter)",
        ),
    ],
) -> ProvisionsResponse:
    kb = get_kb(request)
    wanted = list(dict.fromkeys(id))  # each once, first asked first
    bad = next((i for i in wanted if not re.fullmatch(PROVISION_ID, i)), None)
    if bad is not None:
        raise HTTPException(status_code=422, detail=f"字段 id 有误：条款编号“{bad[:80]}”格式不对")
    return ProvisionsResponse(
        provisions=[_citation_fields(kb.by_id[i]) for i in wanted if i in kb.by_id],
        missing=[i for i in wanted if i not in kb.by_id],
    )


@router.get("/search", response_model=SearchResponse, summary="检索政策条款 (ranked provisions)")
def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_MESSAGE_CHARS, description="question or keywords")],
    jurisdiction: Annotated[str | None, Query(description=f"the asker's place: {_PLACES_HINT}")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> SearchResponse:
    place = _place_or_422(jurisdiction)
    query = clean_message(q)
    if not query:
        raise HTTPException(status_code=422, detail="字段 q 有误：内容不能为空")
    hits = get_kb(request).search(query, jurisdiction=place, limit=limit)
    return SearchResponse(
        query=query,
        jurisdiction=place,
        hits=[
            SearchHit(
                **_citation_fields(h.provision),
                score=round(h.score, 4),
                section_path=h.provision["section_path"],
                topics=h.provision["topics"],
                superseded=[Citation(**_citation_fields(p)) for p in h.superseded],
            )
            for h in hits
        ],
    )


@router.post("/answer", response_model=AnswerResponse, summary="回答政策问题 (short answer with quoted provisions)")
def answer(request: Request, body: AnswerRequest, background: BackgroundTasks) -> AnswerResponse:
    result = get_kb(request).answer(body.question, jurisdiction=body.jurisdiction)
    db = getattr(request.app.state, "db", None)
    if db is not None and gap_log.is_gap(result):
        background.add_task(_record_gap, db, body.question, body.jurisdiction, result)
    return AnswerResponse(**result)


def _record_gap(db: Database, question: str, jurisdiction: str | None, result: dict[str, Any]) -> None:
    """Runs after the response is sent (a worker thread): a failure is logged and dropped."""
    try:
        gap_log.record(db, question, jurisdiction, result)
    except Exception as exc:  # noqa: BLE001  (best effort: the resident has the answer already)
        log.warning("knowledge gap not recorded: %s", type(exc).__name__)
