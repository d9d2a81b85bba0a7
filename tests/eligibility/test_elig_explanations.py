"""Explanation texts live in policy_kb/explanations/ and the code only names them.

The loader fails loudly (unknown key, a placeholder without a value, a value the template
does not use, a malformed template); every key the code names exists with exactly the
placeholders the call fills, and every template is used; no Chinese is left in the rules.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.eligibility import entities, screen
from bot.eligibility.context import ScreeningContext
from bot.eligibility.entities import Situation
from bot.eligibility.explanations import ExplanationError, Explanations, get_explanations
from bot.eligibility.parameters import ParameterSet
from bot.eligibility.programs import PROGRAMS
from bot.eligibility.programs.referrals import BASE_CATEGORIES

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT / "bot" / "eligibility"
EXPLANATIONS_DIR = PROJECT / "policy_kb" / "explanations"
ANSWER_SUFFIXES = ("yes", "no", "unknown")


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    d = tmp_path / "explanations"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


@pytest.fixture()
def demo(tmp_path) -> Explanations:
    return Explanations(
        _folder(
            tmp_path,
            {"demo.yml": 'adult:\n  "yes": "{who}已成年。"\nplain: 没有占位符。\n', "terms.yml": "grade:\n  1: 一\n"},
        )
    )


def test_a_template_is_filled_by_name(demo):
    assert demo.text("demo.adult.yes", who="您本人") == "您本人已成年。"
    assert demo.text("demo.plain") == "没有占位符。"
    assert demo.term("grade", 1) == "一"


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda e: e.text("demo.adult.no", who="您本人"), "no explanation template 'demo.adult.no'"),
        (lambda e: e.text("demo.adult.yes"), "no value for ['who']"),
        (lambda e: e.text("demo.adult.yes", who="您本人", age=40), "template does not use ['age']"),
        (lambda e: e.text("demo.plain", who="您本人"), "template does not use ['who']"),
        (lambda e: e.term("grade", 5), "no term grade.5"),
        (lambda e: e.term("emergency", "fire"), "no term emergency.fire"),
    ],
)
def test_a_missing_template_or_placeholder_fails_loudly(demo, call, needle):
    with pytest.raises(ExplanationError) as exc:
        call(demo)
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    "text, needle",
    [
        ('broken: "{who已成年"\n', "malformed template"),
        ('positional: "{}已成年"\n', "must be a plain name"),
        ('indexed: "{who[0]}已成年"\n', "must be a plain name"),
        ("number: 3\n", "expected text"),
    ],
)
def test_a_malformed_template_fails_when_loaded(tmp_path, text, needle):
    with pytest.raises(ExplanationError, match=re.escape(needle)):
        Explanations(_folder(tmp_path, {"demo.yml": text}))


def test_no_templates_at_all_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        Explanations(_folder(tmp_path, {}))


# ------------------------------------------------------------------ the shipped catalogue
def _calls() -> list[tuple[Path, ast.Call]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("text", "text_by_answer", "term")
            ):
                out.append((path, node))
    return out


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def test_every_text_the_code_names_exists_with_the_placeholders_it_fills():
    shipped = Explanations(EXPLANATIONS_DIR)
    used: set[str] = set()
    for path, call in _calls():
        where = f"{path.relative_to(PROJECT)}:{call.lineno}"
        method = call.func.attr
        key_arg = call.args[1] if method == "text_by_answer" else call.args[0]
        key = _literal(key_arg)
        if key is None:
            # Only the delegating methods pass a key through; everywhere else it is spelled out.
            assert path.name in ("context.py", "explanations.py"), f"{where}: name the template literally"
            continue
        if method == "term":
            assert key in shipped.terms, f"{where}: no terms table {key!r}"
            continue
        keys = [f"{key}.{s}" for s in ANSWER_SUFFIXES] if method == "text_by_answer" else [key]
        given = {k.arg for k in call.keywords}
        for k in keys:
            assert k in shipped.templates, f"{where}: no template {k!r} in policy_kb/explanations/"
            if None not in given:  # no **values
                assert shipped.fields[k] == given, (
                    f"{where}: {k} has {sorted(shipped.fields[k])}, call fills {sorted(given)}"
                )
            used.add(k)
    unused = sorted(set(shipped.templates) - used)
    assert not unused, f"templates no code uses: {unused}"


def test_terms_cover_every_code_the_entities_allow():
    terms = Explanations(EXPLANATIONS_DIR).terms
    assert set(terms["emergency"]) == set(entities.EMERGENCY_TYPES) - {"none"}
    assert set(terms["disability"]) == set(entities.DISABILITY_TYPES) - {"none"}
    assert set(terms["grade"]) == {1, 2, 3, 4}
    assert set(terms["income_category"]) == set(entities.INCOME_CATEGORIES)
    assert set(terms["program_short"]) == set(BASE_CATEGORIES)
    assert set(terms["dibao_category"]) == {"urban", "rural"}


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *(PACKAGE / "programs").glob("*.py"),
            PACKAGE / "conditions.py",
            PACKAGE / "income.py",
            PACKAGE / "context.py",
            PACKAGE / "results.py",
        ]
    ),
    ids=lambda p: p.name,
)
def test_no_chinese_text_in_the_rules(path):
    """Docstrings and comments may name 低保 and 特困; a resident-facing text belongs in the YAML."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(n) is not None
    }
    texts = [
        f"{n.lineno}: {n.value}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings and _CJK.search(n.value)
    ]
    assert not texts, texts


