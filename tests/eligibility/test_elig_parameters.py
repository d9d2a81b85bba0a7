"""Parameter loader: as-of dates, inheritance along the jurisdiction path, null ends a value,
overrides layered over the YAML, clauses that quote the provisions built from the in-repo
source texts (policy_kb/sources/, never skipped), document fields from the one registry
(policy_kb/documents.yml), files nested by concept with their ids unchanged."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.eligibility.parameters import ParameterSet
from bot.kb import build
from bot.kb.checks import check_clause_references
from bot.kb.documents import DOCUMENTS_FILE, document_of, load_documents

KB_DIR = Path(__file__).resolve().parents[2] / "policy_kb"
PARAMS_DIR = KB_DIR / "parameters"
SOURCES = KB_DIR / "sources"


def _mini(tmp_path: Path) -> Path:
    """A tiny parameter tree to test resolution rules in isolation (beside a copy of the
    document registry, which the parameters' clauses refer to)."""
    d = tmp_path / "params"
    d.mkdir()
    (d / "_clauses.yml").write_text((PARAMS_DIR / "_clauses.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / DOCUMENTS_FILE).write_text((KB_DIR / DOCUMENTS_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    (d / "_rules.yml").write_text("{}\n", encoding="utf-8")
    ref = {"ref": "zx_10"}
    (d / "demo.yml").write_text(
        yaml.safe_dump(
            {
                "name": "demo",
                "label": "演示",
                "unit": "ratio",
                "range": [0, 10],
                "values": {
                    "全国": [
                        {"effective": "2020-01-01", "value": 1, "reference": ref},
                        {"effective": "2024-01-01", "value": 2, "reference": ref},
                    ],
                    "四川省": [{"effective": "2022-01-01", "value": 3, "reference": ref}],
                    "达州市": [{"effective": "2023-01-01", "value": None, "reference": ref}],
                    "渠县": [{"effective": "2025-01-01", "value": 5, "reference": ref}],
                },
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return d


@pytest.fixture()
def mini(tmp_path):
    return ParameterSet(_mini(tmp_path), tmp_path / "overrides.json")


def test_as_of_picks_newest_entry_in_force(mini):
    assert mini.get("demo", "全国", date(2019, 12, 31)).value is None
    assert mini.get("demo", "全国", date(2020, 1, 1)).value == 1
    assert mini.get("demo", "全国", date(2023, 12, 31)).value == 1
    assert mini.get("demo", "全国", date(2024, 1, 1)).value == 2


def test_most_specific_place_wins(mini):
    assert mini.get("demo", "巴中", date(2022, 6, 1)).value == 3  # 四川省 over 全国
    assert mini.get("demo", "巴中", date(2021, 6, 1)).value == 1  # 四川省 not yet in force
    assert mini.get("demo", "会宁", date(2024, 6, 1)).value == 2  # 甘肃 path: only 全国
    r = mini.get("demo", "渠县", date(2025, 6, 1))
    assert (r.value, r.place, r.origin) == (5, "渠县", "policy_kb")


def test_null_ends_the_value_without_falling_back(mini):
    r = mini.get("demo", "渠县", date(2024, 6, 1))  # 达州市 null in force, 渠县 not yet
    assert r.value is None and r.place == "达州市" and r.origin == "unset"
    assert r.citation["clause"] == "第十条第一款"
    assert mini.get("demo", "达州", date(2022, 6, 1)).value == 3  # before the null


def test_overrides_layer_over_yaml(tmp_path):
    from bot.eligibility.admin import set_parameter

    d = _mini(tmp_path)
    set_parameter(
        name="demo",
        jurisdiction="渠县",
        value="7",
        effective="2025-01-01",
        source="渠县文件 1号",
        set_by="测试",
        data_dir=tmp_path / "data",
        params_dir=d,
    )
    p = ParameterSet(d, tmp_path / "data" / "eligibility_parameters.json")
    r = p.get("demo", "渠县", date(2025, 6, 1))
    assert (r.value, r.origin) == (7, "local_override")
    assert r.citation["title"] == "渠县文件 1号" and "测试" in r.citation["issuer"]
    assert set(r.citation) == {"title", "clause", "issuer", "date", "jurisdiction", "status", "source", "text"}


def test_version_changes_with_overrides(tmp_path):
    from bot.eligibility.admin import set_parameter

    d = _mini(tmp_path)
    before = ParameterSet(d, tmp_path / "data" / "eligibility_parameters.json").version
    set_parameter(
        name="demo",
        jurisdiction="渠县",
        value=7,
        effective="2025-01-01",
        source="渠县文件 1号",
        set_by="测试",
        data_dir=tmp_path / "data",
        params_dir=d,
    )
    after = ParameterSet(d, tmp_path / "data" / "eligibility_parameters.json").version
    assert before != after and before.split("+")[0] == after.split("+")[0]


def test_shipped_parameters_are_well_formed(pset):
    for name, param in pset.parameters.items():
        assert param.label and param.unit, name
        for place, entries in param.entries.items():
            for e in entries:
                assert e.ref in pset.clauses, (name, place)
                if param.range and isinstance(e.value, (int, float)):
                    assert param.range[0] <= e.value <= param.range[1], name
        raw = yaml.safe_load(pset.parameter_files[name].read_text(encoding="utf-8"))
        for entries in raw["values"].values():
            for e in entries:
                ref = e["reference"]
                assert {"title", "clause", "issuer", "source"} <= set(ref), name
                c = pset.citation(ref["ref"])
                assert (ref["title"], ref["clause"], ref["issuer"]) == (c["title"], c["clause"], c["issuer"]), name


def test_no_local_money_figure_is_invented(pset):
    """低保标准, minimum wage and disposable income are unset everywhere in the shipped YAML."""
    for name in (
        "dibao_monthly_urban",
        "dibao_monthly_rural",
        "minimum_wage_monthly",
        "per_capita_disposable_income_annual",
        "rigid_expense_share_threshold",
    ):
        for entries in pset.parameters[name].entries.values():
            assert all(e.value is None for e in entries), name
    # The only sourced local money figures: Sichuan disability subsidies, marked secondary.
    for name in ("disability_living_subsidy_monthly", "disability_care_subsidy_monthly"):
        r = pset.get(name, "渠县", date(2026, 9, 1))
        assert r.is_set and "二手来源" in r.citation["status"]


_WS = re.compile(r"\s+")


@pytest.fixture(scope="module")
def built():
    """Provisions built afresh from the in-repo source texts (policy_kb/sources/)."""
    provisions, problems = build.build(KB_DIR)
    assert problems == []
    return {p["id"]: p for p in provisions}


def test_every_clause_quotes_its_provision(pset, built):
    assert SOURCES.is_dir() and pset.clauses
    for cid, clause in pset.clauses.items():
        doc = pset.clause_document(cid)
        if clause.get("provision"):
            provision = built[clause["provision"]]
            assert provision["doc_id"] == doc["id"] == document_of(clause["provision"]), cid
            assert _WS.sub("", clause["span"]) in _WS.sub("", provision["text"]), f"{cid} not in {provision['id']}"
        else:  # a figures table, not split into provisions
            assert doc.get("provisions") is False, cid
        # and in the source file itself
        src = _WS.sub("", (SOURCES / doc["source_file"]).read_text(encoding="utf-8"))
        assert _WS.sub("", clause["span"]) in src, f"{cid} not found verbatim in {doc['source_file']}"
    assert check_clause_references(KB_DIR, list(built.values()), load_documents(KB_DIR)) == []


def test_a_span_not_in_its_provision_is_found(pset, built, tmp_path):
    clauses = {cid: dict(c) for cid, c in pset.clauses.items()}
    clauses["qx_edge"]["span"] = clauses["qx_edge"]["span"].replace("1.5倍", "2倍")
    clauses["law_18"]["provision"] = "shjzf_2026-a19"  # the right words, the wrong article
    clauses["zx_9"]["provision"] = "zxbf_2014-a999"  # no such provision
    clauses["sc_dis_care"]["span"] = "一、二级重度护理补贴分别为120元"  # not in standards.csv
    (tmp_path / "parameters").mkdir()
    (tmp_path / "parameters" / "_clauses.yml").write_text(yaml.safe_dump(clauses, allow_unicode=True), encoding="utf-8")
    (tmp_path / "sources").symlink_to(SOURCES)
    problems = check_clause_references(tmp_path, list(built.values()), load_documents(KB_DIR))
    assert any("qx_edge" in p and "span not in provision quxian_2022_26-3.3.10" in p for p in problems), problems
    assert any("law_18" in p and "shjzf_2026-a19" in p for p in problems), problems
    assert any("zx_9" in p and "not found" in p for p in problems), problems
    assert any("sc_dis_care" in p and "standards.csv" in p for p in problems), problems
    assert len(problems) == 4, problems


def test_documents_come_from_the_one_registry(pset):
    assert not (PARAMS_DIR / "_documents.yml").exists()
    registry = {d["id"]: d for d in load_documents(KB_DIR)}
    assert pset.documents == registry
    for cid in pset.clauses:
        doc, c = pset.clause_document(cid), pset.citation(cid)
        assert doc["id"] in registry
        assert c["jurisdiction"] == doc["jurisdiction"] and c["status"] == doc["citation"]["authority"], cid
        assert c["source"] == doc["citation"]["source"], cid
        assert c["issuer"] == doc["citation"].get("issuer", doc["issuer"]), cid
        assert doc["title"].strip("《》") in c["title"] or "title" in doc["citation"], cid


def test_a_clause_of_an_unknown_document_is_refused(tmp_path):
    d = _mini(tmp_path)
    path = d / "_clauses.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("provision: zxbf_2014-a10,", "provision: nowhere-a10,"),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown document nowhere"):
        ParameterSet(d, tmp_path / "overrides.json")


def test_rule_citations_follow_dates_and_places(pset):
    assert pset.rule_citation("tekun.rule", "会宁", date(2026, 6, 30))["clause"] == "第四条"
    assert pset.rule_citation("tekun.rule", "会宁", date(2026, 7, 1))["clause"] == "第十六条第一款"
    assert "渠县" in pset.rule_citation("tekun.rule", "渠县", date(2025, 1, 1))["issuer"]
    assert pset.rule_citation("application.hotline", "巴中", date(2026, 1, 1)) is None


# The ids the API, override files and tests use: moving a file must never rename one.
PARAMETER_IDS = {
    "adult_age",
    "de_facto_lost_contact_months",
    "dibao_edge_multiplier",
    "dibao_monthly_rural",
    "dibao_monthly_urban",
    "disability_care_subsidy_monthly",
    "disability_living_subsidy_monthly",
    "disabled_dibao_uplift_rate",
    "disabled_support_exemption",
    "employment_cost_deduction_rate",
    "gradual_exit_months",
    "gradual_exit_months_special",
    "income_exclusions",
    "medical_assistance_min_rate",
    "minimum_wage_monthly",
    "per_capita_disposable_income_annual",
    "residence_permit_application",
    "rigid_expense_share_threshold",
    "severe_disability_max_grade",
    "tekun_basic_multiplier",
    "tekun_disability_max_grade",
    "tekun_elderly_age",
    "tekun_minor_age",
    "tekun_supporter_dibao_age",
    "tekun_supporter_elderly_age",
    "temporary_assistance_household_annual_cap",
    "temporary_assistance_max_months",
    "temporary_assistance_max_multiplier",
    "temporary_assistance_method",
    "temporary_assistance_min_multiplier",
    "urban_dibao_residence_years",
}


def test_shipped_parameters_are_nested_by_concept_with_ids_unchanged(pset):
    assert set(pset.parameters) == PARAMETER_IDS
    for name, path in pset.parameter_files.items():
        folder, stem = path.relative_to(PARAMS_DIR).parts[0], path.stem
        assert path.parent != PARAMS_DIR, f"{name} is not in a concept folder"
        assert name in (stem, f"{folder}_{stem}"), path
    assert pset.parameter_files["tekun_elderly_age"] == PARAMS_DIR / "tekun" / "elderly_age.yml"
    assert pset.parameter_files["dibao_edge_multiplier"] == PARAMS_DIR / "dibao_edge" / "multiplier.yml"


def _demo(folder: Path, relative: str, name: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "label": "演示",
                "unit": "ratio",
                "values": {"全国": [{"effective": "2020-01-01", "value": 1, "reference": {"ref": "zx_10"}}]},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )


def test_a_nested_file_is_named_after_its_id(tmp_path):
    d = _mini(tmp_path)
    _demo(d, "tekun/elderly_age.yml", "tekun_elderly_age")  # folder name left out
    _demo(d, "income/minimum_wage_monthly.yml", "minimum_wage_monthly")  # id does not begin with it
    p = ParameterSet(d, tmp_path / "overrides.json")
    assert p.get("tekun_elderly_age", "渠县", date(2024, 1, 1)).value == 1
    assert p.parameter_files["minimum_wage_monthly"] == d / "income" / "minimum_wage_monthly.yml"


@pytest.mark.parametrize(
    "relative, name, needle",
    [
        ("tekun/elderly_age.yml", "elderly_age_tekun", "differs from the file name"),
        ("tekun/deeper/elderly_age.yml", "tekun_elderly_age", "one concept folder"),
        ("income/demo.yml", "demo", "also defined in"),  # demo.yml exists at the top
    ],
)
def test_the_loader_refuses_misplaced_parameter_files(tmp_path, relative, name, needle):
    d = _mini(tmp_path)
    _demo(d, relative, name)
    with pytest.raises(ValueError, match=needle):
        ParameterSet(d, tmp_path / "overrides.json")
