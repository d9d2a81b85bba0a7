"""Parameters: dated, sourced values per jurisdiction, read "as of" a date.

Layout (``policy_kb/parameters/``)::

    _clauses.yml     clause id   -> provision quoted (an id in policy_kb/provisions.jsonl),
                     clause label, span (its verbatim words); ``document`` instead of
                     ``provision`` for a source with no provisions (a figures table)
    _rules.yml       rule concept -> {place: [{effective, ref}]}  (which clause a rule rests on)
    <concept>/<name>.yml
                     one parameter: name, label, unit, [description, range, choices,
                     user_override], values: {place: [{effective, value, reference: {ref, ...}}]}

Documents are not recorded here: every document field of a citation (title, issuer, date,
jurisdiction, authority, source) comes from the one document registry beside this folder,
``policy_kb/documents.yml`` (``bot.kb.documents``), whose ids the provisions carry. That each
span is really in its provision is checked by ``python -m bot.kb.build --check``.

A parameter's id is its ``name``; the file is named after it, leaving out the concept
folder's name where the id begins with it (``tekun/elderly_age.yml`` holds
``tekun_elderly_age``, ``income/minimum_wage_monthly.yml`` holds ``minimum_wage_monthly``).

Resolution (``ParameterSet.get(name, place, as_of)``): walk
``bot.places.jurisdiction_path(place)`` from the most specific place up to 全国; the
first place with an entry in force on ``as_of`` wins, and at that place the newest
entry in force wins. A ``null`` value there means "unset": the walk stops and the
parameter has no value (it does not fall back to a parent).

Local overrides set by a deploying office (``bot.eligibility.admin``) live in
``<data_dir>/eligibility_parameters.json`` and are layered over the YAML: an override
adds an entry at its place and date (replacing a YAML entry of the same date).

``version`` digests everything that shapes an answer: the parameter files, the document
registry, this package's code, the explanation texts (``policy_kb/explanations/``, beside
the parameters) and the overrides.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.eligibility.units import format_value
from bot.kb.documents import DOCUMENTS_FILE, Document, cited_document, document_of, load_documents
from bot.places import jurisdiction_path, normalize_place

ENGINE_VERSION = "1.0.0"
OVERRIDES_FILENAME = "eligibility_parameters.json"
PACKAGE_DIR = Path(__file__).resolve().parent


def default_parameters_dir() -> Path:
    from bot.config import settings

    return Path(settings().policy_kb_dir) / "parameters"


def default_overrides_path() -> Path:
    from bot.config import settings

    return Path(settings().data_dir) / OVERRIDES_FILENAME


@dataclass(frozen=True)
class Entry:
    effective: date
    value: Any
    place: str
    ref: str | None = None  # clause id for YAML entries
    origin: str = "policy_kb"  # "policy_kb" | "local_override"
    note: str | None = None
    source: str | None = None  # overrides: the office's document
    set_by: str | None = None
    set_at: str | None = None


@dataclass
class Parameter:
    name: str
    label: str
    unit: str
    description: str = ""
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    user_override: tuple[str, ...] = ()
    entries: dict[str, list[Entry]] = field(default_factory=dict)  # place -> sorted by effective


@dataclass(frozen=True)
class Resolved:
    """A parameter's value as of a date in a place, with where it came from."""

    name: str
    value: Any
    unit: str
    label: str
    place: str | None  # place whose entry decided (None: no entry anywhere)
    effective: date | None
    origin: str  # "policy_kb" | "local_override" | "user" | "unset"
    citation: dict[str, Any] | None  # a bot.kb.citation.Citation's fields

    @property
    def is_set(self) -> bool:
        return self.value is not None


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class ParameterSet:
    """All parameters, the clause catalogue and the rule-citation table, plus overrides."""

    def __init__(
        self, params_dir: Path | None = None, overrides_path: Path | None = None, explanations_dir: Path | None = None
    ):
        self.params_dir = Path(params_dir or default_parameters_dir())
        self.overrides_path = Path(overrides_path) if overrides_path else default_overrides_path()
        self.explanations_dir = Path(explanations_dir) if explanations_dir else self.params_dir.parent / "explanations"
        self.kb_dir = self.params_dir.parent  # holds documents.yml, the document registry
        self.documents: dict[str, Document] = {}  # id -> registry entry (documents.yml)
        self.clauses: dict[str, dict[str, Any]] = {}  # id -> _clauses.yml entry
        self.rules: dict[str, dict[str, list[tuple[date, str]]]] = {}
        self.parameters: dict[str, Parameter] = {}
        self.parameter_files: dict[str, Path] = {}  # id -> its YAML file
        self.override_records: list[dict[str, Any]] = []  # the overrides file's records (JSON)
        self._cache: dict[tuple[str, str, date], Resolved] = {}  # (name, place, as_of)
        self._cite_cache: dict[str, dict[str, Any]] = {}
        self._rule_cache: dict[tuple[str, str, date], dict[str, Any] | None] = {}  # (concept, place, as_of)
        self._load()

    # ---------------------------------------------------------------- loading
    def _load(self) -> None:
        digest = hashlib.sha256()
        files = sorted(self.params_dir.rglob("*.yml"))
        if not files:
            raise FileNotFoundError(f"no parameter files in {self.params_dir}")
        registry = self.kb_dir / DOCUMENTS_FILE
        if not registry.is_file():
            raise FileNotFoundError(f"{registry}: the document registry the clauses refer to is missing")
        digest.update(DOCUMENTS_FILE.encode() + b"\0" + registry.read_bytes())
        self.documents = {doc["id"]: doc for doc in load_documents(self.kb_dir)}
        for path in files:
            relative = path.relative_to(self.params_dir).as_posix()
            raw = path.read_bytes()
            digest.update(relative.encode() + b"\0" + raw)
            data = yaml.safe_load(raw) or {}
            if relative == "_clauses.yml":
                self.clauses = data
            elif relative == "_rules.yml":
                for concept, by_place in data.items():
                    self.rules[concept] = {
                        normalize_place(place): sorted((_as_date(e["effective"]), e["ref"]) for e in entries)
                        for place, entries in by_place.items()
                    }
            elif not path.name.startswith("_"):
                self._load_parameter(path, data)
        for root, pattern in ((PACKAGE_DIR, "*.py"), (self.explanations_dir, "*.yml")):
            for shaping in sorted(root.rglob(pattern)):
                digest.update(shaping.relative_to(root).as_posix().encode() + b"\0" + shaping.read_bytes())
        if self.overrides_path.exists():
            raw = self.overrides_path.read_bytes()
            digest.update(b"overrides\0" + raw)
            self.override_records = json.loads(raw.decode("utf-8") or "{}").get("records", [])
            self._apply_overrides()
        self.version = f"{ENGINE_VERSION}+{digest.hexdigest()[:12]}"
        self._check_refs()

    def _load_parameter(self, path: Path, data: dict[str, Any]) -> None:
        relative = path.relative_to(self.params_dir)
        where = relative.as_posix()
        if len(relative.parts) > 2:
            raise ValueError(f"{where}: a parameter file goes in one concept folder, not deeper")
        # The file is named after the id, less the folder's name where the id begins with it.
        allowed = [f"{relative.parts[0]}_{path.stem}"] if len(relative.parts) == 2 else []
        allowed.append(path.stem)
        name = data.get("name") or allowed[0]
        if name not in allowed:
            raise ValueError(f"{where}: name {name!r} differs from the file name (expected {' or '.join(allowed)})")
        if name in self.parameter_files:
            raise ValueError(f"{where}: parameter {name!r} is also defined in {self.parameter_files[name]}")
        for key in ("label", "unit", "values"):
            if key not in data:
                raise ValueError(f"{where}: missing {key}")
        rng = data.get("range")
        param = Parameter(
            name=name,
            label=data["label"],
            unit=data["unit"],
            description=data.get("description", ""),
            range=(float(rng[0]), float(rng[1])) if rng else None,
            choices=tuple(data["choices"]) if data.get("choices") else None,
            user_override=tuple(data.get("user_override") or ()),
        )
        for place, entries in (data.get("values") or {}).items():
            canonical = normalize_place(place)
            items = []
            for e in entries:
                ref = (e.get("reference") or {}).get("ref")
                items.append(
                    Entry(
                        effective=_as_date(e["effective"]),
                        value=e.get("value"),
                        place=canonical,
                        ref=ref,
                        note=(e.get("reference") or {}).get("note"),
                    )
                )
            param.entries[canonical] = sorted(items, key=lambda x: x.effective)
        self.parameters[name] = param
        self.parameter_files[name] = path

    def _apply_overrides(self) -> None:
        active: dict[tuple[str, str, str], dict[str, Any]] = {}  # (name, place, effective)
        for rec in self.override_records:  # later records win
            active[(rec["name"], rec["jurisdiction"], rec["effective"])] = rec
        for (name, place, eff), rec in active.items():
            param = self.parameters.get(name)
            if param is None:
                continue  # a parameter that no longer exists; `admin list` reports it
            entry = Entry(
                effective=_as_date(eff),
                value=rec["value"],
                place=place,
                origin="local_override",
                source=rec.get("source"),
                set_by=rec.get("set_by"),
                set_at=rec.get("set_at"),
                note=rec.get("note"),
            )
            kept = [e for e in param.entries.get(place, []) if e.effective != entry.effective]
            param.entries[place] = sorted(kept + [entry], key=lambda x: x.effective)

    def clause_document(self, clause_id: str) -> Document:
        """The registry entry of the document a clause quotes."""
        clause = self.clauses[clause_id]
        return self.documents[clause.get("document") or document_of(clause["provision"])]

    def _check_refs(self) -> None:
        for cid, clause in self.clauses.items():
            if bool(clause.get("provision")) == bool(clause.get("document")):
                raise ValueError(f"clause {cid}: name a provision (or, for a source with no provisions, a document)")
            if not clause.get("clause") or not clause.get("span"):
                raise ValueError(f"clause {cid}: needs clause and span")
            did = clause.get("document") or document_of(clause["provision"])
            if did not in self.documents:
                raise ValueError(f"clause {cid}: unknown document {did} (not in {DOCUMENTS_FILE})")
            cited_document(self.documents[did])  # raises if the registry lacks the citation fields
        for param in self.parameters.values():
            for entries in param.entries.values():
                for e in entries:
                    if e.origin == "policy_kb" and e.ref not in self.clauses:
                        raise ValueError(f"parameter {param.name}: unknown clause {e.ref}")
        for concept, by_place in self.rules.items():
            for dated_refs in by_place.values():
                for _, ref in dated_refs:
                    if ref not in self.clauses:
                        raise ValueError(f"rule {concept}: unknown clause {ref}")

    # ---------------------------------------------------------------- citations
    def citation(self, clause_id: str) -> dict[str, Any]:
        """A clause's citation (``bot.kb.citation.Citation``): its document's fields from the
        registry, the clause label and the quoted span."""
        cached = self._cite_cache.get(clause_id)
        if cached is None:
            clause = self.clauses[clause_id]
            doc = cited_document(self.clause_document(clause_id))
            cached = {
                "title": doc["title"],
                "clause": clause["clause"],
                "issuer": doc["issuer"],
                "date": doc["date"],
                "jurisdiction": doc["jurisdiction"],
                "status": doc["status"],
                "source": doc["source"],
                "text": clause["span"],
            }
            self._cite_cache[clause_id] = cached
        return cached

    def _entry_citation(self, param: Parameter, entry: Entry) -> dict[str, Any]:
        if entry.origin == "local_override":
            return {
                "title": entry.source or "部署地民政部门录入的本地参数",
                "clause": "",
                "issuer": f"{entry.place}（由 {entry.set_by} 录入）",
                "date": entry.effective.isoformat(),
                "jurisdiction": entry.place,
                "status": f"部署地录入的本地参数，录入时间 {entry.set_at}",
                "source": entry.source or "",
                "text": f"{param.label}：{format_value(entry.value, param.unit)}，自 {entry.effective.isoformat()} 起执行",
            }
        assert entry.ref is not None, "a policy_kb entry names its clause (_check_refs)"
        return self.citation(entry.ref)

    def rule_citation(self, concept: str, place: str, as_of: date) -> dict[str, Any] | None:
        key = (concept, place, as_of)
        if key in self._rule_cache:
            return self._rule_cache[key]
        result = None
        by_place = self.rules.get(concept, {})
        for p in jurisdiction_path(place):
            entries = by_place.get(p)
            if not entries:
                continue
            in_force = [ref for eff, ref in entries if eff <= as_of]
            if in_force:
                result = self.citation(in_force[-1])
                break
        self._rule_cache[key] = result
        return result

    # ---------------------------------------------------------------- lookup
    def get(self, name: str, place: str, as_of: date) -> Resolved:
        key = (name, place, as_of)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        param = self.parameters[name]
        resolved = Resolved(name, None, param.unit, param.label, None, None, "unset", None)
        for p in jurisdiction_path(place):
            entries = param.entries.get(p)
            if not entries:
                continue
            in_force = [e for e in entries if e.effective <= as_of]
            if not in_force:
                continue
            entry = in_force[-1]
            resolved = Resolved(
                name,
                entry.value,
                param.unit,
                param.label,
                p,
                entry.effective,
                entry.origin if entry.value is not None else "unset",
                self._entry_citation(param, entry),
            )
            break
        self._cache[key] = resolved
        return resolved


# ------------------------------------------------------------------ shared instance
_lock = threading.Lock()
_shared: dict[tuple[str, str], tuple[tuple[int, int], ParameterSet]] = {}  # dirs -> (overrides' stamp, set)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        return (0, 0)


def get_parameters(params_dir: Path | None = None, overrides_path: Path | None = None) -> ParameterSet:
    """A cached ParameterSet, reloaded when the overrides file changes."""
    params_dir = Path(params_dir or default_parameters_dir())
    overrides_path = Path(overrides_path) if overrides_path else default_overrides_path()
    key = (str(params_dir), str(overrides_path))
    stamp = _stamp(overrides_path)
    hit = _shared.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with _lock:
        hit = _shared.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        pset = ParameterSet(params_dir, overrides_path)
        _shared[key] = (stamp, pset)
        return pset


def clear_cache() -> None:
    _shared.clear()
