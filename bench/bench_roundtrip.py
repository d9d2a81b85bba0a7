"""Message round trip through Rasa's REST channel, and cold start of `make run`.

Round trip: the whole stack on loopback; "低保是什么" (Rasa → action server →
service → knowledge base) at a few concurrency levels, each a bounded number
of messages. Cold start: `make run` (model already trained) until the first
cited answer, then Ctrl-C and a clean stop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
import time

import httpx

from bench.stack import running_stack
from bot.config import PROJECT_ROOT
from bot.rasa_model import ensure_model
from bot.stack import free_port
from tests.support.sockets import listening_addresses

MESSAGES_PER_LEVEL = 120
LEVELS = (1, 4, 16)
QUESTION = "低保是什么"


def _reply_text(r: httpx.Response) -> str:
    # Rasa escapes non-ASCII in its JSON: read the messages, not the raw body.
    try:
        return "\n".join(m.get("text", "") for m in r.json())
    except ValueError:
        return ""


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def _load(url: str, concurrency: int, total: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient, wid: int) -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            t = time.perf_counter()
            r = await client.post(url, json={"sender": f"bench-{wid}-{i % 8}", "message": QUESTION})
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200 or "依据" not in _reply_text(r):
                errors += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(worker(client, w) for w in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


def round_trip() -> dict:
    figures: dict = {}
    with running_stack() as (stack, _):
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        asyncio.run(_load(url, 2, 10))  # warm-up
        for level in LEVELS:
            lat, seconds, errors = asyncio.run(_load(url, level, MESSAGES_PER_LEVEL))
            figures[f"roundtrip_c{level}_p50_ms"] = round(statistics.median(lat), 1)
            figures[f"roundtrip_c{level}_p95_ms"] = round(_pct(lat, 95), 1)
            figures[f"roundtrip_c{level}_msgs_per_s"] = round(len(lat) / seconds, 1)
            figures[f"roundtrip_c{level}_errors"] = errors
    return figures


def cold_start() -> dict:
    ensure_model()  # "model already trained"
    with tempfile.TemporaryDirectory() as d:
        rasa_port, action_port, service_port = free_port(), free_port(), free_port()
        env = dict(
            os.environ,
            JZ_DATA_DIR=d,
            JZ_RASA_PORT=str(rasa_port),
            JZ_ACTION_PORT=str(action_port),
            JZ_SERVICE_PORT=str(service_port),
        )
        started = time.perf_counter()
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        first_answer = None
        try:
            while time.perf_counter() - started < 300 and proc.poll() is None:
                try:
                    r = httpx.post(
                        f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
                        json={"sender": "cold", "message": QUESTION},
                        timeout=30,
                    )
                    if r.status_code == 200 and "依据" in _reply_text(r):
                        first_answer = time.perf_counter() - started
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        finally:
            stop_started = time.perf_counter()
            os.killpg(proc.pid, signal.SIGINT)
            try:
                code = proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = "killed"
            stop_seconds = time.perf_counter() - stop_started
            # Ctrl-C must leave nothing behind: no process of make's group, and no server (each
            # runs in a session of its own) still listening on its port.
            try:
                os.killpg(proc.pid, 0)
                clean = False
            except ProcessLookupError:
                clean = not any(listening_addresses(port) for port in (rasa_port, action_port, service_port))
    if first_answer is None:
        raise RuntimeError("make run gave no cited answer within 300 s")
    return {
        "cold_start_to_first_answer_s": round(first_answer, 1),
        "cold_start_stop_s": round(stop_seconds, 1),
        "cold_start_stopped_cleanly": clean,
        "cold_start_make_exit": code,
    }


def run() -> dict:
    return {**round_trip(), **cold_start()}
