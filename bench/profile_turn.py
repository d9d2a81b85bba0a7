"""Where a turn's time goes: py-spy samples Rasa, the action server and the service while
one message is sent over and over, and prints each process's heaviest frames (inclusive).

    python -m bench.profile_turn "低保怎么申请" [--seconds 20] [--top 40]

This is how the hot spot in Rasa's check of every action answer was found
(rasa_channels/speedups.py). Not a timed bench: the figures are shares of samples.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx

from bench.stack import running_stack
from bot.config import PROJECT_ROOT

PY_SPY = PROJECT_ROOT / ".venv" / "bin" / "py-spy"
PROCESSES = ("rasa", "actions", "service")
_LINE_NUMBER = re.compile(r":\d+\)")


def _samples(raw: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output: each stack's frames, outermost first, and its count."""
    out = []
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if n.isdigit():
            out.append(([_LINE_NUMBER.sub(")", f) for f in stack.split(";")], int(n)))
    return out


def _ranked(raw: Path, top: int, keys: Callable[[list[str]], Iterable[str]]) -> list[tuple[float, str]]:
    """The keys a sample's frames give, by the share of all samples that give each."""
    counts: collections.Counter[str] = collections.Counter()
    samples = _samples(raw)
    total = sum(n for _, n in samples)
    for frames, n in samples:
        for key in keys(frames):
            counts[key] += n
    return [(100 * c / total, k) for k, c in counts.most_common(top)] if total else []


def heaviest(raw: Path, top: int) -> list[tuple[float, str]]:
    """Frames by the share of samples they appear in."""
    return _ranked(raw, top, set)


def heaviest_own(raw: Path, top: int, depth: int = 3) -> list[tuple[float, str]]:
    """The innermost `depth` frames of each sample, by share: where the time is spent itself,
    with enough callers to tell whose (a bare `dumps` says little)."""
    return _ranked(raw, top, lambda frames: [" < ".join(reversed(frames[-depth:]))])


def callers(raw: Path, top: int, name: str, depth: int = 2) -> list[tuple[float, str]]:
    """Who calls the frames whose name holds `name` (their outermost call in each sample), by
    share of all samples: which caller a repeated cost comes from."""

    def caller(frames: list[str]) -> list[str]:
        hit = next((i for i, f in enumerate(frames) if name in f), None)
        return [] if hit is None else [" < ".join(reversed(frames[max(0, hit - depth) : hit + 1]))]

    return _ranked(raw, top, caller)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("message", nargs="?", default="低保怎么申请")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--own", action="store_true", help="rank innermost frames (self time) instead")
    ap.add_argument("--callers", metavar="NAME", help="rank the callers of the frames named NAME instead")
    ap.add_argument("--senders", type=int, default=50, help="conversations the messages rotate over")
    ap.add_argument("--prefill", type=int, default=0, help="turns each conversation has before sampling starts")
    args = ap.parse_args()
    with running_stack() as (stack, _), tempfile.TemporaryDirectory() as out, httpx.Client(timeout=60) as client:
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        for i in range(5):
            client.post(url, json={"sender": f"warm-{i}", "message": args.message})
        for i in range(args.prefill * args.senders):  # a long conversation: what grows with it
            client.post(url, json={"sender": f"profile-{i % args.senders}", "message": args.message})
        spies = {
            name: subprocess.Popen(
                [
                    str(PY_SPY),
                    "record",
                    "-p",
                    str(stack.processes[name].popen.pid),
                    "-o",
                    f"{out}/{name}.txt",
                    "-f",
                    "raw",
                    "-r",
                    "200",
                    "-d",
                    str(int(args.seconds) + 4),
                    "--subprocesses",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in PROCESSES
        }
        time.sleep(2)
        started, sent = time.monotonic(), 0
        while time.monotonic() - started < args.seconds:
            client.post(url, json={"sender": f"profile-{sent % args.senders}", "message": args.message})
            sent += 1
        for spy in spies.values():
            spy.wait()
        print(f"{sent} messages in {args.seconds:.0f} s ({sent / args.seconds:.1f}/s, one at a time)")
        for name in PROCESSES:
            print(f"\n== {name}")
            raw = Path(out) / f"{name}.txt"
            if args.callers:
                ranked = callers(raw, args.top, args.callers)
            else:
                ranked = (heaviest_own if args.own else heaviest)(raw, args.top)
            for share, frame in ranked:
                print(f"{share:5.1f}%  {frame[: 240 if args.own or args.callers else 140]}")


if __name__ == "__main__":
    main()
