"""An urgent report survives a service restart mid-flow: the service is killed
with SIGKILL while the bot is reporting, restarted, and the bot's retry with the
same idempotency key ends with exactly one case."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.stack import free_port
from tests.cases.conftest import BOT_TOKEN

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e  # the service as a real process, killed and restarted


class Service:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "JZ_DATA_DIR": str(self.data_dir), "JZ_BOT_TOKEN": BOT_TOKEN, "JZ_DATABASE_URL": ""}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bot.service.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.data_dir / "service.log", "ab"),  # noqa: SIM115 (the child process keeps it)
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, (self.data_dir / "service.log").read_text()
            time.sleep(0.1)
        raise RuntimeError("service did not start")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def report(url: str, key: str, timeout: float = 3.0) -> httpx.Response:
    body = {
        "type": "urgent",
        "channel": "web",
        "sender_id": f"conv-{key}",
        "jurisdiction": "达州",
        "summary": "家中突发火灾，无处居住",
        "transcript": [{"role": "resident", "text": "房子烧了，一家人没地方住"}],
    }
    return httpx.post(
        f"{url}/v1/cases",
        json=body,
        timeout=timeout,
        headers={"Authorization": f"Bearer {BOT_TOKEN}", "Idempotency-Key": key},
    )


def report_with_retries(svc: Service, key: str) -> httpx.Response:
    """What the action does: retry with the same key while the service is unreachable."""
    for _ in range(100):
        try:
            return report(svc.url, key)
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the service never came back")


def count_cases(data_dir: Path, key: str | None = None) -> int:
    with sqlite3.connect(data_dir / "service.db") as conn:
        if key is None:
            return conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        return conn.execute("SELECT count(*) FROM cases WHERE idempotency_key=?", (key,)).fetchone()[0]


def test_urgent_report_survives_kill_9_and_retry(tmp_path):
    svc = Service(tmp_path)
    svc.start()
    try:
        # 1. Acknowledged, then the service dies: the case is on disk, the retry finds it.
        first = report(svc.url, "urgent-1")
        assert first.status_code == 201
        svc.kill9()
        assert count_cases(tmp_path, "urgent-1") == 1
        svc.start()
        again = report_with_retries(svc, "urgent-1")
        assert again.status_code == 200 and again.json()["number"] == first.json()["number"]

        # 2. Killed while requests are in flight: after the restart every retry ends with one case each.
        keys = [f"inflight-{i}" for i in range(4)]
        threads = []
        for key in keys:

            def send(key=key):
                try:
                    report(svc.url, key, timeout=2)
                except httpx.HTTPError:
                    pass  # the bot sees a failure and will retry

            threads.append(threading.Thread(target=send))
        for t in threads:
            t.start()
        time.sleep(0.02)
        svc.kill9()
        for t in threads:
            t.join()
        svc.start()
        numbers = {}
        for key in keys:
            resp = report_with_retries(svc, key)
            assert resp.status_code in (200, 201)
            numbers[key] = resp.json()["number"]
            assert report_with_retries(svc, key).json()["number"] == numbers[key]
        assert len(set(numbers.values())) == len(keys)
    finally:
        svc.stop()
    for key in ["urgent-1", *keys]:
        assert count_cases(tmp_path, key) == 1
    assert count_cases(tmp_path) == 1 + len(keys)
