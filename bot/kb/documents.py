"""The document registry: policy_kb/documents.yml, the one record of every policy document.

Read by the knowledge-base build (which splits each document's source text into
provisions, ids ``<document id>-<locator>``) and by the eligibility parameters (whose
clauses, ``policy_kb/parameters/_clauses.yml``, quote those provisions). The fields are
described at the top of documents.yml.

A document's ``citation`` block says how the eligibility screen's citations present it
(``cited_document``): ``authority`` (what the screen shows as a citation's ``status``: the
authority the text carries, in Chinese) and ``source`` (where the text was taken from) are
required for a document the eligibility clauses quote; ``title``, ``issuer`` and ``date``
only where the screen's wording differs from the defaults derived from the record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import yaml

DOCUMENTS_FILE = "documents.yml"
STATUSES = ("in_force", "draft", "overridden")
CITATION_REQUIRED = ("authority", "source")

# A registry entry: documents.yml as read (its fields are described at the top of that file).
Document = dict[str, Any]


class CitedDocument(TypedDict):
    """The document-level fields of an eligibility citation (`cited_document`)."""

    title: str
    issuer: str
    date: str
    jurisdiction: str
    status: str  # the authority the text carries, in Chinese
    source: str


def load_documents(kb_dir: Path) -> list[Document]:
    """The registry's entries, in file order."""
    data = yaml.safe_load((Path(kb_dir) / DOCUMENTS_FILE).read_text(encoding="utf-8")) or {}
    return list(data.get("documents") or [])


def has_provisions(doc: Document) -> bool:
    """False for a document that is not split into provisions (a table of figures)."""
    return doc.get("provisions", True) is not False


def document_of(provision_id: str) -> str:
    """The document id of a provision id (``shjzf_2026-a18`` -> ``shjzf_2026``)."""
    return provision_id.split("-", 1)[0]


def cited_document(doc: Document) -> CitedDocument:
    """The document-level fields of an eligibility citation, all from the registry entry."""
    cite = doc.get("citation") or {}
    missing = [key for key in CITATION_REQUIRED if not cite.get(key)]
    if missing:
        raise ValueError(f"document {doc.get('id')}: citation needs {', '.join(missing)} ({DOCUMENTS_FILE})")
    number = doc.get("number")
    title = cite.get("title") or f"《{doc['title']}》" + (f"（{number}）" if number else "")
    return {
        "title": title,
        "issuer": cite.get("issuer") or doc["issuer"],
        "date": str(cite.get("date") or doc.get("date") or doc.get("effective_from")),
        "jurisdiction": doc["jurisdiction"],
        "status": cite["authority"],
        "source": cite["source"],
    }
