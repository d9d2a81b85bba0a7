"""The events the tracker store read back, and what a walk over them gave, kept for the
conversation's next turn.

Rasa builds each turn's tracker anew from the stored events, then walks all of them, several
times a turn: for the applied events, for the states a rule looks at, for the JSON the action
server gets. Each of those walks grew with the conversation. The tracker store hands every
turn's tracker the very Event objects it read before (rasa_channels/tracker_store.py marks
them), and Rasa only appends to a tracker's events. So what a walk gave for a conversation's
leading stored events still holds for a later tracker whose events start with those same
objects (checked one by one, by identity: a history read afresh, a restart, another session
or any other list fails the check), and the walk goes on from there. Only stored events are
kept: a turn's own events come back from the store as new objects on the next turn.

A memo is kept per conversation for at most MEMO_SECONDS, up to MEMO_EVENTS events in all
(the least recently used dropped first), as the tracker store keeps its events: what
bot/retention.py deletes leaves this process within that time. Runs inside Rasa's
environment; imports nothing of Rasa or of the project.
"""

from __future__ import annotations

import collections
import operator
import threading
import time
from typing import Any, Callable, Hashable, List, Optional, Sequence, Tuple

STORED = "_jz_stored"  # on an Event read back from the tracker store: it will not change again
MEMO_SECONDS = 600.0
MEMO_EVENTS = 20_000


def mark_stored(event: Any) -> None:
    """Marks an event the tracker store read back. The mark holds the event's id: a deep copy
    (which Rasa makes of an event to change it) carries it, but is not marked by it."""
    event.__dict__[STORED] = id(event)


def is_stored(event: Any) -> bool:
    return event.__dict__.get(STORED) == id(event)


class PrefixMemo:
    """Per conversation: a list of stored events (a prefix of its history) and what a walk over
    them gave. The value is the caller's; it must not change once kept (callers copy it)."""

    def __init__(
        self,
        max_events: int = MEMO_EVENTS,
        max_seconds: float = MEMO_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_events, self.max_seconds, self.clock = max_events, max_seconds, clock
        self._kept: collections.OrderedDict[Hashable, Tuple[float, List[Any], Any]] = collections.OrderedDict()
        self._events = 0  # kept, in all conversations
        self._lock = threading.Lock()
        self.resumed = 0  # how many walks went on from a kept prefix (for the tests)

    def resume(self, key: Hashable, events: Sequence[Any]) -> Optional[Tuple[int, Any]]:
        """(how many of `events` the kept value covers, the value), when `events` start with the
        kept events, the same objects; else None."""
        with self._lock:
            entry = self._kept.get(key)
        if entry is None:
            return None
        at, kept, value = entry
        if self.clock() - at > self.max_seconds or len(kept) > len(events):
            return None
        if not all(map(operator.is_, kept, events)):
            return None
        self.resumed += 1
        return len(kept), value

    def keep(self, key: Hashable, events: Sequence[Any], value: Any) -> None:
        """Keeps `value` for these events (a list copy is kept), unless what is kept for the
        conversation already covers more of the same history."""
        events = list(events)
        now = self.clock()
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._events -= len(old[1])
                if len(old[1]) > len(events) and all(map(operator.is_, events, old[1])):
                    events, value = old[1], old[2]  # a shorter walk of the same history
            self._kept[key] = (now, events, value)  # the newest at the end
            self._events += len(events)
            while self._kept:
                oldest_key, (at, oldest, _) = next(iter(self._kept.items()))
                if self._events <= self.max_events and now - at <= self.max_seconds:
                    break
                del self._kept[oldest_key]
                self._events -= len(oldest)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._events = 0
