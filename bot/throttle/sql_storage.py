"""A `limits` storage in the service's own database (SQLite or PostgreSQL).

Why a storage of our own: `limits` (the library slowapi is built on) keeps its counters
in memory, Redis (also Cluster and Sentinel), Memcached, MongoDB or Valkey; it has no
SQL storage. The throttles must survive a restart, and the service's only store is its
SQL database (Redis is optional: set JZ_RATE_LIMIT_URL=redis://… to use limits' own
Redis storage instead). So this module implements limits' storage interface — fixed
windows (incr/get/get_expiry/clear) and the sliding-window counter — on one small table,
and limits' own strategies (FixedWindowRateLimiter, SlidingWindowCounterRateLimiter) do
the counting logic on top of it, exactly as they do on Redis.

The table holds one row per live counter (key, count, expires_at as epoch seconds);
expired rows are ignored on read and swept every few minutes, so it stays the size of
what is being limited right now. Every increment is one atomic upsert
(INSERT … ON CONFLICT DO UPDATE … RETURNING, on SQLite ≥ 3.35 and PostgreSQL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from math import floor

from limits.storage.base import SlidingWindowCounterSupport, Storage, TimestampedSlidingWindow
from sqlalchemy import Float, Index, Integer, String, case, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Database
from bot.orm import Base

SWEEP_SECONDS = 300


class RateLimitCounter(Base):
    """One live throttle counter (bot/throttle); rows past expires_at count as absent."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_rate_limit_counters_expires_at", "expires_at"),)


class SQLStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """limits storage over `rate_limit_counters` in a bot.db.Database.

    `clock` (epoch seconds) is injectable for tests; it must be the clock of whatever
    reads the expiry times back (the throttles in bot/throttle/policy.py take the same).
    """

    STORAGE_SCHEME = ["jz+sql"]  # registered with limits; built directly, not from a URL

    def __init__(self, db: Database, clock: Callable[[], float] = time.time, **options):
        self.db = db
        self.clock = clock
        self._dialect = db.engine.dialect.name
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()
        super().__init__(None, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    # ------------------------------------------------------------------ fixed windows
    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self.clock()
        self._maybe_sweep(now)
        table = RateLimitCounter.__table__
        expires = now + expiry
        if self._dialect in ("sqlite", "postgresql"):
            if self._dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert
            else:
                from sqlalchemy.dialects.postgresql import insert
            stmt = insert(table).values(key=key, count=amount, expires_at=expires)
            stale = table.c.expires_at <= now
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "count": case((stale, amount), else_=table.c.count + amount),
                    "expires_at": case((stale, expires), else_=table.c.expires_at),
                },
            ).returning(table.c.count)
            with self.db.session() as s:
                value = s.execute(stmt).scalar_one()
                s.commit()
            return int(value)
        with self.db.session() as s:  # other databases: read-modify-write in one transaction
            row = s.get(RateLimitCounter, key, with_for_update=True)
            if row is None:
                row = RateLimitCounter(key=key, count=amount, expires_at=expires)
                s.add(row)
            elif row.expires_at <= now:
                row.count, row.expires_at = amount, expires
            else:
                row.count += amount
            value = row.count
            s.commit()
        return int(value)

    def decr(self, key: str, amount: int = 1) -> int:
        now = self.clock()
        with self.db.session() as s:
            s.execute(
                update(RateLimitCounter)
                .where(RateLimitCounter.key == key, RateLimitCounter.expires_at > now)
                .values(
                    count=func.max(RateLimitCounter.count - amount, 0)
                    if self._dialect == "sqlite"
                    else func.greatest(RateLimitCounter.count - amount, 0)
                )
            )
            s.commit()
        return self.get(key)

    def get(self, key: str) -> int:
        with self.db.session() as s:
            value = s.scalar(
                select(RateLimitCounter.count).where(
                    RateLimitCounter.key == key, RateLimitCounter.expires_at > self.clock()
                )
            )
        return int(value or 0)

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        with self.db.session() as s:
            value = s.scalar(
                select(RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == key, RateLimitCounter.expires_at > now
                )
            )
        return float(value) if value is not None else now

    def get_many(self, keys: list[str]) -> dict[str, tuple[int, float]]:
        """(count, expires_at) of the live counters among `keys`, in one read."""
        now = self.clock()
        with self.db.session() as s:
            rows = s.execute(
                select(RateLimitCounter.key, RateLimitCounter.count, RateLimitCounter.expires_at).where(
                    RateLimitCounter.key.in_(keys), RateLimitCounter.expires_at > now
                )
            ).all()
        return {k: (int(c), float(e)) for k, c, e in rows}

    def clear(self, key: str) -> None:
        with self.db.session() as s:
            s.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
            s.commit()

    def check(self) -> bool:
        try:
            with self.db.session() as s:
                s.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.db.session() as s:
            n = s.execute(delete(RateLimitCounter)).rowcount
            s.commit()
        return n

    def _maybe_sweep(self, now: float) -> None:
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            with self.db.session() as s:
                s.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))
                s.commit()
        finally:
            self._sweep_lock.release()

    # ------------------------------------------------------------------ sliding window counter
    def _window(self, key: str, expiry: int, now: float) -> tuple[str, str, int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        counts = self.get_many([previous_key, current_key])
        previous_count = counts.get(previous_key, (0, 0.0))[0]
        current_count = counts.get(current_key, (0, 0.0))[0]
        # As limits' memory storage: the weight of the previous window is the part of
        # it still inside the sliding window.
        previous_ttl = 0.0 if previous_count == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous_key, current_key, previous_count, previous_ttl, current_count, current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self.clock()
        _, current_key, previous_count, previous_ttl, current_count, _ = self._window(key, expiry, now)
        if floor(previous_count * previous_ttl / expiry + current_count) + amount > limit:
            return False
        current_count = self.incr(current_key, 2 * expiry, amount=amount)
        if floor(previous_count * previous_ttl / expiry + current_count) > limit:
            self.decr(current_key, amount)  # another hit won the race
            return False
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        _, _, previous_count, previous_ttl, current_count, current_ttl = self._window(key, expiry, self.clock())
        return previous_count, previous_ttl, current_count, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, self.clock())
        with self.db.session() as s:
            s.execute(delete(RateLimitCounter).where(RateLimitCounter.key.in_([previous_key, current_key])))
            s.commit()
