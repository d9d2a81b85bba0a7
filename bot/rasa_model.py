"""Trains the Rasa model only when its inputs change.

The model is cached outside the work tree (so a fresh clone on the same
machine reuses it), keyed on a hash of everything that shapes it: the
pipeline config, the domain, the training data, the jieba user dictionary
and the Rasa environment's lock file.
Usage: `python -m bot.rasa_model [--force]` prints the model path.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.config import PROJECT_ROOT

MODEL_INPUTS = ("config.yml", "domain", "data", "policy_kb/vocab/jieba", "requirements/rasa.lock", "nlu_components")
RASA_VENV = Path(os.environ.get("JZ_RASA_VENV", PROJECT_ROOT / ".venv-rasa"))
CACHE_DIR = Path(
    os.environ.get("JZ_MODEL_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jiuzhu-assistant" / "models"
)


def rasa_bin() -> Path:
    return RASA_VENV / "bin" / "rasa"


def rasa_env() -> dict[str, str]:
    """Environment for Rasa processes: quiet TensorFlow, SQLAlchemy 1.4 warnings off."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def _model_bytes(f: Path) -> bytes:
    """What of a file shapes the model. Of a lock, only its `name==version` pins: the hashes
    beside them (and comments) change when a release adds a wheel, the installed code does not.
    """
    if f.suffix != ".lock":
        return f.read_bytes()
    pins = (line.split()[0] for line in f.read_text(encoding="utf-8").splitlines() if "==" in line.split("#")[0])
    return "\n".join(sorted(pins)).encode()


def inputs_hash(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if not f.exists() or "__pycache__" in f.parts:
                continue
            digest.update(str(f.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(_model_bytes(f))
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def ensure_model(force: bool = False, root: Path = PROJECT_ROOT) -> Path:
    """Path of a trained model for the current inputs, training it if needed."""
    key = inputs_hash(root)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cached = CACHE_DIR / f"{key}.tar.gz"
    if cached.exists() and not force:
        return cached
    # One training per input hash: a second caller (another test worker, `make run` beside
    # `make test`) waits for the first and takes its model instead of training it again.
    with open(CACHE_DIR / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists() and not force:
            return cached
        _train(key, cached, root)
    return cached


def _train(key: str, cached: Path, root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rasa-train-") as out:
        cmd = [
            str(rasa_bin()),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain",
            "--data",
            "data",
            "--out",
            out,
            "--fixed-model-name",
            key,
            "--augmentation",
            "0",
        ]
        print(f"training the Rasa model ({key}); this takes a few minutes…", flush=True)
        subprocess.run(cmd, cwd=root, env=rasa_env(), check=True)
        produced = Path(out) / f"{key}.tar.gz"
        tmp = cached.with_suffix(".partial")
        shutil.move(produced, tmp)
        tmp.rename(cached)  # atomic: a half-written model is never picked up


if __name__ == "__main__":
    print(ensure_model(force="--force" in sys.argv[1:]))
