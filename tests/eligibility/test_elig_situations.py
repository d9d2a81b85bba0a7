"""Runs every YAML situation in tests/eligibility/situations/ (one test id per situation).

A situation: ``id``, ``input`` (a /v1/screen request), and any of
``expect`` {program: status}, ``estimate`` {program: null | {amount, low, high}},
``missing`` {program: [fact ids that must be asked]}, ``tests`` {program: {test: passed}},
``citations`` {program: {test: text found in the citation's title, clause or issuer}},
``text_contains`` {program: text found in some explanation}, ``overrides`` [admin-set
parameters {name, jurisdiction, value, effective}] applied in a private data dir.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.eligibility import DISCLAIMER, screen
from bot.eligibility.admin import set_parameter
from bot.eligibility.parameters import ParameterSet

PARAMS_DIR = Path(__file__).resolve().parents[2] / "policy_kb" / "parameters"

SITUATIONS_DIR = Path(__file__).parent / "situations"


def _load() -> list[dict]:
    out = []
    for path in sorted(SITUATIONS_DIR.glob("*.yml")):
        for s in yaml.safe_load(path.read_text(encoding="utf-8"))["situations"]:
            s["_file"] = path.name
            out.append(s)
    return out


SITUATIONS = _load()


def test_enough_situations_with_unique_ids():
    ids = [s["id"] for s in SITUATIONS]
    assert len(ids) == len(set(ids)), "duplicate situation ids"
    assert len(ids) >= 80


def _find(result: dict, test: str) -> dict:
    hits = [i for i in result["explanation"] if i["test"] == test]
    assert hits, f"{result['program']}: no explanation item {test!r}; have {[i['test'] for i in result['explanation']]}"
    return hits[0]


@pytest.mark.parametrize("situation", SITUATIONS, ids=[s["id"] for s in SITUATIONS])
def test_situation(situation, pset, tmp_path):
    params = pset
    if situation.get("overrides"):
        for o in situation["overrides"]:
            set_parameter(
                name=o["name"],
                jurisdiction=o["jurisdiction"],
                value=o["value"],
                effective=o["effective"],
                source="测试用文件 第1号",
                set_by="pytest",
                data_dir=tmp_path,
            )
        params = ParameterSet(PARAMS_DIR, tmp_path / "eligibility_parameters.json")
    answer = screen(situation["input"], pset=params)
    by = {r["program"]: r for r in answer["results"]}
    # Invariants on every answer.
    assert answer["disclaimer"] == DISCLAIMER and DISCLAIMER.endswith("最终以乡镇（街道）审核确认结果为准")
    for r in answer["results"]:
        assert r["ruleset_version"] == answer["ruleset_version"] == params.version
        assert r["summary"].endswith("最终以乡镇（街道）审核确认结果为准")
        for it in r["explanation"]:
            if it["kind"] == "condition":
                assert it["citation"] and it["citation"]["text"], f"{r['program']}.{it['test']} has no clause"
                assert set(it["citation"]) == {
                    "title",
                    "clause",
                    "issuer",
                    "date",
                    "jurisdiction",
                    "status",
                    "source",
                    "text",
                }
        if r["status"] == "need_info":
            assert any(m["for"] == "status" for m in r["missing"]), f"{r['program']} need_info without missing facts"
        for m in r["missing"]:
            assert m["question"] and m["fact"]
    for program, status in (situation.get("expect") or {}).items():
        r = by[program]
        assert r["status"] == status, (
            f"{program}: expected {status}, got {r['status']}\n"
            + "\n".join(f"  {i['test']} {i['passed']} {i['text']}" for i in r["explanation"])
            + f"\n  missing {r['missing']}"
        )
    for program, est in (situation.get("estimate") or {}).items():
        got = by[program]["estimate"]
        if est is None:
            assert got is None, f"{program}: expected no estimate, got {got}"
            continue
        assert got is not None, f"{program}: expected an estimate"
        for key, val in est.items():
            assert got[key] == pytest.approx(val), f"{program}.estimate.{key}: {got}"
    for program, facts in (situation.get("missing") or {}).items():
        got = [m["fact"] for m in by[program]["missing"]]
        for f in facts:
            assert f in got, f"{program}: {f} not in missing {got}"
    for program, tests in (situation.get("tests") or {}).items():
        for test, passed in tests.items():
            assert _find(by[program], test)["passed"] is passed
    for program, cites in (situation.get("citations") or {}).items():
        for test, needle in cites.items():
            c = _find(by[program], test)["citation"]
            assert c and needle in f"{c['title']} {c['clause']} {c['issuer']} {c['status']}", f"{program}.{test}: {c}"
    for program, needle in (situation.get("text_contains") or {}).items():
        texts = " ".join(i["text"] for i in by[program]["explanation"])
        assert needle in texts, texts
