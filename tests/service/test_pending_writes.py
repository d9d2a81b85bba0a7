"""bot/service/pending_writes.py: a read waits for its key's writes, never for another key's,
and never longer than the bound (a write that never ran does not hang the page)."""

from __future__ import annotations

import asyncio
import threading
import time

from bot.service import pending_writes
from bot.service.pending_writes import PendingWrites


def test_a_read_waits_for_its_conversations_write_only():
    async def scenario() -> list[str]:
        writes = PendingWrites()
        done: list[str] = []
        run = writes.mark("web-a", lambda: (time.sleep(0.2), done.append("a")))
        task = asyncio.ensure_future(run())
        assert writes.pending("web-a") == 1 and writes.pending("web-b") == 0
        assert await writes.settle("web-b") and done == []  # another conversation: no wait
        assert await writes.settle("web-a") and done == ["a"]
        await task
        assert writes.pending("web-a") == 0
        return done

    assert asyncio.run(scenario()) == ["a"]


def test_a_failed_write_clears_its_mark():
    async def scenario() -> int:
        writes = PendingWrites()

        def fail() -> None:
            raise OSError("disk full")

        run = writes.mark("web-a", fail)
        try:
            await run()
        except OSError:
            pass
        return writes.pending("web-a")

    assert asyncio.run(scenario()) == 0


def test_a_write_that_never_runs_delays_a_read_a_bounded_time(monkeypatch):
    monkeypatch.setattr(pending_writes, "SETTLE_SECONDS", 0.3)

    async def scenario() -> tuple[bool, bool, float]:
        writes = PendingWrites()
        writes.mark("web-a", print)  # its answer could not be sent: never run
        t0 = time.monotonic()
        first = await writes.settle("web-a", timeout=0.1)  # still fresh: waited for, then given up
        waited = time.monotonic() - t0
        await asyncio.sleep(0.3)
        later = await writes.settle("web-a")  # abandoned by now: dropped, no wait
        return first, later, waited

    first, later, waited = asyncio.run(scenario())
    assert first is False and later is True and 0.05 < waited < 0.3


def test_abandoned_marks_are_swept(monkeypatch):
    monkeypatch.setattr(pending_writes, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(pending_writes, "SWEEP_EVERY", 10)

    async def scenario() -> int:
        writes = PendingWrites()
        for i in range(10):
            writes.mark(f"web-{i}", print)
        return len(writes._open)

    assert asyncio.run(scenario()) <= 1  # the tenth mark swept the nine before it


def test_the_write_runs_off_the_event_loop():
    async def scenario() -> bool:
        writes = PendingWrites()
        seen: list[int] = []
        await writes.mark("web-a", lambda: seen.append(threading.get_ident()))()
        return seen[0] != threading.get_ident()

    assert asyncio.run(scenario())
