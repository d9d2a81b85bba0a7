"""The admin CLI and its plain functions: validation, recording who/what/when, list, history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.eligibility.admin import AdminError, list_parameters, main, parameter_history, set_parameter

PROJECT = Path(__file__).resolve().parents[2]


def _set(tmp_path, **kw):
    args = dict(
        name="dibao_monthly_urban",
        jurisdiction="渠县",
        value="700",
        effective="2026-01-01",
        source="渠县民政局 渠民发〔2026〕1号",
        set_by="张三",
        data_dir=tmp_path,
    )
    args.update(kw)
    return set_parameter(**args)


def test_set_records_who_source_and_when(tmp_path):
    rec = _set(tmp_path)
    assert rec["value"] == 700 and rec["jurisdiction"] == "渠县" and rec["set_by"] == "张三"
    assert rec["source"].startswith("渠县民政局") and rec["set_at"] and rec["previous"]["origin"] == "unset"
    stored = json.loads((tmp_path / "eligibility_parameters.json").read_text(encoding="utf-8"))
    assert stored["records"][0]["effective"] == "2026-01-01"


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"name": "no_such"}, "不认识的参数"),
        ({"jurisdiction": "火星"}, "未知的地区"),
        ({"value": "abc"}, "应当是数字"),
        ({"value": "-5"}, "超出允许范围"),
        ({"value": "99999"}, "超出允许范围"),
        ({"effective": "2026-13-01"}, "日期格式"),
        ({"effective": "1999-01-01"}, "超出范围"),
        ({"source": ""}, "依据"),
        ({"set_by": " "}, "录入人"),
        ({"name": "residence_permit_application", "value": "maybe"}, "true/false"),
        ({"name": "temporary_assistance_method", "value": "guess"}, "取值应为"),
    ],
)
def test_set_rejects_bad_input(tmp_path, kw, needle):
    with pytest.raises(AdminError) as exc:
        _set(tmp_path, **kw)
    assert needle in str(exc.value)
    assert not (tmp_path / "eligibility_parameters.json").exists()


def test_list_and_history(tmp_path):
    _set(tmp_path)
    _set(tmp_path, value="720", effective="2027-01-01", set_by="李四")
    rows = {r["name"]: r for r in list_parameters(jurisdiction="渠县", as_of="2026-06-01", data_dir=tmp_path)}
    assert rows["dibao_monthly_urban"]["value"] == 700 and rows["dibao_monthly_urban"]["origin"] == "local_override"
    assert rows["dibao_edge_multiplier"]["value"] == 1.5 and rows["dibao_edge_multiplier"]["set_in"] == "渠县"
    rows27 = {r["name"]: r for r in list_parameters(jurisdiction="渠县", as_of="2027-06-01", data_dir=tmp_path)}
    assert rows27["dibao_monthly_urban"]["value"] == 720
    hist = parameter_history(name="dibao_monthly_urban", jurisdiction="渠县", data_dir=tmp_path)
    assert [h["set_by"] for h in hist] == ["张三", "李四"]


def test_null_value_ends_a_local_value(tmp_path):
    _set(tmp_path)
    rec = _set(tmp_path, value="null", effective="2026-07-01")
    assert rec["value"] is None and rec["previous"]["value"] == 700
    rows = {r["name"]: r for r in list_parameters(jurisdiction="渠县", as_of="2026-08-01", data_dir=tmp_path)}
    assert rows["dibao_monthly_urban"]["value"] is None


def test_cli_main(tmp_path, capsys):
    code = main(
        [
            "--data-dir",
            str(tmp_path),
            "set",
            "--jurisdiction",
            "渠县",
            "--name",
            "dibao_monthly_urban",
            "--value",
            "700",
            "--effective",
            "2026-01-01",
            "--source",
            "渠县民政局 测试文号",
            "--set-by",
            "张三",
        ]
    )
    assert code == 0 and "已录入" in capsys.readouterr().out
    assert (
        main(
            [
                "--data-dir",
                str(tmp_path),
                "set",
                "--jurisdiction",
                "火星",
                "--name",
                "dibao_monthly_urban",
                "--value",
                "700",
                "--effective",
                "2026-01-01",
                "--source",
                "x 测试文号",
                "--set-by",
                "张三",
            ]
        )
        == 2
    )
    assert "未知的地区" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "list", "--jurisdiction", "渠县", "--as-of", "2026-02-01"]) == 0
    assert "local_override" in capsys.readouterr().out
    assert main(["--data-dir", str(tmp_path), "history"]) == 0
    assert "张三" in capsys.readouterr().out


def test_cli_as_module_uses_jz_data_dir(tmp_path):
    env = {**os.environ, "JZ_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.eligibility.admin",
            "set",
            "--jurisdiction",
            "会宁",
            "--name",
            "dibao_monthly_urban",
            "--value",
            "760",
            "--effective",
            "2026-01-01",
            "--source",
            "会宁县民政局 公告",
            "--set-by",
            "王五",
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "eligibility_parameters.json").exists()
