"""Getting reports to the service, however it fails: send, spool, dead-letter, drain.

- `send`: POST /v1/cases with the report's idempotency key (a retry is never a second case).
- `disposition`: what a failure means for a report — the service is down (keep it, stop
  this round), a server error (keep it, try the next one), a refusal of the caller
  (401/403/429…: keep it, stop) or a refusal of the report itself (dead-letter it).
- `flush`: one round over the spool, oldest first. A refused report is buried and the
  round goes on, so no report ever blocks another; dead letters not yet acknowledged
  are handed to the service's dead-letter list.
- `Drainer`: runs `flush` every few seconds and at once when woken; the action server
  starts one when it starts (actions/server.py), so a spooled report arrives within
  seconds of the service coming back, with no other traffic needed.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Literal

from actions import spool
from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from actions.spool import SpoolError
from bot.case_limits import fit_case, fit_key

log = logging.getLogger(__name__)

# Refusals of the caller, not of the report: the report is kept for later as it is.
TRANSIENT_REFUSALS = frozenset({401, 403, 408, 425, 429})
# A report the service answers with a server error this many times, while it takes other
# reports, is treated as refused.
MAX_SERVER_ERRORS = 20
DEFAULT_INTERVAL = 3.0

Disposition = Literal["stop", "retry", "hold", "bury"]


def disposition(exc: Exception) -> Disposition:
    """What to do with a report whose submission failed with `exc`."""
    if isinstance(exc, ServiceUnavailable):
        return "stop" if exc.status is None else "retry"
    if isinstance(exc, ServiceRefused):
        return "hold" if exc.status in TRANSIENT_REFUSALS else "bury"
    raise TypeError(f"not a service failure: {exc!r}")


async def send(client: ServiceClient, case: dict[str, Any], key: str, attempts: int = 4) -> dict[str, Any]:
    """The created (or, for a repeated key, the existing) case. A refused place name is
    dropped and the report sent again without it (the desk then routes it by default)."""
    try:
        return await client.create_case(case, key, attempts=attempts)
    except ServiceRefused as exc:
        if disposition(exc) != "bury" or not case.get("jurisdiction"):
            raise
    return await client.create_case({k: v for k, v in case.items() if k != "jurisdiction"}, key, attempts=attempts)


async def give_up(client: ServiceClient, key: str, case: dict[str, Any], error: str) -> dict[str, Any] | None:
    """A refused report: dead-lettered here first (durable), then handed to the service.

    Returns the service's case of last resort for it, or None (then the drainer keeps
    handing it over). Raises SpoolError only if the report could be kept neither here
    nor by the service.
    """
    kept = True
    try:
        spool.bury(key, case, error)
    except SpoolError:
        kept = False
        log.exception("dead letter %s could not be written to the spool", key)
    log.error("report %s refused by the service, dead-lettered: %s", key, error[:300])
    try:
        answer = await client.report_dead_letter(fit_key(key), case, error)
    except (ServiceUnavailable, ServiceRefused) as exc:
        if not kept:
            raise SpoolError(f"report {key} refused, and neither the spool nor the service kept it") from exc
        _quietly(spool.report_failed, key, str(exc))
        return None
    made = answer.get("case") or None
    if kept:
        _quietly(spool.acknowledged, key, made.get("number") if made else None)
    return made


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except SpoolError:
        log.exception("spool bookkeeping failed")


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if loop not in _locks:
        _locks[loop] = asyncio.Lock()
    return _locks[loop]


async def flush(client: ServiceClient | None = None) -> dict[str, int]:
    """One round over the spool; returns counts of what happened."""
    async with _lock():
        return await _flush(client or ServiceClient())


async def _flush(client: ServiceClient) -> dict[str, int]:
    counts = {"sent": 0, "buried": 0, "kept": 0, "handed_over": 0}
    tried: set[str] = set()  # dead letters this round has already handed over
    suspects = []  # reports answered with server errors round after round
    for key, case, attempts in spool.pending_rows():
        case = fit_case(case)  # spooled before the limits were applied, perhaps
        try:
            await send(client, case, fit_key(key), attempts=1)
        except (ServiceUnavailable, ServiceRefused) as exc:
            what = disposition(exc)
            if what == "bury":
                await _bury(client, key, case, str(exc), counts)
                tried.add(key)
                continue
            spool.attempted(key, str(exc))
            counts["kept"] += 1
            if what in ("stop", "hold"):
                break
            if attempts + 1 >= MAX_SERVER_ERRORS:
                suspects.append((key, case, str(exc)))
            continue
        spool.done(key)
        counts["sent"] += 1
        log.info("spooled report %s delivered", key)
    if counts["sent"]:
        # The service takes other reports, so the server error is this report's own doing:
        # it goes to the dead letters (a person sees it). A service failing for everyone
        # (its database down, say) never turns reports into dead letters.
        for key, case, error in suspects:
            await _bury(client, key, case, f"{MAX_SERVER_ERRORS} server errors in a row: {error}", counts)
            tried.add(key)
    for letter in spool.dead_letters(unacknowledged_only=True):
        if letter["key"] in tried:
            continue  # handed over (or tried) a moment ago by give_up
        try:
            answer = await client.report_dead_letter(fit_key(letter["key"]), letter["case"], letter["error"])
        except (ServiceUnavailable, ServiceRefused) as exc:
            spool.report_failed(letter["key"], str(exc))
            log.error("dead letter %s not yet handed to the service: %s", letter["key"], exc)
            if isinstance(exc, ServiceUnavailable) and exc.status is None:
                break
            continue
        made = answer.get("case") or None
        spool.acknowledged(letter["key"], made.get("number") if made else None)
        counts["handed_over"] += 1
    return counts


async def _bury(client: ServiceClient, key: str, case: dict[str, Any], error: str, counts: dict[str, int]) -> None:
    try:
        await give_up(client, key, case, error)
        counts["buried"] += 1
    except SpoolError:
        log.exception("refused report %s stays in the spool", key)


class Drainer:
    """Flushes the spool every `interval` seconds, and at once when woken."""

    def __init__(self, interval: float = DEFAULT_INTERVAL):
        self.interval = interval
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Start a round now (callable from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        global _running
        self._loop = asyncio.get_running_loop()
        _running = self
        log.info("spool drainer started (every %.1fs)", self.interval)
        try:
            quiet_until = 0.0
            while not self._stopping:
                try:
                    counts = await flush()
                    if counts["sent"] or counts["buried"] or counts["handed_over"]:
                        log.info("spool round: %s", counts)
                    elif counts["kept"] and self._loop.time() >= quiet_until:
                        log.warning("service unreachable; %d report(s) waiting in the spool", spool.pending_count())
                        quiet_until = self._loop.time() + 60
                except SpoolError:
                    log.exception("spool unreadable; will try again")
                except Exception:  # noqa: BLE001 — the drainer must outlive any one bad round
                    log.exception("spool round failed; will try again")
                try:
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            if _running is self:
                _running = None


_running: Drainer | None = None


async def kick(client: ServiceClient) -> None:
    """The service just took a case: send what is spooled now (wakes the drainer if this
    process runs one, else flushes here)."""
    if _running is not None:
        _running.wake()
        return
    try:
        await flush(client)
    except Exception:  # noqa: BLE001 — the resident's own case is already stored
        log.exception("spool flush after a submission failed")
