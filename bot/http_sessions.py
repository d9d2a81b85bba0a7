"""Pooled aiohttp client sessions for the hot loopback hops: the action server calling the
service; the web chat relay and the Telegram and WeChat gateways calling Rasa (`rasa_session`).

aiohttp, not httpx, on these hops: on a kept connection its client spends ~0.2 ms of CPU a
request, httpx's ~1 ms (measured side by side, bench/bench_speed.py), and a policy answer
crosses two such hops. A session belongs to the event loop it was made on, so there is one
per loop and purpose: made at the first call, closed by `close_sessions` when the process
stops (a test client that runs each request on a loop of its own gets its own, too).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

import aiohttp

RASA_TIMEOUT = 30.0  # seconds; Rasa runs custom actions, which call the service
# What "the other side did not answer" looks like: no connection, a reset, a timeout.
TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)

_SESSIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary()
)


def pooled_session(key: Hashable, make: Callable[[], aiohttp.ClientSession]) -> aiohttp.ClientSession:
    """This loop's session for `key`, made by `make` the first time (or after it was closed)."""
    per_loop = _SESSIONS.setdefault(asyncio.get_running_loop(), {})
    session = per_loop.get(key)
    if session is None or session.closed:
        session = per_loop[key] = make()
    return session


def loopback_connector() -> aiohttp.TCPConnector:
    """Kept connections to one host (a loopback service): as many at once as a busy turn needs."""
    return aiohttp.TCPConnector(limit=64, limit_per_host=64, keepalive_timeout=15)


async def close_sessions() -> None:
    """Closes every session this event loop made."""
    for session in _SESSIONS.pop(asyncio.get_running_loop(), {}).values():
        await session.close()


def body_sent_trace() -> aiohttp.TraceConfig:
    """For a session whose requests use `after_body_sent`."""
    config = aiohttp.TraceConfig()

    async def on_chunk_sent(_session, context, _params) -> None:
        # aiohttp calls this just before it writes the body to the socket, and writes it
        # without giving the loop back: a task `then` starts runs after the bytes are sent.
        if isinstance(context.trace_request_ctx, dict) and "body_sent" in context.trace_request_ctx:
            context.trace_request_ctx["body_sent"]()

    config.on_request_chunk_sent.append(on_chunk_sent)
    return config


@contextmanager
def after_body_sent(then: Callable[[], object] | None) -> Iterator[dict]:
    """Keyword arguments for a request (on a session made with `body_sent_trace`) that call
    `then` once its body is written; or, if it never was (no connection), when the block
    ends. Once either way."""
    pending = [then] if then else []

    def run() -> None:
        while pending:
            pending.pop()()

    try:
        yield {"trace_request_ctx": {"body_sent": run}} if then else {}
    finally:
        run()


def rasa_session() -> aiohttp.ClientSession:
    """This loop's session to Rasa's REST channel; its requests can use `after_body_sent`."""
    return pooled_session("rasa", _new_rasa_session)


def _new_rasa_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=loopback_connector(),
        timeout=aiohttp.ClientTimeout(total=RASA_TIMEOUT),
        trace_configs=[body_sent_trace()],
    )