# ------------------------------------------------------------------ texts, version, order
def _policy_copy(tmp_path: Path) -> Path:
    kb = tmp_path / "policy_kb"
    shutil.copytree(PROJECT / "policy_kb" / "parameters", kb / "parameters")
    shutil.copytree(EXPLANATIONS_DIR, kb / "explanations")
    shutil.copy(PROJECT / "policy_kb" / "documents.yml", kb / "documents.yml")  # the document registry
    return kb


REQUEST = {
    "jurisdiction": "渠县",
    "as_of": "2026-09-01",
    "hukou": "rural",
    "standards": {"dibao_monthly": 700},
    "household": {
        "members": [{"relation": "self", "age": 40, "monthly_income": 1049, "employed": False}],
        "other_monthly_income": 0,
        "property_ok": True,
    },
}


def test_a_text_is_edited_in_one_place_and_changes_the_ruleset_version(tmp_path):
    kb = _policy_copy(tmp_path)
    before = ParameterSet(kb / "parameters", tmp_path / "overrides.json")
    path = kb / "explanations" / "dibao_edge.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["benefits"] = "低保边缘家庭可以申请专项救助（测试改写）。"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    after = ParameterSet(kb / "parameters", tmp_path / "overrides.json")
    assert after.explanations_dir == kb / "explanations"
    assert before.version != after.version
    edge = next(r for r in screen(REQUEST, pset=after)["results"] if r["program"] == "dibao_edge")
    assert edge["status"] == "likely"
    assert any(i["text"] == "低保边缘家庭可以申请专项救助（测试改写）。" for i in edge["explanation"])


def test_a_template_removed_from_the_data_fails_the_screen_loudly(tmp_path):
    kb = _policy_copy(tmp_path)
    path = kb / "explanations" / "dibao_edge.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["benefits"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ExplanationError, match="dibao_edge.benefits"):
        screen(REQUEST, pset=ParameterSet(kb / "parameters", tmp_path / "overrides.json"))


def _decide(pset: ParameterSet, request: dict, order) -> dict:
    context = ScreeningContext(Situation.from_dict(request), pset, get_explanations(EXPLANATIONS_DIR), PROGRAMS)
    for program in order:
        context.result(program)
    return {
        p: (
            context.result(p).status,
            context.result(p).explanation,
            context.result(p).missing,
            context.result(p).estimate,
        )
        for p in PROGRAMS
    }


def test_programs_can_be_decided_in_any_order(pset):
    """Each program asks for the results it builds on, so no order has to be kept by hand."""
    from tests.eligibility.test_elig_situations import SITUATIONS

    for situation in SITUATIONS:
        if situation.get("overrides"):
            continue
        request = {**situation["input"], "as_of": situation["input"].get("as_of", "2026-09-01")}
        forward = _decide(pset, request, list(PROGRAMS))
        assert _decide(pset, request, reversed(list(PROGRAMS))) == forward, situation["id"]


def test_a_program_that_depends_on_itself_is_refused(pset):
    def first(context):
        return context.result("second")

    def second(context):
        return context.result("first")

    context = ScreeningContext(
        Situation.from_dict(REQUEST), pset, Explanations(EXPLANATIONS_DIR), {"first": first, "second": second}
    )
    with pytest.raises(RuntimeError, match="depends on its own result"):
        context.result("first")
