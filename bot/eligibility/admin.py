"""Set local parameters (e.g. the county's 低保标准) for a deploying 民政 office.

CLI::

    python -m bot.eligibility.admin set --jurisdiction 渠县 --name dibao_monthly_urban \\
        --value 700 --effective 2026-01-01 --source "渠县民政局 …文号" --set-by 张三
    python -m bot.eligibility.admin list [--jurisdiction 渠县] [--as-of 2026-09-01]
    python -m bot.eligibility.admin history [--name dibao_monthly_urban] [--jurisdiction 渠县]

Plain functions for a web admin endpoint: ``set_parameter``, ``list_parameters``,
``parameter_history``. Values are validated (known parameter, unit, range, known
place, date); every change is appended to ``<data_dir>/eligibility_parameters.json``
with who set it, from what source and when — nothing is ever deleted; a later record
for the same parameter, place and date replaces the earlier one in force. ``--value null``
ends a value from the given date (the parameter is unset there from then on).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.eligibility.parameters import ParameterSet, clear_cache, default_overrides_path, default_parameters_dir
from bot.eligibility.units import NUMERIC_UNITS, UNIT_ZH, format_value
from bot.places import UnknownPlace, known_places, normalize_place

try:  # POSIX advisory lock so two admins can't interleave writes
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class AdminError(ValueError):
    """A rejected change; the message is Chinese and says what to fix."""


def _paths(data_dir: Path | str | None, params_dir: Path | str | None) -> tuple[Path, Path]:
    overrides = Path(data_dir) / "eligibility_parameters.json" if data_dir else default_overrides_path()
    return overrides, Path(params_dir) if params_dir else default_parameters_dir()


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"records": []}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8") or '{"records": []}')
    return data


def parse_value(raw: Any, unit: str, choices: tuple[str, ...] | None, rng: tuple[float, float] | None) -> Any:
    """Validate and convert a value for a parameter's unit (raises AdminError)."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("null", "none", "")):
        return None
    if unit in NUMERIC_UNITS:
        try:
            val = float(raw)
        except (TypeError, ValueError):
            raise AdminError(f"数值应当是数字，收到：{raw}") from None
        if val != val or val in (float("inf"), float("-inf")):
            raise AdminError("数值不正确")
        if rng and not rng[0] <= val <= rng[1]:
            raise AdminError(f"数值 {val:g} 超出允许范围 {rng[0]:g}–{rng[1]:g}{UNIT_ZH.get(unit, '')}")
        return int(val) if val.is_integer() else val
    if unit == "bool":
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "是"):
            return True
        if text in ("false", "0", "no", "否"):
            return False
        raise AdminError("应当是 true/false（是/否）")
    if unit == "enum":
        if raw not in (choices or ()):
            raise AdminError(f"取值应为 {'/'.join(choices or ())} 之一")
        return raw
    # Structured units: JSON text.
    try:
        structured: Any = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise AdminError('这个参数的值应当是 JSON，例如 {"1": 110, "2": 80}') from None
    if unit == "categories" and not (isinstance(structured, list) and all(isinstance(x, str) for x in structured)):
        raise AdminError("应当是项目名称的列表")
    if unit in ("grade_by_type", "yuan_per_person_month_by_grade"):
        if not isinstance(structured, dict) or not all(isinstance(v, (int, float)) for v in structured.values()):
            raise AdminError("应当是“类别或等级: 数值”的对象")
        if unit == "yuan_per_person_month_by_grade":
            structured = {int(k): v for k, v in structured.items()}
    return structured


