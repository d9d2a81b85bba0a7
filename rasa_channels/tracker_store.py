"""Rasa's SQL tracker store, keeping no personal number in the clear.

Named in endpoint.yml (`type: rasa_channels.tracker_store.MaskingSQLTrackerStore`), with
the same url/dialect as Rasa's own `SQL` store and the same `events` table. Before an
event is written:
- user and bot messages (text, parse_data, entities, metadata) are masked for good with
  bot.privacy.mask_text: 身份证号, bank-card and phone numbers never reach the database;
- a slot value holding such a number (urgent_contact, discovery_contact, a report's
  first message) is sealed instead (Fernet, key derived from JZ_TRACKER_SECRET or
  $JZ_DATA_DIR/tracker_secret), because the flows need it again on a later turn: the
  phone given in one message is sent with the case after the resident consents in the
  next. Reading the conversation back unseals it, so the action server sees the value
  the resident gave; the database file holds only the sealed form.

So a case made after a turn carries the earlier messages masked (the contact fields and
the current message stay whole). Old events are deleted after JZ_RETENTION_DAYS by
bot/retention.py (the service runs it; `python -m bot.retention` by hand).
Runs inside the Rasa environment (Python 3.10); not a model input.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import functools
import hashlib
import itertools
import json
import logging
import os
import time
from typing import Any, Dict, List, Optional, Text, Tuple

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.privacy import mask_values
from bot.secret_files import data_dir_secret
from rasa_channels.stored_events import mark_stored

log = logging.getLogger(__name__)

SEALED_PREFIX = "jz-sealed:v1:"
# A conversation read within this many seconds is kept decoded, up to RECENT_EVENTS events in
# all (the least recently read dropped first). Rows older than that are fetched again, so events
# bot/retention.py deleted leave this process within RECENT_SECONDS.
RECENT_SECONDS = 600.0
RECENT_EVENTS = 20_000
STORED_EVENTS = "_jz_stored_events"  # on a tracker this store read or saved: how many of its events are stored


def tracker_secret() -> str:
    """JZ_TRACKER_SECRET, or a random secret kept in $JZ_DATA_DIR/tracker_secret (mode 600).
    Several Rasa servers sharing one PostgreSQL tracker store need the same one."""
    if os.environ.get("JZ_TRACKER_SECRET"):
        return os.environ["JZ_TRACKER_SECRET"]
    return data_dir_secret(os.environ.get("JZ_DATA_DIR") or "var", "tracker_secret")


class Sealer:
    def __init__(self, secret: str):
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))

    def seal(self, value: Any) -> str:
        return SEALED_PREFIX + self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()

    def unseal(self, value: Any) -> Any:
        if not (isinstance(value, str) and value.startswith(SEALED_PREFIX)):
            return value
        try:
            return json.loads(self._fernet.decrypt(value[len(SEALED_PREFIX) :].encode()))
        except (InvalidToken, ValueError):
            log.warning("a sealed slot value could not be read (another tracker secret?); it is dropped")
            return None


def protect_event(data: Dict[str, Any], sealer: Sealer) -> Dict[str, Any]:
    """An event as stored: slot values holding a personal number sealed, every other
    string masked."""
    if data.get("event") == "slot":
        value = data.get("value")
        if mask_values(value) != value:
            return {**data, "value": sealer.seal(value)}
        return data
    return mask_values(data)


def reveal_event(data: Dict[str, Any], sealer: Sealer) -> Dict[str, Any]:
    if data.get("event") == "slot":
        return {**data, "value": sealer.unseal(data.get("value"))}
    return data


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose rows hold masked messages and sealed slot values."""

    def __init__(self, domain: Optional[Domain] = None, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_connection()
        self.sealer = Sealer(tracker_secret())
        self._recent: collections.OrderedDict[str, _Read] = collections.OrderedDict()  # see _latest_session
        self._recent_events = 0  # in all the conversations kept
        log.info("tracker store: personal numbers masked in messages, sealed in slots")

    def _keep_sqlite_connection(self) -> None:
        """Pooled connections in WAL mode with synchronous=NORMAL, for a SQLite file.

        SQLAlchemy 1.4 gives a file database a NullPool, so every read and write of a turn
        opened the file anew; and each commit waited for two fsyncs. In WAL mode a crashed
        process loses nothing; a power cut may lose the last turns of a conversation (the
        resident repeats them). Urgent reports do not depend on this store: the action
        server's spool and the service's database keep them."""
        url = self.engine.url
        self.engine.dispose()
        engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, pool_size=2, connect_args={"check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """As SQLTrackerStore.save, with each event protected before it is written.

        Only the events after those the tracker was read with are written. Rasa counts the
        stored events with a query on every save; a tracker this store read knows the number
        (the lock store lets one server at a time work on a conversation, so nothing else
        wrote in between). A tracker made afresh is counted as Rasa does."""
        await self.stream_events(tracker)
        stored = getattr(tracker, STORED_EVENTS, None)
        with self.session_scope() as session:
            if stored is None:  # as Rasa's _additional_events, by a statement built once
                count = session.execute(self._last_session_count, {"sender_id": tracker.sender_id}).scalar_one()
                new_events = list(itertools.islice(tracker.events, count, None))
            else:
                new_events = list(itertools.islice(tracker.events, stored, None))
            rows = []
            for event in new_events:
                data = protect_event(event.as_dict(), self.sealer)
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:  # one INSERT for the turn's events, not an ORM object each
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            if fetch_events_from_all_sessions:  # as DialogueStateTracker.from_dict
                rows = self._rows(session, self._all_sessions_query, sender_id)
                events = deserialise_events([self._event(data) for (_, _, data) in rows])
            else:
                events = list(self._latest_session(session, sender_id))
                if self.domain and events:
                    return self._tracker_of_latest_session(sender_id, events)
        if self.domain and events:
            tracker = DialogueStateTracker.from_events(sender_id, events, self.domain.slots)
            setattr(tracker, STORED_EVENTS, len(events))
            return tracker
        return None

    def _tracker_of_latest_session(self, sender_id: Text, events: List[Event]) -> DialogueStateTracker:
        """DialogueStateTracker.from_events(events), from the tracker the last read made.

        from_events replays every event of the conversation on every turn. The conversation
        read before is kept with the tracker its events made (a copy, as it stood then: the
        copy is made from the tracker's state, rasa_channels/speedups.py), so only the events
        read since are replayed onto a copy of it. Kept for this domain's slots only."""
        recent = self._recent.get(sender_id)
        kept = recent.tracker if recent is not None and recent.slots is self.domain.slots else None
        if kept is not None and kept[1] <= len(events):
            tracker = kept[0].copy()
            for event in itertools.islice(events, kept[1], None):
                tracker.update(event)
        else:
            tracker = DialogueStateTracker.from_events(sender_id, events, self.domain.slots)
        if recent is not None:
            recent.tracker, recent.slots = (tracker.copy(), len(events)), self.domain.slots
        setattr(tracker, STORED_EVENTS, len(events))
        return tracker

    def _latest_session(self, session: Any, sender_id: Text) -> List[Event]:
        """The events of the conversation's latest session, as Rasa's Event objects.

        A conversation read in the last RECENT_SECONDS is kept decoded here, with the id of its
        last row: the next read fetches only the rows after it (the turn's own events, or a
        turn another Rasa server handled). Decoding every event's JSON, and making an Event of
        each, on every turn was the part of a turn that grew most with the conversation. The
        Event objects are shared by the trackers of later turns, as a tracker's copy shares its
        events: Rasa does not change an event once it is in a tracker (it deep-copies one to
        change it, two_stage_fallback.py, action.py). A new session among the new rows, or a
        conversation not read lately, is read whole, as Rasa's query reads it."""
        now = time.monotonic()
        recent = self._recent.pop(sender_id, None)
        self._recent_events -= len(recent.events) if recent is not None else 0
        if recent is not None and now - recent.at < RECENT_SECONDS:
            rows = self._rows(session, self._newer_query, sender_id, after=recent.last_id)
            if any(type_name == SessionStarted.type_name for (_, type_name, _) in rows):
                recent = None
        else:
            recent = None
        if recent is None:
            recent = _Read(last_id=0, events=[], at=now)
            rows = self._rows(session, self._last_session_query, sender_id)
        read = deserialise_events([self._event(data) for (_, _, data) in rows])
        for event in read:  # rasa_channels/action_calls.py writes it for the action server once
            mark_stored(event)
        recent.events.extend(read)
        recent.last_id, recent.at = (rows[-1][0] if rows else recent.last_id), now
        self._keep(sender_id, recent)
        return recent.events

    def _keep(self, sender_id: Text, recent: "_Read") -> None:
        self._recent[sender_id] = recent  # the newest at the end
        self._recent_events += len(recent.events)
        while self._recent and self._recent_events > RECENT_EVENTS:
            _, dropped = self._recent.popitem(last=False)
            self._recent_events -= len(dropped.events)

    def _event(self, data: str) -> Dict[str, Any]:
        return reveal_event(json.loads(data), self.sealer)

    @staticmethod
    def _rows(session: Any, query: sa.sql.Select, sender_id: Text, after: int = 0) -> List[Tuple[int, str, str]]:
        return [tuple(r) for r in session.execute(query, {"sender_id": sender_id, "after": after}).all()]

    # Only the id, type and `data` columns, in Rasa's order (its _event_query, as statements
    # built once): the whole row as an ORM object costs more than the JSON it holds.
    @functools.cached_property
    def _all_sessions_query(self) -> sa.sql.Select:
        table = self.SQLEvent.__table__
        return (
            sa.select(table.c.id, table.c.type_name, table.c.data)
            .where(table.c.sender_id == sa.bindparam("sender_id"))
            .order_by(table.c.id)
        )

    @functools.cached_property
    def _newer_query(self) -> sa.sql.Select:
        return self._all_sessions_query.where(self.SQLEvent.__table__.c.id > sa.bindparam("after"))

    @functools.cached_property
    def _last_session_query(self) -> sa.sql.Select:
        """The events since the conversation's latest session start (all of them if none)."""
        table = self.SQLEvent.__table__
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sa.bindparam("sender_id"), table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        return self._all_sessions_query.where(sa.or_(table.c.timestamp >= session_start, session_start.is_(None)))

    @functools.cached_property
    def _last_session_count(self) -> sa.sql.Select:
        return sa.select(sa.func.count()).select_from(self._last_session_query.subquery())


@dataclasses.dataclass
class _Read:
    """A conversation's latest session as this process last read it."""

    last_id: int  # of its last row
    events: List[Event]
    at: float  # time.monotonic()
    # The tracker the first n of those events made, and the domain slots it was made with.
    tracker: Optional[Tuple[DialogueStateTracker, int]] = None
    slots: Any = None
