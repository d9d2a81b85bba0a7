"""bot/http_sessions.py: one kept connection per loop and purpose, and `after_body_sent`, which
the web chat relay uses to start the resident's note to their case while Rasa answers."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp import web

from bot.http_sessions import (
    TRANSPORT_ERRORS,
    after_body_sent,
    body_sent_trace,
    close_sessions,
    loopback_connector,
    pooled_session,
)
from tests.support.json_http import serve_app


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=loopback_connector(), trace_configs=[body_sent_trace()])


async def _slow_server(log: list[str], seconds: float = 0.3):
    async def handler(request):
        log.append(f"received {await request.text()}")
        await asyncio.sleep(seconds)
        log.append("answering")
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/", handler)
    runner, url = await serve_app(app)
    return runner, f"{url}/"


def test_then_runs_once_while_the_other_side_is_still_working():
    log: list[str] = []

    async def scenario():
        runner, url = await _slow_server(log)
        try:
            with after_body_sent(lambda: log.append("then")) as trace:
                async with pooled_session("t", _session).post(url, json={"m": "低保"}, **trace) as r:
                    await r.read()
                log.append("answered")
        finally:
            await close_sessions()
            await runner.cleanup()

    asyncio.run(scenario())
    assert log.count("then") == 1
    assert log.index("then") < log.index("answering") < log.index("answered")


def test_then_runs_once_at_the_end_when_nothing_could_be_sent():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/"  # closed again: nothing listens
    calls: list[str] = []

    async def scenario():
        try:
            with after_body_sent(lambda: calls.append("then")):
                try:
                    async with pooled_session("t", _session).post(url, json={}) as r:
                        await r.read()
                except TRANSPORT_ERRORS:
                    calls.append("refused")
        finally:
            await close_sessions()

    asyncio.run(scenario())
    assert calls == ["refused", "then"]


def test_one_session_per_loop_and_key_made_again_once_closed():
    async def scenario():
        a, b, other = pooled_session("a", _session), pooled_session("a", _session), pooled_session("b", _session)
        await a.close()
        again = pooled_session("a", _session)
        await close_sessions()
        return a is b, a is other, again is a, again.closed and other.closed

    assert asyncio.run(scenario()) == (True, False, False, True)
