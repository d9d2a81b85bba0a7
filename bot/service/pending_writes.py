"""Writes that run after an answer has gone back, and the reads that must see them.

The web chat relay writes a message's reload history once the answer is on its way (so the
resident does not wait for the commit); a reload that comes quicker than that commit would
show the conversation without its last message, and only a second reload would bring it back.
So the relay marks the write as pending for that conversation before it answers, and the
history read waits (a bounded time) until that conversation's pending writes are done.

In-process: with several service machines a reload may reach another one, which cannot see
this one's pending writes; the gap there is the commit's own (about a millisecond), far
shorter than any person's reload.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# The longest a read waits for a conversation's writes: a stuck database must not hang the page.
# A mark older than this is dropped too: its write never started (the answer could not be sent,
# so the server skipped what was to follow it) and nothing will clear it.
SETTLE_SECONDS = 5.0
# Marks made between two sweeps for such abandoned marks.
SWEEP_EVERY = 1000


class PendingWrites:
    def __init__(self) -> None:
        self._open: dict[str, dict[asyncio.Event, float]] = {}
        self._marks = 0

    def mark(self, key: str, write: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """Marks a write for `key` as pending now, and returns the coroutine function that does
        it (in a thread) and then clears the mark, whatever happens; to run after the answer."""
        self._marks += 1
        if self._marks % SWEEP_EVERY == 0:
            self._sweep()
        done = asyncio.Event()
        self._open.setdefault(key, {})[done] = time.monotonic()

        async def run() -> None:
            try:
                await asyncio.to_thread(write, *args)
            finally:
                self._clear(key, done)

        return run

    def _clear(self, key: str, done: asyncio.Event) -> None:
        done.set()
        events = self._open.get(key)
        if events is not None:
            events.pop(done, None)
            if not events:
                del self._open[key]

    def _sweep(self) -> None:
        for key in list(self._open):
            for done in self._live(key, abandoned=True):
                self._clear(key, done)

    def _live(self, key: str, abandoned: bool = False) -> list[asyncio.Event]:
        """The key's marks still to wait for (or, with abandoned, those too old to)."""
        oldest = time.monotonic() - SETTLE_SECONDS
        return [e for e, at in self._open.get(key, {}).items() if (at < oldest) == abandoned]

    def pending(self, key: str) -> int:
        return len(self._live(key))

    async def settle(self, key: str, timeout: float = SETTLE_SECONDS) -> bool:
        """Waits until every write pending for `key` when called is done; False if the time ran out."""
        for done in self._live(key, abandoned=True):
            self._clear(key, done)
        events = self._live(key)
        if not events:
            return True
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), timeout)
        except TimeoutError:
            log.warning("a read went ahead with %d write(s) still pending", len(events))
            return False
        return True
