"""Source texts to provisions: read a document's text, clean it, split it into provisions.

Cleaning: the source line (a first line 来源…, and 补充说明…), OCR line breaks
(`join_lines`), page numbers, stray headers and markdown, spaces inside Chinese
text. Splitting: 条 for laws and regulations (ids ``<doc>-a<n>``); numbered items
一、/（一）/1./一是/1、 for policy documents (ids ``<doc>-<n>.<n>…``); a task table's
rows (``<doc>-att.<n>``); text before any marker (``<doc>-p…``). The parsing options
are the document's fields in documents.yml. Used by bot.kb.build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.kb.documents import Document
from bot.kb.provision import RawProvision

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
    re.compile(r"^-\s*\d+\s*-$"),  # page numbers "- 9 -"
    re.compile(r"^序号\s*工作任务"),  # repeated table header
    re.compile(r"^#\s"),  # markdown document title
    re.compile(r"^>"),  # markdown quote (adoption note)
    re.compile(r"^-{3,}$"),  # markdown rule
    re.compile(r"^【.*】$"),  # site's 【实施时间…】 badge
    re.compile(r"^第\s*\d+\s*页"),  # "第 3 页"
    re.compile(r"^\|.*\|$"),  # study-site summary tables (not official text)
]


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


# --- cleaning --------------------------------------------------------------


@dataclass
class Para:
    text: str
    line: int  # 1-based line in the source file where it starts
    heading: bool = False  # a markdown heading line


# (kind, number, rest): a paragraph's structural marker (第三条, 二、, （一）, 1., 一是 …).
Marker = tuple[str, int, str]


def _marker(text: str, articles: bool) -> Marker | None:
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


def read_source(kb_dir: Path, doc: Document) -> tuple[list[str], str]:
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


def clean_paragraphs(lines: list[str], doc: Document) -> tuple[list[Para], list[Para]]:
    """Body paragraphs and appendix paragraphs (each with its source line number)."""
    start: str | None = doc.get("body_start")
    end = doc.get("body_end")
    drop = set(doc.get("drop_lines") or [])
    join = bool(doc.get("join_lines"))
    appendix_start = doc.get("appendix_start")
    articles_doc = any(RE_ARTICLE.match(line.strip().lstrip("#").strip()) for line in lines)

    body: list[Para] = []
    appendix: list[Para] = []
    target = body
    started = start is None
    for i, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not started:
            if start is not None and start in line:  # (`started` is False only with a start)
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
        "chapter": f"第{cn}章",
        "section": f"第{cn}节",
        "article": f"第{cn}条",
        "l1": f"{cn}、",
        "l2": f"（{cn}）",
        "l3": f"{n}.",
        "l3b": f"{cn}是",
        "item": f"第{n}项",
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


@dataclass
class _Unit:
    """A provision being collected: the headings above it, its own marker, its text."""

    path: list[tuple[str, int, str]]  # (kind, n, title) of the headings above it
    full: list[tuple[str, int, str]]  # the path with its own marker (what a continuation must share)
    own: tuple[str, int] | None  # (kind, n) of its own marker
    text: str
    line: int


def split_document(doc: Document, body: list[Para], appendix: list[Para]) -> list[RawProvision]:
    articles_doc = any((mk := _marker(p.text, True)) is not None and mk[0] == "article" for p in body)
    units: list[_Unit] = []
    path: list[tuple[str, int, str]] = []  # outline path or chapter/section path
    current: _Unit | None = None

    def open_unit(own: tuple[str, int] | None, text: str, line: int) -> _Unit:
        unit = _Unit(list(path), list(path), own, text, line)
        units.append(unit)
        return unit

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
                current = open_unit(("article", mk[1]), mk[2].strip(), p.line)
            elif current is not None:
                current.text += "\n" + p.text
            else:
                current = open_unit(None, p.text, p.line)
            continue
        if mk is None:
            if current is not None and current.full == path:
                current.text += "\n" + p.text
            else:
                current = open_unit(None, p.text, p.line)
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
            for num, item_text in zip(
                items[0::2], items[1::2], strict=False
            ):  # a trailing number without text is dropped
                current = open_unit(("item", int(num)), item_text.strip(), p.line)
            current = None
            path.pop()
            continue
        current = open_unit((kind, n), rest.strip(), p.line)
        path.append((kind, n, _short_title(rest)))
        current.full = list(path)

    provisions: list[RawProvision] = []
    for u in units:
        chain = list(u.path)
        if articles_doc:
            section_path = [_label(k, n) + (f" {t}" if t else "") for k, n, t in chain]
            if u.own:
                clause = _label(*u.own)
                pid = f"{doc['id']}-a{u.own[1]}"
            else:
                clause = "序言"
                pid = f"{doc['id']}-p{u.line}"
            title = ""
        else:
            section_path = [_label(k, n) + t for k, n, t in chain]
            own = [u.own] if u.own else []
            markers = [(k, n) for k, n, _ in chain] + own
            if markers:
                clause = "".join(_label(k, n) for k, n in markers)
                pid = f"{doc['id']}-" + ".".join(str(n) for _, n in markers)
            else:
                clause = "前言"
                pid = f"{doc['id']}-p"
            title = _short_title(u.text) if u.own else ""
        provisions.append(
            {
                "id": pid,
                "clause": clause,
                "clause_title": title,
                "section_path": section_path,
                "text": u.text.strip(),
                "line": u.line,
            }
        )
    for row in appendix:
        m = RE_ROW.match(row.text)
        if not m:
            provisions.append(
                {
                    "id": f"{doc['id']}-att.p",
                    "clause": doc.get("appendix_label", "附件"),
                    "clause_title": "",
                    "section_path": [doc.get("appendix_label", "附件")],
                    "text": row.text,
                    "line": row.line,
                }
            )
            continue
        provisions.append(
            {
                "id": f"{doc['id']}-att.{m.group(1)}",
                "clause": f"{doc.get('appendix_label', '附件')}第{m.group(1)}项",
                "clause_title": "",
                "section_path": [doc.get("appendix_label", "附件")],
                "text": (m.group(2) or "").strip(),
                "line": row.line,
            }
        )
    # Headings with nothing under them produce no provision; drop table header rows.
    return [p for p in provisions if not (p["id"].endswith("-att.p") and len(p["text"]) < 40)]
