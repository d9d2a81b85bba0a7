"""The one citation schema: a quoted provision with the document it comes from.

Both APIs cite with it: the knowledge base's answers and search hits
(``bot.kb.answer.citation``, from a provision of provisions.jsonl) and the eligibility
screen's explanation items (``bot.eligibility.parameters.ParameterSet.citation``, from a
clause of parameters/_clauses.yml). Every document field comes from the one registry,
policy_kb/documents.yml. A screen citation carries title, clause, issuer, date,
jurisdiction, status, source and text, always all eight; a knowledge-base one also its
provision id, number, status_label, effective, overridden_by and, for a card, the span.
Fields may be added, never renamed.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Citation(BaseModel):
    id: str | None = Field(default=None, description="provision id, e.g. shjzf_2026-a18 (knowledge-base citations)")
    title: str = Field(
        description="document title: bare in knowledge-base citations (no 《》); in the screen's, "
        "in 《》 with its number, e.g. 《特困人员认定办法》（民发〔2021〕43号）"
    )
    clause: str = Field(
        description="clause label, e.g. 第十八条 or 三、（一）3.; the screen's go down to 款/项 (第十八条第一款)"
    )
    issuer: str
    date: str
    jurisdiction: str = Field(description="place the document applies to (全国, 四川省, 渠县 …)")
    status: str = Field(
        description="knowledge base: in_force | draft | overridden; screen: the authority "
        "the text carries, in Chinese (法律…, 部门规范性文件…, 征求意见稿…, 二手来源…)"
    )
    status_label: str | None = None
    number: str | None = Field(default=None, description="document number, e.g. 民发〔2021〕57号")
    effective: str | None = None
    overridden_by: str | None = Field(default=None, description="id of the provision that overrides this one")
    source: str | None = Field(default=None, description="where the text was taken from")
    text: str = Field(description="the provision's text (knowledge base) or the words of it quoted (screen)")
    span: str | None = Field(default=None, description="the exact part of the text a card's answer rests on")
