"""Eligibility screen: in-process latency and screens/s through the service.

In-process: a mix of representative households (complete, partial, unset standards,
emergencies, 特困 with supporters) screened repeatedly with ``bot.eligibility.screen``;
p50/p95 per screen and screens/s on one core. Targets: p95 ≤ 2 ms.

Service: uvicorn (``bot.service.app:create_app --factory``) on a free loopback port with
a temporary JZ_DATA_DIR; ``POST /v1/screen`` at concurrency 8 and 32 with httpx async,
a bounded number of requests per level. Target: ≥ 300 screens/s. Measured with one
worker and with two (the machine has 2 cores shared with the load generator).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
IN_PROCESS_SCREENS = 3000
REQUESTS_PER_LEVEL = 1200
LEVELS = (8, 32)

REQUESTS = [
    {
        "jurisdiction": "渠县",
        "as_of": "2026-09-01",
        "hukou": "rural",
        "standards": {"dibao_monthly": 700},
        "household": {
            "members": [
                {
                    "relation": "self",
                    "age": 45,
                    "monthly_income": 600,
                    "employed": True,
                    "labor_capacity": "full",
                    "disability_type": "none",
                    "serious_illness": False,
                    "in_school": False,
                },
                {
                    "relation": "spouse",
                    "age": 44,
                    "monthly_income": 0,
                    "disability_type": "limb",
                    "disability_grade": 2,
                    "labor_capacity": "none",
                    "employed": False,
                    "serious_illness": False,
                    "in_school": False,
                },
                {
                    "relation": "child",
                    "age": 10,
                    "monthly_income": 0,
                    "in_school": True,
                    "disability_type": "none",
                    "serious_illness": False,
                    "parents_situation": "normal",
                },
            ],
            "other_monthly_income": 100,
            "property_ok": True,
            "has_able_supporter": True,
            "currently_receiving": [],
            "emergency": {"type": "none"},
            "housing_difficulty": False,
            "monthly_rigid_expense": 200,
        },
    },
    {"jurisdiction": "巴中"},
    {
        "jurisdiction": "会宁",
        "as_of": "2026-09-01",
        "hukou": "urban",
        "standards": {"dibao_monthly": 800},
        "household": {
            "members": [
                {
                    "relation": "self",
                    "age": 50,
                    "monthly_income": 300,
                    "disability_type": "limb",
                    "disability_grade": 3,
                    "employed": False,
                }
            ],
            "other_monthly_income": 0,
            "property_ok": True,
            "emergency": {"type": "fire", "duration_months": 7},
        },
    },
    {
        "jurisdiction": "渠县",
        "as_of": "2026-09-01",
        "hukou": "rural",
        "household": {
            "members": [
                {"relation": "self", "age": 45, "monthly_income": 450},
                {"relation": "spouse", "age": 45, "monthly_income": 450},
            ],
            "other_monthly_income": 0,
            "property_ok": True,
        },
    },
    {
        "jurisdiction": "会宁",
        "as_of": "2026-09-01",
        "hukou": "urban",
        "standards": {"dibao_monthly": 800},
        "household": {
            "members": [{"relation": "self", "age": 95, "monthly_income": 0, "disability_type": "none"}],
            "property_ok": True,
            "supporters": [{"relation": "child", "age": 72, "monthly_income": 0, "property_ok": True}],
        },
    },
    {
        "jurisdiction": "达州",
        "as_of": "2026-09-01",
        "hukou": "urban",
        "standards": {"dibao_monthly": 700, "per_capita_disposable_income_annual": 30000, "rigid_expense_share": 0.5},
        "household": {
            "members": [
                {"relation": "self", "age": 45, "monthly_income": 2400, "employed": False},
                {"relation": "child", "age": 19, "monthly_income": 0, "in_school": True},
            ],
            "other_monthly_income": 0,
            "property_ok": True,
            "currently_receiving": [],
            "monthly_rigid_expense": 1500,
        },
    },
]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def in_process() -> dict:
    from bot.eligibility import screen
    from bot.eligibility.parameters import ParameterSet, default_parameters_dir

    with tempfile.TemporaryDirectory() as d:
        pset = ParameterSet(default_parameters_dir(), Path(d) / "eligibility_parameters.json")
        for req in REQUESTS:  # warm the caches
            screen(req, pset=pset)
        lat = []
        started = time.perf_counter()
        for i in range(IN_PROCESS_SCREENS):
            t = time.perf_counter()
            screen(REQUESTS[i % len(REQUESTS)], pset=pset)
            lat.append((time.perf_counter() - t) * 1000)
        total = time.perf_counter() - started
    return {
        "inprocess_p50_ms": round(statistics.median(lat), 3),
        "inprocess_p95_ms": round(_pct(lat, 95), 3),
        "inprocess_max_ms": round(max(lat), 3),
        "inprocess_screens_per_s": round(IN_PROCESS_SCREENS / total, 1),
        "inprocess_target_p95_le_2ms": "met" if _pct(lat, 95) <= 2 else "NOT met",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, concurrency: int, total: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def worker() -> None:
        # One client (one keep-alive connection) per worker: httpx's shared pool serialises
        # badly at high concurrency and would measure the load generator, not the service.
        nonlocal errors
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) as client:
            for i in counter:
                t = time.perf_counter()
                r = await client.post(url, json=REQUESTS[i % len(REQUESTS)])
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


def through_service(workers: int) -> dict:
    figures: dict = {}
    port = _free_port()
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "JZ_DATA_DIR": d}
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bot.service.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ]
        proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"service did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
            url = f"{base}/v1/screen"
            asyncio.run(_load(url, 4, 100))  # warm-up (both workers, caches)
            for level in LEVELS:
                lat, seconds, errors = asyncio.run(_load(url, level, REQUESTS_PER_LEVEL))
                tag = f"service_w{workers}_c{level}"
                figures[f"{tag}_screens_per_s"] = round(len(lat) / seconds, 1)
                figures[f"{tag}_p50_ms"] = round(statistics.median(lat), 1)
                figures[f"{tag}_p95_ms"] = round(_pct(lat, 95), 1)
                figures[f"{tag}_errors"] = errors
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return figures


def run() -> dict:
    figures = in_process()
    figures.update(through_service(1))
    figures.update(through_service(2))
    best = max(v for k, v in figures.items() if k.startswith("service_") and k.endswith("_screens_per_s"))
    figures["service_target_ge_300_per_s"] = "met" if best >= 300 else "NOT met"
    return figures


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:40s} {v}")
