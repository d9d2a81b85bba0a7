"""Each server of the stack, once started, keeps what start-up built out of full garbage
collections (bot/start_up_objects.py), and says how many objects it froze: for Rasa, its
loaded model, about half a million."""

from __future__ import annotations

import re
import time

FROZE = re.compile(r"start-up objects kept out of full garbage collections: (\d+)")


def frozen_by(process, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        found = [int(n) for n in FROZE.findall(process.log_path.read_text(errors="replace"))]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_every_server_freezes_what_its_start_up_built(stack):
    frozen = {name: frozen_by(stack.processes[name]) for name in ("rasa", "service", "actions")}
    assert all(frozen.values()), frozen
    assert min(frozen["rasa"]) > 200_000  # the model is loaded before the freeze
    assert min(frozen["service"]) > 50_000  # and the knowledge base, warmed up
    assert min(frozen["actions"]) > 10_000


def test_an_app_made_in_a_test_process_freezes_nothing(tmp_path):
    import gc

    from fastapi.testclient import TestClient

    from bot.config import Settings
    from bot.service.app import create_app

    before = gc.get_freeze_count()
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == before