def set_parameter(
    *,
    name: str,
    jurisdiction: str,
    value: Any,
    effective: str | date,
    source: str,
    set_by: str,
    note: str | None = None,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Validate and record a local parameter value; returns the stored record."""
    overrides_path, pdir = _paths(data_dir, params_dir)
    pset = ParameterSet(pdir, overrides_path)
    param = pset.parameters.get(name)
    if param is None:
        raise AdminError(f"不认识的参数：{name}。可用参数：{'、'.join(sorted(pset.parameters))}")
    try:
        place = normalize_place(jurisdiction)
    except UnknownPlace:
        raise AdminError(f"未知的地区：{jurisdiction}。可用：{'、'.join(known_places())}") from None
    try:
        eff = effective if isinstance(effective, date) else date.fromisoformat(str(effective))
    except ValueError:
        raise AdminError(f"生效日期格式应为 YYYY-MM-DD，收到：{effective}") from None
    if not date(2014, 1, 1) <= eff <= date(2100, 1, 1):
        raise AdminError("生效日期超出范围（2014 年以后）")
    if not source or len(source.strip()) < 4:
        raise AdminError("请写明依据（文件名称和文号，或公布网址）")
    if not set_by or not set_by.strip():
        raise AdminError("请写明录入人")
    parsed = parse_value(value, param.unit, param.choices, param.range)
    before = pset.get(name, place, eff)
    record = {
        "name": name,
        "jurisdiction": place,
        "value": parsed,
        "unit": param.unit,
        "effective": eff.isoformat(),
        "source": source.strip(),
        "set_by": set_by.strip(),
        "set_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": note,
        "previous": {"value": before.value, "set_in": before.place, "origin": before.origin},
    }
    overrides_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = overrides_path.with_suffix(".lock")
    with open(lock_path, "w") as lock:
        if fcntl:
            fcntl.flock(lock, fcntl.LOCK_EX)
        data = _read(overrides_path)
        data["records"].append(record)
        fd, tmp = tempfile.mkstemp(dir=overrides_path.parent, prefix=".elig-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, default=str)
        os.replace(tmp, overrides_path)
    clear_cache()
    return record


def list_parameters(
    *,
    jurisdiction: str = "全国",
    as_of: str | date | None = None,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> list[dict[str, Any]]:
    """Every parameter as it resolves in a place on a date, with where the value comes from."""
    overrides_path, pdir = _paths(data_dir, params_dir)
    pset = ParameterSet(pdir, overrides_path)
    try:
        place = normalize_place(jurisdiction)
    except UnknownPlace:
        raise AdminError(f"未知的地区：{jurisdiction}") from None
    day = as_of if isinstance(as_of, date) else (date.fromisoformat(as_of) if as_of else date.today())
    rows = []
    for name in sorted(pset.parameters):
        r = pset.get(name, place, day)
        rows.append(
            {
                "name": name,
                "label": r.label,
                "unit": r.unit,
                "value": r.value,
                "display": format_value(r.value, r.unit),
                "origin": r.origin,
                "set_in": r.place,
                "effective": r.effective.isoformat() if r.effective else None,
                "source": (r.citation or {}).get("title"),
            }
        )
    return rows


def parameter_history(
    *, name: str | None = None, jurisdiction: str | None = None, data_dir: Path | str | None = None
) -> list[dict[str, Any]]:
    """All recorded changes, oldest first, optionally for one parameter and place."""
    overrides_path, _ = _paths(data_dir, None)
    place = normalize_place(jurisdiction) if jurisdiction else None
    return [
        r
        for r in _read(overrides_path)["records"]
        if (name is None or r["name"] == name) and (place is None or r["jurisdiction"] == place)
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.eligibility.admin", description="设置和查看本地救助参数")
    ap.add_argument("--data-dir", help="数据目录（默认 JZ_DATA_DIR）")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("set", help="设置一个本地参数")
    s.add_argument("--jurisdiction", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--value", required=True, help="数值；null 表示从该日起不再设置")
    s.add_argument("--effective", required=True, help="生效日期 YYYY-MM-DD")
    s.add_argument("--source", required=True, help="依据：文件名称、文号或网址")
    s.add_argument("--set-by", required=True, help="录入人")
    s.add_argument("--note")
    ls = sub.add_parser("list", help="列出某地某日的参数取值")
    ls.add_argument("--jurisdiction", default="全国")
    ls.add_argument("--as-of")
    h = sub.add_parser("history", help="查看录入记录")
    h.add_argument("--name")
    h.add_argument("--jurisdiction")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "set":
            rec = set_parameter(
                name=args.name,
                jurisdiction=args.jurisdiction,
                value=args.value,
                effective=args.effective,
                source=args.source,
                set_by=args.set_by,
                note=args.note,
                data_dir=args.data_dir,
            )
            print(
                f"已录入：{rec['jurisdiction']} {rec['name']} = {format_value(rec['value'], rec['unit'])}，"
                f"自 {rec['effective']} 起，依据：{rec['source']}，录入人：{rec['set_by']}（{rec['set_at']}）"
            )
        elif args.cmd == "list":
            for row in list_parameters(jurisdiction=args.jurisdiction, as_of=args.as_of, data_dir=args.data_dir):
                where = f"{row['set_in']} {row['effective']}" if row["set_in"] else "—"
                print(f"{row['name']:40s} {row['display']:>14s}  [{row['origin']}; {where}] {row['label']}")
        else:
            for rec in parameter_history(name=args.name, jurisdiction=args.jurisdiction, data_dir=args.data_dir):
                print(json.dumps(rec, ensure_ascii=False))
    except AdminError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
