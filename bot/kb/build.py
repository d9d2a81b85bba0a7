"""Build policy_kb/provisions.jsonl from the source texts, and check the result.

    python -m bot.kb.build            # build, check, write provisions.jsonl
    python -m bot.kb.build --check    # build in memory, check, and compare with the committed file

Steps: read documents.yml; for every document read its source text (verifying
its sha256), clean it (source line, OCR line breaks, page numbers, stray
headers, spaces inside Chinese text), split it into provisions (条 for laws and
regulations; numbered items 一、/（一）/1./一是/1、 for policy documents) with
metadata, tag program topics, and check: no empty provision, unique ids, every
provision traced to a document, every document to its source, every overridden
provision pointing at a provision that exists. Any failed check exits non-zero.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.kb.vocab import load_vocabulary, read_userdict_words, USERDICT_RELPATH, VOCAB_GROUPS
from bot.places import known_places, normalize_place

PROVISIONS_FILE = "provisions.jsonl"
DOCUMENTS_FILE = "documents.yml"
STATUSES = ("in_force", "draft", "overridden")

CN_NUM = "零一二三四五六七八九十百"
_CJK = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef“”‘’—…·"

RE_CHAPTER = re.compile(rf"^第([{CN_NUM}]+)章\s*(.*)$")
RE_SECTION = re.compile(rf"^第([{CN_NUM}]+)节\s*(.*)$")
RE_ARTICLE = re.compile(rf"^第([{CN_NUM}]+)条(?:\s+|(?=\S)|$)(.*)$", re.S)
RE_L1 = re.compile(rf"^([{CN_NUM}]+)\s*、\s*(.*)$", re.S)
RE_L2 = re.compile(rf"^[（(]\s*([{CN_NUM}]+)\s*[）)]\s*(.*)$", re.S)
RE_L3 = re.compile(r"^(\d{1,2})\s*[\.．、](?!\d)\s*(.*)$", re.S)
RE_L3B = re.compile(rf"^([{CN_NUM}]+)是(.*)$", re.S)
RE_INLINE_ITEM = re.compile(r"(?<=[。；;])\s*(\d{1,2})、")
RE_ROW = re.compile(r"^(\d{1,2})(?![\d年月.．、])\s*(.*)$", re.S)

STRAY_LINES = [
    re.compile(r"^-\s*\d+\s*-$"),                  # page numbers "- 9 -"
    re.compile(r"^序号\s*工作任务"),                 # repeated table header
    re.compile(r"^#\s"),                            # markdown document title
    re.compile(r"^>"),                              # markdown quote (adoption note)
    re.compile(r"^-{3,}$"),                          # markdown rule
    re.compile(r"^【.*】$"),                         # site's 【实施时间…】 badge
    re.compile(r"^第\s*\d+\s*页"),                   # "第 3 页"
    re.compile(r"^\|.*\|$"),                        # study-site summary tables (not official text)
]


class BuildError(Exception):
    pass


def cn_to_int(s: str) -> int:
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    total, section, num = 0, 0, 0
    for ch in s:
        if ch in digits:
            num = digits[ch]
        elif ch == "十":
            section += (num or 1) * 10
            num = 0
        elif ch == "百":
            section += (num or 1) * 100
            num = 0
    return total + section + num


def squeeze_spaces(text: str) -> str:
    """Drop spaces that OCR left inside Chinese text ('2022 年 5 月' -> '2022年5月')."""
    text = re.sub(rf"(?<=[{_CJK}])[ \t\u3000]+", "", text)
    text = re.sub(rf"[ \t\u3000]+(?=[{_CJK}])", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- cleaning --------------------------------------------------------------

@dataclass
class Para:
    text: str
    line: int  # 1-based line in the source file where it starts
    heading: bool = False  # a markdown heading line


def _marker(text: str, articles: bool):
    """(kind, number, rest) for a paragraph starting with a structural marker, else None."""
    for kind, rx in (("chapter", RE_CHAPTER), ("section", RE_SECTION), ("article", RE_ARTICLE)):
        m = rx.match(text)
        if m:
            return kind, cn_to_int(m.group(1)), m.group(2)
    if articles:
        return None
    for kind, rx in (("l1", RE_L1), ("l2", RE_L2), ("l3", RE_L3), ("l3b", RE_L3B)):
        m = rx.match(text)
        if m:
            n = m.group(1)
            return kind, (int(n) if n.isdigit() else cn_to_int(n)), m.group(2)
    return None


def _heading_like(text: str) -> bool:
    """A short marker line that is a title, not the start of a wrapped sentence."""
    body = text.rstrip("。")
    return len(body) <= 32 and not re.search(r"[。，,；;：:]", body)


def read_source(kb_dir: Path, doc: dict) -> tuple[list[str], str]:
    path = kb_dir / "sources" / doc["source_file"]
    raw = path.read_text(encoding="utf-8")
    lines = raw.splitlines()
    source_line = doc.get("source") or ""
    if lines and lines[0].startswith("来源"):
        source_line = lines[0].strip()
        lines[0] = ""
        if len(lines) > 1 and lines[1].startswith("补充说明"):
            source_line += " " + lines[1].strip()
            lines[1] = ""
    return lines, source_line


def clean_paragraphs(lines: list[str], doc: dict) -> tuple[list[Para], list[Para]]:
    """Body paragraphs and appendix paragraphs (each with its source line number)."""
    start = doc.get("body_start")
    end = doc.get("body_end")
    drop = set(doc.get("drop_lines") or [])
    join = bool(doc.get("join_lines"))
    appendix_start = doc.get("appendix_start")
    articles_doc = any(RE_ARTICLE.match(l.strip().lstrip("#").strip()) for l in lines)

    body: list[Para] = []
    appendix: list[Para] = []
    target = body
    started = start is None
    for i, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not started:
            if start in line:
                started = True
            else:
                continue
        if end and end in line:
            break
        if appendix_start and appendix_start in line and target is body:
            target = appendix
            continue
        if not line or line in drop or any(rx.search(line) for rx in STRAY_LINES):
            continue
        heading = False
        if line.startswith("#"):
            line = line.lstrip("#").strip()
            heading = True
        line = re.sub(r"^[-•]\s+", "", line)
        if not line:
            continue
        if target is appendix:
            if RE_ROW.match(line) or not appendix:
                appendix.append(Para(line, i))
            else:
                appendix[-1].text += " " + line
            continue
        if not join or not target or heading or target[-1].heading:
            target.append(Para(line, i, heading))
            continue
        prev = target[-1]
        starts_new = _marker(line, articles_doc) is not None or (
            _marker(prev.text, articles_doc) is not None and _heading_like(prev.text)
        )
        if starts_new:
            target.append(Para(line, i))
        else:
            prev.text += line
    for p in body + appendix:
        p.text = squeeze_spaces(p.text)
    return [p for p in body if p.text], [p for p in appendix if p.text]


# --- splitting -------------------------------------------------------------

LEVEL = {"l1": 1, "l2": 2, "l3": 3, "l3b": 3, "item": 4}


def _label(kind: str, n: int, raw_num: str | None = None) -> str:
    cn = _int_to_cn(n)
    return {
        "chapter": f"第{cn}章", "section": f"第{cn}节", "article": f"第{cn}条",
        "l1": f"{cn}、", "l2": f"（{cn}）", "l3": f"{n}.", "l3b": f"{cn}是", "item": f"第{n}项",
    }[kind]


def _int_to_cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    h, r = divmod(n, 100)
    rest = "" if r == 0 else ("零" + digits[r] if r < 10 else _int_to_cn(r) if r >= 20 else "一" + _int_to_cn(r))
    return digits[h] + "百" + rest


def _short_title(text: str) -> str:
    first = re.split(r"[。；]", text, maxsplit=1)[0]
    return first if 0 < len(first) <= 32 and not re.search(r"[，,：:]", first) else ""


def split_document(doc: dict, body: list[Para], appendix: list[Para]) -> list[dict]:
    articles_doc = any(_marker(p.text, True) and _marker(p.text, True)[0] == "article" for p in body)
    units: list[dict] = []  # {path:[(kind,n,title)], own:(kind,n)|None, text, line}
    path: list[tuple[str, int, str]] = []  # outline path or chapter/section path
    current: dict | None = None

    def open_unit(own, text, line):
        nonlocal current
        current = {"path": list(path), "full": list(path), "own": own, "text": text, "line": line}
        units.append(current)

    paras = list(body)
    for idx, p in enumerate(paras):
        mk = _marker(p.text, articles_doc)
        if articles_doc:
            if mk and mk[0] in ("chapter", "section"):
                level = 0 if mk[0] == "chapter" else 1
                path[:] = [x for x in path if (0 if x[0] == "chapter" else 1) < level]
                path.append((mk[0], mk[1], squeeze_spaces(mk[2])))
                current = None
            elif mk and mk[0] == "article":
                open_unit(("article", mk[1]), mk[2].strip(), p.line)
            elif current is not None:
                current["text"] += "\n" + p.text
            else:
                open_unit(None, p.text, p.line)
            continue
        if mk is None:
            if current is not None and current["full"] == path:
                current["text"] += "\n" + p.text
            else:
                open_unit(None, p.text, p.line)
            continue
        kind, n, rest = mk
        level = LEVEL[kind]
        nxt = _marker(paras[idx + 1].text, False) if idx + 1 < len(paras) else None
        is_heading = p.heading or (nxt is not None and LEVEL.get(nxt[0], 0) > level)
        path[:] = [x for x in path if LEVEL[x[0]] < level]
        if is_heading:
            path.append((kind, n, rest.rstrip("。")))
            current = None
            continue
        if doc.get("inline_items") and kind == "l3b" and RE_INLINE_ITEM.search(rest):
            head, *items = RE_INLINE_ITEM.split(rest)
            path.append((kind, n, head.strip().rstrip("。")))
            for num, item_text in zip(items[0::2], items[1::2]):
                open_unit(("item", int(num)), item_text.strip(), p.line)
            current = None
            path.pop()
            continue
        open_unit((kind, n), rest.strip(), p.line)
        path.append((kind, n, _short_title(rest)))
        current["full"] = list(path)

    provisions = []
    for u in units:
        chain = [x for x in u["path"]]
        if articles_doc:
            section_path = [_label(k, n) + (f" {t}" if t else "") for k, n, t in chain]
            if u["own"]:
                clause = _label(*u["own"])
                pid = f"{doc['id']}-a{u['own'][1]}"
            else:
                clause = "序言"
                pid = f"{doc['id']}-p{u['line']}"
            title = ""
        else:
            section_path = [_label(k, n) + t for k, n, t in chain]
            own = [u["own"]] if u["own"] else []
            markers = [(k, n) for k, n, _ in chain] + own
            if markers:
                clause = "".join(_label(k, n) for k, n in markers)
                pid = f"{doc['id']}-" + ".".join(str(n) for _, n in markers)
            else:
                clause = "前言"
                pid = f"{doc['id']}-p"
            title = _short_title(u["text"]) if u["own"] else ""
        provisions.append({"id": pid, "clause": clause, "clause_title": title, "section_path": section_path,
                           "text": u["text"].strip(), "line": u["line"]})
    for row in appendix:
        m = RE_ROW.match(row.text)
        if not m:
            provisions.append({"id": f"{doc['id']}-att.p", "clause": doc.get("appendix_label", "附件"), "clause_title": "",
                               "section_path": [doc.get("appendix_label", "附件")], "text": row.text, "line": row.line})
            continue
        provisions.append({"id": f"{doc['id']}-att.{m.group(1)}", "clause": f"{doc.get('appendix_label', '附件')}第{m.group(1)}项",
                           "clause_title": "", "section_path": [doc.get("appendix_label", "附件")],
                           "text": (m.group(2) or "").strip(), "line": row.line})
    # Headings with nothing under them produce no provision; drop table header rows.
    return [p for p in provisions if not (p["id"].endswith("-att.p") and len(p["text"]) < 40)]


# --- whole build -----------------------------------------------------------

def load_documents(kb_dir: Path) -> list[dict]:
    data = yaml.safe_load((kb_dir / DOCUMENTS_FILE).read_text(encoding="utf-8")) or {}
    return list(data.get("documents") or [])


def build(kb_dir: Path) -> tuple[list[dict], list[str]]:
    """All provisions of all documents, and the list of problems found."""
    kb_dir = Path(kb_dir)
    vocab = load_vocabulary(kb_dir)
    docs = load_documents(kb_dir)
    problems = check_documents(kb_dir, docs)
    provisions: list[dict] = []
    for doc in docs:
        path = kb_dir / "sources" / str(doc.get("source_file", ""))
        if not path.is_file():
            continue
        lines, source_line = read_source(kb_dir, doc)
        body, appendix = clean_paragraphs(lines, doc)
        for p in split_document(doc, body, appendix):
            provisions.append(_with_metadata(p, doc, source_line, vocab))
    _apply_overrides(provisions, docs, problems)
    problems += check_provisions(provisions, docs)
    problems += check_vocabulary(kb_dir, vocab)
    ids = {p["id"] for p in provisions}
    for topic, pids in vocab.topic_definitions.items():
        problems += [f"topics.yml: {topic} definition {pid} is not a provision" for pid in pids if pid not in ids]
    return provisions, problems


def _with_metadata(p: dict, doc: dict, source_line: str, vocab) -> dict:
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


def _apply_overrides(provisions: list[dict], docs: list[dict], problems: list[str]) -> None:
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


def check_documents(kb_dir: Path, docs: list[dict]) -> list[str]:
    problems = []
    seen = set()
    required = ("id", "title", "issuer", "jurisdiction", "status", "source_file", "sha256")
    for doc in docs:
        did = doc.get("id", "?")
        for key in required:
            if not doc.get(key):
                problems.append(f"document {did}: missing {key}")
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
            problems.append(f"document {did}: source file {doc.get('source_file')} changed (sha256 differs from documents.yml)")
    return problems


def check_provisions(provisions: list[dict], docs: list[dict]) -> list[str]:
    problems = []
    doc_ids = {d.get("id") for d in docs}
    seen: set[str] = set()
    per_doc = {d.get("id"): 0 for d in docs}
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
            per_doc[p["doc_id"]] += 1
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


def check_vocabulary(kb_dir: Path, vocab) -> list[str]:
    problems = []
    folder = kb_dir / USERDICT_RELPATH.parent
    files = [f.name for f in folder.iterdir()] if folder.is_dir() else []
    if files != [USERDICT_RELPATH.name]:
        problems.append(f"{folder}: must hold only {USERDICT_RELPATH.name} (Rasa loads every file there), found {files}")
        return problems
    words = read_userdict_words(kb_dir / USERDICT_RELPATH)
    missing = sorted(w for w in set(vocab.variants) | vocab.canonical_words() if len(w) >= 2 and w not in words)
    if missing:
        problems.append(f"userdict.txt lacks vocabulary words: {', '.join(missing[:20])}")
    return problems


def dumps(provisions: list[dict]) -> str:
    return "".join(json.dumps(p, ensure_ascii=False, sort_keys=True) + "\n" for p in provisions)


def main(argv: list[str] | None = None) -> int:
    from bot.kb.cards import cards_per_topic, check_cards, eval_questions, load_cards

    from bot.config import settings

    ap = argparse.ArgumentParser(prog="python -m bot.kb.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--kb-dir", type=Path, default=None, help="knowledge-base folder (default: settings().policy_kb_dir)")
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
    print(f"ok: {len(cards)} knowledge cards: every citation resolves, every number is in a cited span; "
          + ", ".join(f"{t} {n}" for t, n in cards_per_topic(cards).items()))
    out = kb_dir / PROVISIONS_FILE
    text = dumps(provisions)
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"CHECK FAILED: {out} differs from a fresh build; run python -m bot.kb.build", file=sys.stderr)
            return 1
        print(f"ok: {len(provisions)} provisions from {len({p['doc_id'] for p in provisions})} documents match {out.name}")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {len(provisions)} provisions from {len({p['doc_id'] for p in provisions})} documents to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
