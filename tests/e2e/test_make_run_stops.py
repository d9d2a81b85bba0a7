"""`make run` (python -m bot.stack) stops everything it started, however it is stopped: Ctrl-C
or SIGTERM in the middle of start-up (Rasa still loading) or once it runs. The servers run in
sessions of their own, so a stop that skipped them left them holding the ports, and the next
`make run` could not start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from bot.config import PROJECT_ROOT
from bot.rasa_model import ensure_model
from bot.stack import free_port
from tests.support.sockets import listening_addresses

pytestmark = pytest.mark.e2e


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(
    "stop_signal, when", [(signal.SIGINT, "starting"), (signal.SIGTERM, "starting"), (signal.SIGINT, "running")]
)
def test_make_run_leaves_no_server_behind(tmp_path, stop_signal, when):
    ensure_model()
    ports = {"rasa": free_port(), "actions": free_port(), "service": free_port()}
    env = dict(
        os.environ,
        JZ_DATA_DIR=str(tmp_path),
        JZ_RASA_PORT=str(ports["rasa"]),
        JZ_ACTION_PORT=str(ports["actions"]),
        JZ_SERVICE_PORT=str(ports["service"]),
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "bot.stack"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        # "starting": the action server answers, Rasa not yet; "running": Rasa answers too.
        ready = f"http://127.0.0.1:{ports['actions']}/health" if when == "starting" else None
        while time.monotonic() < deadline and run.poll() is None:
            if ready and _up(ready):
                break
            if not ready and _up(f"http://127.0.0.1:{ports['rasa']}/"):
                break
            time.sleep(0.2)
        if when == "starting":
            assert not _up(f"http://127.0.0.1:{ports['rasa']}/"), "Rasa was already up: not a stop during start-up"
        run.send_signal(stop_signal)
        out, _ = run.communicate(timeout=90)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, out[-2000:]
    assert "stopped." in out
    still = [name for name, port in ports.items() if listening_addresses(port)]
    assert still == [], f"still listening after the stop: {still}"
