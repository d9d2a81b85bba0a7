"""Run a test's script in Rasa's own environment (Python 3.10, .venv-rasa), as Rasa would
import our Rasa-side modules: the project on the path, a data folder of the test's own."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.rasa_model import RASA_VENV, rasa_env


def run_rasa_script(script: str, *args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """The finished process (stdout and stderr as text); fails the test unless it exited 0."""
    run = subprocess.run(
        [str(RASA_VENV / "bin" / "python"), "-c", script, *args],
        cwd=PROJECT_ROOT,
        env=rasa_env() | {"JZ_DATA_DIR": str(data_dir), "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run
