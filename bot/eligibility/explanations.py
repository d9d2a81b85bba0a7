"""Explanation texts: the Chinese sentences of each trace, as templates in data.

Layout (``policy_kb/explanations/``, beside ``parameters/``): one YAML file per program
(plus ``common``, ``income``, ``answer`` and ``terms``), nested mappings of templates.
A template's key is the file name and the mapping path, joined by dots::

    # dibao_edge.yml
    benefits: 低保边缘家庭可以按需要申请医疗、教育、住房、就业等专项救助。
    →  text("dibao_edge.benefits")

Templates use ``str.format`` named placeholders (``{who}已成年。``). Everything fails
loudly: an unknown key, a placeholder without a value, a value the template does not
use (a template that lost its placeholder), or a malformed template at load time.
``terms.yml`` holds lookup tables (emergency kinds, disability types …) read with
``term(table, key)``.
"""

from __future__ import annotations

import string
import threading
from pathlib import Path
from typing import Any

import yaml


class ExplanationError(LookupError):
    """A missing or malformed explanation template, or values that do not fit it."""


def _fields(key: str, template: str) -> frozenset[str]:
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ExplanationError(f"explanation {key!r}: malformed template ({exc})") from None
    for _, name, _, _ in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise ExplanationError(f"explanation {key!r}: placeholder {{{name}}} must be a plain name")
        names.add(name)
    return frozenset(names)


class Explanations:
    """All templates of one folder, checked when loaded."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.templates: dict[str, str] = {}
        self.fields: dict[str, frozenset[str]] = {}
        # key -> (template, its placeholders, the text already rendered when it has none)
        self._compiled: dict[str, tuple[str, frozenset[str], str | None]] = {}
        self.terms: dict[str, dict[str, Any]] = {}
        files = sorted(self.folder.glob("*.yml"))
        if not files:
            raise FileNotFoundError(f"no explanation templates in {self.folder}")
        for path in files:
            data = yaml.safe_load(path.read_bytes()) or {}
            if path.stem == "terms":
                self.terms = self._check_terms(data)
            else:
                self._add(path.stem, data)

    def _add(self, prefix: str, node: object) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                self._add(f"{prefix}.{name}", child)
        elif isinstance(node, str):
            fields = self.fields[prefix] = _fields(prefix, node)
            self.templates[prefix] = node
            self._compiled[prefix] = (node, fields, None if fields else node.format())
        else:
            raise ExplanationError(f"explanation {prefix!r} in {self.folder}: expected text, got {node!r}")

    def _check_terms(self, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        for table, entries in data.items():
            if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
                raise ExplanationError(f"terms.yml in {self.folder}: {table} must map keys to words")
        return data

    def text(self, key: str, /, **values: object) -> str:
        compiled = self._compiled.get(key)
        if compiled is None:
            raise ExplanationError(f"no explanation template {key!r} in {self.folder}")
        template, fields, rendered = compiled
        if values.keys() != fields:
            missing, unused = fields - values.keys(), values.keys() - fields
            raise ExplanationError(
                f"explanation {key!r}: "
                + "; ".join(
                    part
                    for part in (
                        f"no value for {sorted(missing)}" if missing else "",
                        f"template does not use {sorted(unused)}" if unused else "",
                    )
                    if part
                )
            )
        return template.format(**values) if rendered is None else rendered

    def term(self, table: str, key: object) -> str:
        """A word from ``terms.yml``, e.g. ``term("emergency", "fire")`` → 火灾."""
        entries = self.terms.get(table)
        if not isinstance(entries, dict) or key not in entries:
            raise ExplanationError(f"no term {table}.{key} in {self.folder / 'terms.yml'}")
        return str(entries[key])  # every term is a string (checked when loaded)


def default_explanations_dir() -> Path:
    from bot.config import settings

    return Path(settings().policy_kb_dir) / "explanations"


_lock = threading.Lock()
_shared: dict[str, Explanations] = {}


def get_explanations(folder: Path | None = None) -> Explanations:
    """A cached ``Explanations`` per folder (templates change with a deploy, not at run time)."""
    key = str(Path(folder or default_explanations_dir()))
    hit = _shared.get(key)
    if hit is None:
        with _lock:
            hit = _shared.get(key)
            if hit is None:
                hit = _shared[key] = Explanations(Path(key))
    return hit
