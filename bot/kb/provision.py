"""What a provision is: one record of policy_kb/provisions.jsonl, and what it is built from.

`RawProvision` is a provision as split from its document's source text (bot.kb.sources);
`Provision` is it with the document's metadata, as bot.kb.build writes it and the search
(bot.kb.knowledge_base), the answers and the cards read it.
"""

from __future__ import annotations

from typing import TypedDict


class RawProvision(TypedDict):
    """A provision as bot.kb.sources.split_document cuts it from the text."""

    id: str  # <document id>-<locator>
    clause: str  # 第十八条, 三、（一）3., 附件第2项, 序言 …
    clause_title: str
    section_path: list[str]  # the chapter/section or outline headings above it
    text: str
    line: int  # 1-based line of the source file where it starts


class Provision(TypedDict):
    """A record of provisions.jsonl: the raw provision with its document's fields."""

    id: str
    doc_id: str
    title: str
    number: str | None
    issuer: str
    jurisdiction: str
    date: str | None
    effective_from: str | None
    effective_to: str | None
    effective_note: str | None
    status: str  # in_force | draft | overridden
    search_weight: float
    section_path: list[str]
    clause: str
    clause_title: str
    topics: list[str]
    text: str
    source_file: str
    source_line: int
    source: str
    overridden_by: str | None
    overrides: list[str]
    override_note: str | None
