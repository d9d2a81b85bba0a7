"""The service's app served in-process for the browser tests of the console and the web chat page: no Rasa, no warm-up
(lifespan off), on a free loopback port. Chromium's presence is checked first, so a machine
without it fails with what to do instead of a launch error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from bot.stack import free_port
from tests.browser.test_console_browser import CHROMIUM


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make system-deps` (scripts/system-deps.sh)")


@contextmanager
def serving(app: FastAPI) -> Iterator[FastAPI]:
    """Runs the app until the block ends; its address is app.state.url."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the service did not start"
        time.sleep(0.05)
    app.state.url = f"http://127.0.0.1:{port}"
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.db.engine.dispose()


def submit_login(page, username: str, password: str) -> None:
    """Fills the console's login form the page shows and sends it."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
