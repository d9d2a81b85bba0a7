"""The build's checks: every problem found is a string; any one fails the build.

- documents (documents.yml): required fields, unique ids, a known jurisdiction, the
  source file present and unchanged (sha256);
- provisions: unique ids ``<document id>-…``, non-empty text, each traced to a document
  and a source line, a valid status, every document with provisions having some;
- the vocabulary's jieba dictionary;
- clause references (parameters/_clauses.yml): each eligibility clause names a provision
  that exists and its span is in that provision's text (whitespace aside, the rule the
  knowledge cards' spans follow too), and the document it comes from says how the
  screen's citations present it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from bot.kb.documents import CITATION_REQUIRED, DOCUMENTS_FILE, STATUSES, Document, has_provisions
from bot.kb.provision import Provision
from bot.places import known_places, normalize_place
from bot.vocab import USERDICT_RELPATH, Vocabulary, read_userdict_words

CLAUSES_FILE = Path("parameters") / "_clauses.yml"
_WS = re.compile(r"\s+")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def span_in(span: str, text: str) -> bool:
    """Whether a quoted span is in a text, whitespace aside."""
    needle = _WS.sub("", span or "")
    return bool(needle) and needle in _WS.sub("", text or "")


def check_documents(kb_dir: Path, docs: list[Document]) -> list[str]:
    problems = []
    seen = set()
    required = ("id", "title", "issuer", "jurisdiction", "status", "source_file", "sha256")
    for doc in docs:
        did = doc.get("id", "?")
        for key in required:
            if not doc.get(key):
                problems.append(f"document {did}: missing {key}")
        if "-" in str(did):
            problems.append(f"document {did}: an id may not contain '-' (it ends where a provision's locator starts)")
        if did in seen:
            problems.append(f"document {did}: duplicate id")
        seen.add(did)
        if doc.get("status") not in STATUSES:
            problems.append(f"document {did}: status {doc.get('status')!r} not one of {STATUSES}")
        if doc.get("jurisdiction") and normalize_place(str(doc["jurisdiction"])) not in known_places():
            problems.append(f"document {did}: unknown jurisdiction")
        path = kb_dir / "sources" / str(doc.get("source_file", ""))
        if not path.is_file():
            problems.append(f"document {did}: source file {doc.get('source_file')} not found")
        elif doc.get("sha256") and sha256_of(path) != doc["sha256"]:
            problems.append(
                f"document {did}: source file {doc.get('source_file')} changed (sha256 differs from {DOCUMENTS_FILE})"
            )
    return problems


def check_provisions(provisions: list[Provision], docs: list[Document]) -> list[str]:
    problems = []
    doc_ids = {d.get("id") for d in docs}
    seen: set[str] = set()
    per_doc = {d.get("id"): 0 for d in docs if has_provisions(d)}
    for p in provisions:
        pid = p.get("id") or "?"
        if pid in seen:
            problems.append(f"provision {pid}: duplicate id")
        seen.add(pid)
        if len(re.sub(r"\s", "", p.get("text") or "")) < 4:
            problems.append(f"provision {pid}: empty text")
        if p.get("doc_id") not in doc_ids:
            problems.append(f"provision {pid}: not traced to a document (doc_id={p.get('doc_id')!r})")
        else:
            per_doc[p["doc_id"]] = per_doc.get(p["doc_id"], 0) + 1
            if not pid.startswith(f"{p['doc_id']}-"):
                problems.append(f"provision {pid}: id does not start with its document's id {p['doc_id']}-")
        if not p.get("source_file") or not p.get("source_line"):
            problems.append(f"provision {pid}: no source file/line")
        if not p.get("clause") or not p.get("title"):
            problems.append(f"provision {pid}: no title or clause")
        if p.get("status") not in STATUSES:
            problems.append(f"provision {pid}: bad status {p.get('status')!r}")
        if p.get("status") == "overridden" and not p.get("overridden_by"):
            problems.append(f"provision {pid}: overridden without the rule that overrides it")
    for did, n in per_doc.items():
        if n == 0:
            problems.append(f"document {did}: no provisions")
    return problems


def check_vocabulary(kb_dir: Path, vocab: Vocabulary) -> list[str]:
    problems = []
    folder = kb_dir / USERDICT_RELPATH.parent
    files = [f.name for f in folder.iterdir()] if folder.is_dir() else []
    if files != [USERDICT_RELPATH.name]:
        problems.append(
            f"{folder}: must hold only {USERDICT_RELPATH.name} (Rasa loads every file there), found {files}"
        )
        return problems
    words = read_userdict_words(kb_dir / USERDICT_RELPATH)
    missing = sorted(w for w in set(vocab.variants) | vocab.canonical_words() if len(w) >= 2 and w not in words)
    if missing:
        problems.append(f"userdict.txt lacks vocabulary words: {', '.join(missing[:20])}")
    return problems


def load_clauses(kb_dir: Path) -> dict[str, Any] | None:
    """The eligibility clauses (id -> provision or document, clause, span); None without the file."""
    path = Path(kb_dir) / CLAUSES_FILE
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else None


def check_clause_references(kb_dir: Path, provisions: list[Provision], docs: list[Document]) -> list[str]:
    """Every eligibility clause quotes its provision (or its figures table) verbatim."""
    clauses = load_clauses(kb_dir)
    if clauses is None:
        # A knowledge base without eligibility parameters has no clauses to check; one
        # with a parameters folder must have its clause file.
        return [f"{CLAUSES_FILE.as_posix()}: not found"] if (kb_dir / CLAUSES_FILE).parent.is_dir() else []
    by_id = {p["id"]: p for p in provisions}
    docs_by_id = {d.get("id"): d for d in docs}
    problems: list[str] = []
    source_texts: dict[str, str] = {}
    quoted: set[str | None] = set()  # the ids of the documents quoted
    for cid, clause in clauses.items():
        where = f"{CLAUSES_FILE.as_posix()}: {cid}"
        if not isinstance(clause, dict):
            problems.append(f"{where}: not a mapping")
            continue
        span, pid, did = str(clause.get("span") or ""), clause.get("provision"), clause.get("document")
        if not span.strip() or not str(clause.get("clause") or "").strip():
            problems.append(f"{where}: needs `clause` and `span`")
        if bool(pid) == bool(did):
            problems.append(
                f"{where}: names a `provision` (or, for a source with no provisions, a `document`), not both"
            )
            continue
        if pid:
            p = by_id.get(pid)
            if p is None:
                problems.append(f"{where}: provision {pid} not found")
                continue
            if not span_in(span, p["text"]):
                problems.append(f"{where}: span not in provision {pid}: {span[:40]!r}")
            doc = docs_by_id.get(p["doc_id"])
        elif did:  # (the check above leaves exactly one of the two named)
            doc = docs_by_id.get(did)
            if doc is None:
                problems.append(f"{where}: document {did} not found in {DOCUMENTS_FILE}")
                continue
            if has_provisions(doc):
                problems.append(f"{where}: document {did} has provisions; name the provision quoted")
                continue
            source = kb_dir / "sources" / str(doc.get("source_file", ""))
            if did not in source_texts:
                source_texts[did] = source.read_text(encoding="utf-8") if source.is_file() else ""
            if not span_in(span, source_texts[did]):
                problems.append(f"{where}: span not in {doc.get('source_file')}: {span[:40]!r}")
        if doc is not None and doc.get("id") not in quoted:
            quoted.add(doc.get("id"))
            missing = [key for key in CITATION_REQUIRED if not (doc.get("citation") or {}).get(key)]
            if missing:
                problems.append(
                    f"document {doc.get('id')}: quoted by {CLAUSES_FILE.as_posix()} "
                    f"but its `citation` lacks {', '.join(missing)} ({DOCUMENTS_FILE})"
                )
    return problems
