"""Derived data of the knowledge base kept between runs, so a start whose inputs are unchanged
skips rebuilding it.

Cutting every provision with jieba (the search's BM25 corpora) and building the cards' index
(features, the classifier's fit, pinyin) take seconds on this machine, and the service starts
often: every restart, and about fifteen times in the test suite. Each is stored once per set of
inputs, outside the work tree as the Rasa model cache is (bot/rasa_model.py): under
$JZ_KB_CACHE, by default ~/.cache/jiuzhu-assistant.

- The key is a hash of exactly what shapes the stored data: the input files (names and bytes),
  the source of the modules whose code computes it, the versions of the libraries whose output
  it holds, the Python version (unicodedata's NFKC) and FORMAT (how an entry is laid out).
- An entry is one .npz file of plain numpy arrays and a JSON document: no pickle, so reading one
  runs no code and needs no scikit-learn. It is written to a temporary file and renamed into
  place (os.replace), so a reader never sees half of one; an entry that cannot be read is logged
  and rebuilt. The newest KEEP entries of each kind are kept, older ones removed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bot.vocab import USERDICT_RELPATH

FORMAT = 1  # bump when the layout of an entry changes without a change to the modules hashed
KEEP = 4  # entries of each kind kept (one kind's entry can be 60 MB)
STALE_TEMP_SECONDS = 3600  # a temporary file this old was left by a writer that died
# What the vocabulary is read from (bot/vocab.py: load_vocabulary, configure_jieba), relative to
# the knowledge-base folder; tests/kb/test_derived.py checks that no other file lives there.
VOCABULARY_FILES = ("vocab/synonyms.yml", "vocab/topics.yml", USERDICT_RELPATH.as_posix())
_META = "__meta__"

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_dir(kind: str = "embeddings") -> Path:
    """Where derived data of the knowledge base is kept between runs (outside the work tree)."""
    root = (
        os.environ.get("JZ_KB_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jiuzhu-assistant"
    )
    path = Path(root) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Entry:
    """What is stored: named numpy arrays and a JSON-serialisable document."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def inputs_key(kb_dir: Path, files: Iterable[Path], modules: Iterable[str], packages: Iterable[str]) -> str:
    """Hash of the input files (named relative to kb_dir), the modules' source and the packages' versions."""
    digest = hashlib.sha256(f"format {FORMAT}\0python {platform.python_version()}\0".encode())
    for path in files:
        digest.update(Path(path).relative_to(kb_dir).as_posix().encode() + b"\0")
        digest.update(Path(path).read_bytes() + b"\0")
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(name)
        digest.update(name.encode() + b"\0" + Path(spec.origin).read_bytes() + b"\0")
    for package in packages:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{package}=={version}\0".encode())
    return digest.hexdigest()[:24]


def cached(
    kind: str,
    key_of: Callable[[], str],
    build: Callable[[], T],
    save: Callable[[T], Entry],
    restore: Callable[[Entry], T],
) -> T:
    """restore(the stored entry) when there is a readable one for the inputs' key, else build()
    and store save() of it (unless the inputs changed while it was built)."""
    key = key_of()
    try:
        path = cache_dir("index") / f"{kind}-{key}.npz"
    except OSError as exc:
        log.warning("no knowledge-base cache (%s); building the %s index without one", exc, kind)
        return build()
    if path.exists():
        try:
            value = restore(_read(path, key))
            _touch(path)
            return value
        except Exception as exc:  # any damage to a file of our own is a reason to rebuild, never to fail
            log.warning("knowledge-base cache %s unreadable (%s: %s); rebuilding it", path, type(exc).__name__, exc)
    value = build()
    if key_of() != key:  # an input file was rewritten meanwhile: what was built may be of either
        return value
    try:
        _write(path, key, save(value))
        _prune(path.parent, kind)
    except Exception as exc:  # a full disk, a read-only cache: the next start builds again
        log.warning("knowledge-base cache %s not written (%s: %s)", path, type(exc).__name__, exc)
    return value


def _read(path: Path, key: str) -> Entry:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("key") != key:
        raise ValueError(f"entry is for key {meta.get('key') if isinstance(meta, dict) else None!r}")
    return Entry(arrays, meta["data"])


def _write(path: Path, key: str, entry: Entry) -> None:
    meta = json.dumps({"key": key, "data": entry.meta}, ensure_ascii=False).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, allow_pickle=False, **entry.arrays, **{_META: np.frombuffer(meta, dtype=np.uint8)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _touch(path: Path) -> None:
    """An entry read counts as new: pruning removes the least recently used."""
    try:
        os.utime(path)
    except OSError:
        pass


def _prune(folder: Path, kind: str) -> None:
    entries = sorted(folder.glob(f"{kind}-*.npz"), key=_mtime, reverse=True)
    stale = [p for p in folder.glob(f".{kind}-*.tmp") if time.time() - _mtime(p) > STALE_TEMP_SECONDS]
    for old in entries[KEEP:] + stale:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another process pruning
        return 0.0
