"""Build policy_kb/provisions.jsonl from the source texts, and check the result.

    python -m bot.kb.build            # build, check, write provisions.jsonl
    python -m bot.kb.build --check    # build in memory, check, and compare with the committed file

Steps: read the document registry (documents.yml, bot.kb.documents); for every
document read its source text (verifying its sha256), clean it and split it into
provisions (bot.kb.sources) with metadata, tag program topics, and check
(bot.kb.checks): no empty provision, unique ids, every provision traced to a
document, every document to its source, every overridden provision pointing at a
provision that exists, every eligibility clause (parameters/_clauses.yml) quoting
its provision verbatim; then the knowledge cards (bot.kb.cards). Any failed check
exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.kb.checks import (
    CLAUSES_FILE,
    check_clause_references,
    check_documents,
    check_provisions,
    check_vocabulary,
    load_clauses,
    sha256_of,
)
from bot.kb.documents import DOCUMENTS_FILE, STATUSES, Document, has_provisions, load_documents
from bot.kb.provision import Provision, RawProvision
from bot.kb.sources import clean_paragraphs, read_source, split_document
from bot.places import normalize_place
from bot.vocab import Vocabulary, load_vocabulary

PROVISIONS_FILE = "provisions.jsonl"

__all__ = [
    "DOCUMENTS_FILE",
    "PROVISIONS_FILE",
    "STATUSES",
    "build",
    "check_documents",
    "check_provisions",
    "dumps",
    "load_documents",
    "main",
    "sha256_of",
]


def build(kb_dir: Path) -> tuple[list[Provision], list[str]]:
    """All provisions of all documents, and the list of problems found."""
    kb_dir = Path(kb_dir)
    vocab = load_vocabulary(kb_dir)
    docs = load_documents(kb_dir)
    problems = check_documents(kb_dir, docs)
    provisions: list[Provision] = []
    for doc in docs:
        path = kb_dir / "sources" / str(doc.get("source_file", ""))
        if not has_provisions(doc) or not path.is_file():
            continue
        lines, source_line = read_source(kb_dir, doc)
        body, appendix = clean_paragraphs(lines, doc)
        for p in split_document(doc, body, appendix):
            provisions.append(_with_metadata(p, doc, source_line, vocab))
    _apply_overrides(provisions, docs, problems)
    problems += check_provisions(provisions, docs)
    problems += check_vocabulary(kb_dir, vocab)
    problems += check_clause_references(kb_dir, provisions, docs)
    ids = {p["id"] for p in provisions}
    for topic, pids in vocab.topic_definitions.items():
        problems += [f"topics.yml: {topic} definition {pid} is not a provision" for pid in pids if pid not in ids]
    return provisions, problems


def _with_metadata(p: RawProvision, doc: Document, source_line: str, vocab: Vocabulary) -> Provision:
    normalized = vocab.normalize(" ".join(p["section_path"]) + " " + p["text"])
    topics = list(dict.fromkeys(list(doc.get("topics") or []) + vocab.topics_in(normalized)))
    return {
        "id": p["id"],
        "doc_id": doc["id"],
        "title": doc["title"],
        "number": doc.get("number"),
        "issuer": doc["issuer"],
        "jurisdiction": normalize_place(doc["jurisdiction"]),
        "date": doc.get("date"),
        "effective_from": doc.get("effective_from"),
        "effective_to": doc.get("effective_to"),
        "effective_note": doc.get("effective_note"),
        "status": doc["status"],
        # Task-table rows repeat the body's rules in short form: the body ranks first.
        "search_weight": float(doc.get("search_weight", 1.0)) * (0.8 if "-att." in p["id"] else 1.0),
        "section_path": p["section_path"],
        "clause": p["clause"],
        "clause_title": p["clause_title"],
        "topics": topics,
        "text": p["text"],
        "source_file": doc["source_file"],
        "source_line": p["line"],
        "source": source_line,
        "overridden_by": None,
        "overrides": [],
        "override_note": None,
    }


def _apply_overrides(provisions: list[Provision], docs: list[Document], problems: list[str]) -> None:
    by_id = {p["id"]: p for p in provisions}
    for doc in docs:
        for ov in doc.get("overridden_provisions") or []:
            old = next((p for p in provisions if p["doc_id"] == doc["id"] and p["clause"] == ov.get("clause")), None)
            new = by_id.get(ov.get("by"))
            if old is None:
                problems.append(f"{doc['id']}: overridden provision {ov.get('clause')!r} not found")
                continue
            if new is None:
                problems.append(f"{doc['id']}: overriding provision {ov.get('by')!r} not found")
                continue
            old["status"] = "overridden"
            old["overridden_by"] = new["id"]
            old["override_note"] = ov.get("note")
            new["overrides"].append(old["id"])


def dumps(provisions: list[Provision]) -> str:
    return "".join(json.dumps(p, ensure_ascii=False, sort_keys=True) + "\n" for p in provisions)


def main(argv: list[str] | None = None) -> int:
    from bot.config import settings
    from bot.kb.cards import cards_per_topic, check_cards, eval_questions, load_cards

    ap = argparse.ArgumentParser(prog="python -m bot.kb.build", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--kb-dir", type=Path, default=None, help="knowledge-base folder (default: settings().policy_kb_dir)"
    )
    ap.add_argument("--check", action="store_true", help="verify the committed provisions.jsonl equals a fresh build")
    args = ap.parse_args(argv)
    kb_dir = Path(args.kb_dir or settings().policy_kb_dir)
    provisions, problems = build(kb_dir)
    cards, card_problems = load_cards(kb_dir)
    problems += card_problems + check_cards(cards, provisions, eval_questions=eval_questions(kb_dir))
    for msg in problems:
        print(f"CHECK FAILED: {msg}", file=sys.stderr)
    if problems:
        return 1
    print(
        f"ok: {len(cards)} knowledge cards: every citation resolves, every number is in a cited span; "
        + ", ".join(f"{t} {n}" for t, n in cards_per_topic(cards).items())
    )
    clauses = load_clauses(kb_dir)
    if clauses is not None:
        print(
            f"ok: {len(clauses)} eligibility clauses ({CLAUSES_FILE.as_posix()}): each span is in the provision it names"
        )
    out = kb_dir / PROVISIONS_FILE
    text = dumps(provisions)
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"CHECK FAILED: {out} differs from a fresh build; run python -m bot.kb.build", file=sys.stderr)
            return 1
        print(
            f"ok: {len(provisions)} provisions from {len({p['doc_id'] for p in provisions})} documents match {out.name}"
        )
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {len(provisions)} provisions from {len({p['doc_id'] for p in provisions})} documents to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
