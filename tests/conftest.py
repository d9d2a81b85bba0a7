"""Shared fixtures: a real service on loopback, and the whole running stack."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot.config import Settings, settings
from bot.stack import Stack, free_port


class ServiceThread:
    """The real FastAPI service served by uvicorn in a background thread."""

    def __init__(self, cfg: Settings):
        from bot.service.app import create_app

        self.app = create_app(cfg)
        self.port = cfg.service_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServiceThread:
        self.thread.start()
        # Start-up loads the knowledge base: seconds when quiet, much longer on a loaded machine.
        deadline = time.monotonic() + 180
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("service exited during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("service did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Iterator[ServiceThread]:
    cfg = Settings(data_dir=tmp_path_factory.mktemp("service"), service_port=free_port(), bot_token=BOT_TOKEN)
    with ServiceThread(cfg) as svc:
        yield svc


BOT_TOKEN = "test-bot-token-for-actions"


@pytest.fixture
def service_env(service, monkeypatch, tmp_path) -> Iterator[ServiceThread]:
    """Points code that reads settings() (the actions) at the test service."""
    monkeypatch.setenv("JZ_SERVICE_URL", service.url)
    monkeypatch.setenv("JZ_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("JZ_DATA_DIR", str(tmp_path))
    settings.cache_clear()
    yield service
    settings.cache_clear()


def stack_settings(data_dir: Path, **overrides) -> Settings:
    return Settings(
        data_dir=data_dir, rasa_port=free_port(), action_port=free_port(), service_port=free_port(), **overrides
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Rasa server, action server and service as real processes on loopback."""
    s = Stack(stack_settings(tmp_path_factory.mktemp("stack")))
    s.start()
    yield s
    s.stop()


def say(stack: Stack, sender: str, message: str) -> list[dict]:
    r = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
    r.raise_for_status()
    return r.json()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def pytest_collection_modifyitems(config, items):
    """Files that start real processes (e2e, browser, PostgreSQL) run first. With several
    workers (`-n 2 --dist loadfile` in scripts/test.sh) the long files start at once and the
    short ones fill the gaps, rather than one long file finishing alone at the end."""
    heavy = {item.path for item in items if any(item.get_closest_marker(m) for m in ("e2e", "browser", "postgres"))}
    items.sort(key=lambda item: item.path not in heavy)
