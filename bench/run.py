"""Runs every benchmark in bench/ and writes the figures to bench/results.json.

Each `bench/bench_<name>.py` exposes `run() -> dict` of named figures
(numbers or short strings). Usage: `python -m bench.run [name ...]`.
Results of earlier runs for other benches are kept, so one bench can be re-run alone.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown bench: {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    failed = []
    for name in names:
        print(f"== bench {name}", flush=True)
        started = time.perf_counter()
        try:
            figures = importlib.import_module(f"bench.bench_{name}").run()
        except Exception as exc:  # a failing bench is reported, the others still run
            print(f"   FAILED: {exc!r}", flush=True)
            failed.append(name)
            continue
        figures = {
            **figures,
            "_measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "_seconds": round(time.perf_counter() - started, 1),
            "_machine": f"{platform.machine()} {platform.python_version()} cores={__import__('os').cpu_count()}",
        }
        results[name] = figures
        for key, value in figures.items():
            print(f"   {key:40s} {value}", flush=True)
        # Written after every bench, so an interrupted run keeps what it measured.
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"results written to {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
