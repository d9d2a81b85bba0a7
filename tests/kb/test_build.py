"""The build step: reproducible, and its checks fail on doctored input."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import settings
from bot.kb import build
from bot.kb.checks import sha256_of

KB_DIR = Path(settings().policy_kb_dir)


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "policy_kb"
    shutil.copytree(KB_DIR, dst, ignore=shutil.ignore_patterns("parameters", "eval"))
    return dst


def _set_doc(kb_dir: Path, doc_id: str, **changes) -> None:
    path = kb_dir / "documents.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for doc in data["documents"]:
        if doc["id"] == doc_id:
            doc.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_committed_provisions_equal_a_fresh_build():
    assert build.main(["--check"]) == 0


def test_every_document_and_provision_is_traced():
    provisions, problems = build.build(KB_DIR)
    assert problems == []
    docs = {d["id"]: d for d in build.load_documents(KB_DIR)}
    # 16 policy texts split into provisions, and one table of figures (standards.csv) that is not
    texts = {did for did, d in docs.items() if d.get("provisions") is not False}
    assert len(docs) == 17 and len(texts) == 16
    assert set(docs) - texts == {"sichuan_disability_2024"}
    assert {p["doc_id"] for p in provisions} == texts
    assert all(p["id"].startswith(p["doc_id"] + "-") for p in provisions)
    for p in provisions:
        assert p["text"].strip() and p["title"] and p["clause"]
        src = KB_DIR / "sources" / p["source_file"]
        assert src.is_file() and p["source_line"] >= 1
        assert p["status"] in ("in_force", "draft", "overridden")


def test_structure_of_key_documents():
    provisions, _ = build.build(KB_DIR)
    by_id = {p["id"]: p for p in provisions}
    assert sum(1 for p in provisions if p["doc_id"] == "shjzf_2026") == 78
    assert sum(1 for p in provisions if p["doc_id"] == "zxbf_2014" and p["clause"].endswith("条")) == 70
    law73 = by_id["shjzf_2026-a73"]
    assert law73["clause"] == "第七十三条" and "二倍以下" in law73["text"]
    assert law73["section_path"][0].startswith("第六章")
    old68 = by_id["zxbf_2014-a68"]
    assert old68["status"] == "overridden" and old68["overridden_by"] == "shjzf_2026-a73"
    assert "zxbf_2014-a68" in law73["overrides"]
    # the 会宁 title was lost in OCR and restored from the README table
    assert by_id["huining_2022_63-2.1.3.1"]["title"].startswith("会宁县城镇困难群众脱困解困行动方案")
    # OCR line breaks joined, page numbers and stray headers gone
    qx = by_id["quxian_2022_26-3.1.3"]["text"]
    assert "10000元" in qx and "\n" not in qx and "- 9 -" not in qx
    assert all("序号工作任务" not in p["text"] and not re.search(r"-\s*\d+\s*-$", p["text"]) for p in provisions)
    assert all(p["status"] == "draft" for p in provisions if p["doc_id"] == "sichuan_2020_draft")
    assert all(p["jurisdiction"] == "渠县" for p in provisions if p["doc_id"] == "quxian_2022_26")


def test_empty_provision_fails_the_build(kb_copy: Path):
    src = kb_copy / "sources" / "national" / "shehui_jiuzhu_fa_2026.txt"
    text = src.read_text(encoding="utf-8")
    text = re.sub(r"第七十八条 .*", "第七十八条 ", text)
    src.write_text(text, encoding="utf-8")
    _set_doc(kb_copy, "shjzf_2026", sha256=sha256_of(src))
    _, problems = build.build(kb_copy)
    assert any("shjzf_2026-a78" in p and "empty" in p for p in problems)
    assert build.main(["--kb-dir", str(kb_copy)]) == 1


def test_changed_source_or_missing_source_fails(kb_copy: Path):
    src = kb_copy / "sources" / "local" / "001_52aa24e7c3449c25.txt"
    src.write_text(src.read_text(encoding="utf-8") + "\n（多出来的一行）\n", encoding="utf-8")
    _, problems = build.build(kb_copy)
    assert any("bazhong_2023" in p and "sha256" in p for p in problems)
    src.unlink()
    _, problems = build.build(kb_copy)
    assert any("bazhong_2023" in p and "not found" in p for p in problems)


def test_untraced_provision_fails_the_checks(kb_copy: Path):
    provisions, _ = build.build(kb_copy)
    docs = build.load_documents(kb_copy)
    stray = dict(provisions[0], id="nowhere-a1", doc_id="nowhere")
    problems = build.check_provisions(provisions + [stray], docs)
    assert any("nowhere-a1" in p and "not traced" in p for p in problems)
    # a provisions.jsonl edited by hand no longer matches a fresh build
    out = kb_copy / "provisions.jsonl"
    out.write_text(out.read_text(encoding="utf-8") + json.dumps(stray, ensure_ascii=False) + "\n", encoding="utf-8")
    assert build.main(["--kb-dir", str(kb_copy), "--check"]) == 1


def test_jieba_folder_holds_only_the_user_dictionary(kb_copy: Path):
    assert [f.name for f in (KB_DIR / "vocab" / "jieba").iterdir()] == ["userdict.txt"]
    (kb_copy / "vocab" / "jieba" / "extra.txt").write_text("多余 1 n\n", encoding="utf-8")
    _, problems = build.build(kb_copy)
    assert any("must hold only" in p for p in problems)


def test_a_clause_span_not_in_its_provision_fails_the_check(kb_copy: Path):
    """The eligibility clauses quote provisions: a span that is not in its provision fails
    `python -m bot.kb.build --check` (and so does a parameters folder without its clause file)."""
    (kb_copy / "parameters").mkdir()
    assert build.main(["--kb-dir", str(kb_copy), "--check"]) == 1  # _clauses.yml missing
    clauses = (KB_DIR / "parameters" / "_clauses.yml").read_text(encoding="utf-8")
    (kb_copy / "parameters" / "_clauses.yml").write_text(clauses, encoding="utf-8")
    assert build.build(kb_copy)[1] == []
    assert build.main(["--kb-dir", str(kb_copy), "--check"]) == 0
    doctored = clauses.replace("低于当地低保标准 1.5倍", "低于当地低保标准 2倍")
    assert doctored != clauses
    (kb_copy / "parameters" / "_clauses.yml").write_text(doctored, encoding="utf-8")
    _, problems = build.build(kb_copy)
    assert [p for p in problems if "qx_edge" in p and "span not in provision quxian_2022_26-3.3.10" in p], problems
    assert build.main(["--kb-dir", str(kb_copy), "--check"]) == 1


def test_a_document_quoted_by_the_clauses_needs_its_citation_fields(kb_copy: Path):
    (kb_copy / "parameters").mkdir()
    shutil.copy(KB_DIR / "parameters" / "_clauses.yml", kb_copy / "parameters" / "_clauses.yml")
    _set_doc(kb_copy, "quxian_2022_26", citation={"source": "x"})
    _, problems = build.build(kb_copy)
    assert problems == [
        "document quxian_2022_26: quoted by parameters/_clauses.yml but its `citation` lacks authority (documents.yml)"
    ]
