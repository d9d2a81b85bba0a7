"""Who may try again, and when: the login throttle and the case-lookup throttle.

Plain logic over a `limits` storage (bot/throttle/sql_storage.py, or Redis/memory from
limits itself) and limits' own strategies; no web framework here. Routers call `begin()`
before the expensive or revealing step (a Refusal means 429), and report the outcome of
the Attempt it returned with `failed()` / `succeeded()`.

Login (the operator console):
1. Per client address first: ADDRESS_FAILURES wrong logins (any username, known or not)
   in a sliding window, then that address is refused (429) until the window slides on,
   whatever it sends, even the right password. Someone guessing from one place is
   stopped there, and the real operator, at another address, is not affected.
2. Per account (the normalised username, the same form login looks it up under):
   a progressive delay, not a lock. The first ACCOUNT_FREE_FAILURES failures within
   ACCOUNT_WINDOW cost nothing; each one after that makes the next try on that name wait
   1, 2, 4 … seconds, never more than DELAY_MAX. So guessing spread over many addresses
   is slowed to about one try a minute, while the real operator waits at most a minute,
   never hours. A successful login clears the account's counter (not the address's:
   one's own account must not launder guesses at another's).
Unknown usernames are counted exactly like known ones (same keys, same answers), so the
throttle does not tell which names exist.

Case lookup (residents, public): per client and overall, never per case number (a limit
per case number lets anyone lock a resident out of their own case).

Keys are hashed (sha256), so the counters table holds no usernames (or passwords typed
into the username field) and no addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.storage.base import TimestampedSlidingWindow
from limits.strategies import SlidingWindowCounterRateLimiter

from bot.hotlines import hotline_name


@dataclass(frozen=True)
class Refusal:
    """Not now: try again in `retry_after` seconds. `message` is Chinese, for people."""

    scope: str  # "address" | "account" | "client" | "global"
    retry_after: int  # whole seconds, at least 1 (the Retry-After header)
    message: str


def client_key(host: str | None) -> str:
    """The address a client is counted under: IPv4 as is, IPv6 by its /64 (one
    subscriber's whole network), anything else (a test client's name) as given."""
    host = (host or "").strip()
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\x00{value}".encode()).hexdigest()[:32]


def wait_text(seconds: int) -> str:
    """ "30 秒" / "5 分钟": how long to wait, in words."""
    if seconds < 60:
        return f"{max(1, seconds)} 秒"
    return f"{math.ceil(seconds / 60)} 分钟"


@dataclass
class Attempt:
    """A try the throttle let through; give it back with failed() or succeeded()."""

    keys: dict[str, str]  # what the try is counted under
    reserved: list[str] = field(default_factory=list)  # window slots taken up front
    claimed: str | None = None  # an account's in-flight claim


class _Throttle:
    """Shared machinery: sliding windows from limits, slots reserved before the try.

    A try first reserves its slot in each window (limits' `hit`, atomic in the storage),
    so forty simultaneous requests cannot all pass a check made before any of them
    failed; a try that succeeds gives its slots back, so only failures count. (On a
    storage without `decr`, e.g. limits' Redis storage, the windows are tested before the
    try and hit after a failure instead.)

    Refusals by window are also remembered in the process for a few seconds (at most
    LOCAL_BLOCK_SECONDS, never past the refusal's own end, forgotten when a try of that
    client succeeds), so a flood from a blocked client is answered without the database.
    """

    LOCAL_BLOCK_SECONDS = 5.0
    LOCAL_BLOCK_MAX = 10_000

    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time):
        self.storage = storage
        self.clock = clock
        self.window = SlidingWindowCounterRateLimiter(storage)
        self._reserve = hasattr(storage, "decr") and isinstance(storage, TimestampedSlidingWindow)
        self._blocked: dict[str, tuple[float, Refusal]] = {}
        self._blocked_lock = threading.Lock()

    # -- windows
    def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        # limits reports the reset as a time.time() instant, whatever the storage's clock.
        stats = self.window.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _current_key(self, item: RateLimitItem, *identifiers: str) -> str:
        return self.storage.sliding_window_keys(item.key_for(*identifiers), item.get_expiry(), self.clock())[1]

    def _take(self, attempt: Attempt, item: RateLimitItem, *identifiers: str) -> bool:
        """Reserves a slot in the window (or only tests it, without decr)."""
        if not self._reserve:
            return self.window.test(item, *identifiers)
        key = self._current_key(item, *identifiers)
        if not self.window.hit(item, *identifiers):
            return False
        attempt.reserved.append(key)
        return True

    def _give_back(self, attempt: Attempt, local_key: str | None = None) -> None:
        for key in attempt.reserved:
            self.storage.decr(key)
        attempt.reserved.clear()
        if local_key:  # a slot is free again: forget this process's refusal of the client
            self._blocked.pop(local_key, None)

    def _count_failure(self, item: RateLimitItem, *identifiers: str) -> None:
        if not self._reserve:  # reserved slots already count it
            self.window.hit(item, *identifiers)

    # -- refusals remembered in the process
    def _local(self, key: str) -> Refusal | None:
        entry = self._blocked.get(key)
        if entry is None:
            return None
        until, refusal = entry
        left = until - self.clock()
        if left <= 0:
            self._blocked.pop(key, None)
            return None
        return Refusal(refusal.scope, max(1, min(refusal.retry_after, math.ceil(left))), refusal.message)

    def _remember(self, key: str, refusal: Refusal) -> Refusal:
        with self._blocked_lock:
            if len(self._blocked) >= self.LOCAL_BLOCK_MAX:
                self._blocked.clear()
            self._blocked[key] = (self.clock() + min(refusal.retry_after, self.LOCAL_BLOCK_SECONDS), refusal)
        return refusal


def _address_refusal(retry: int) -> Refusal:
    return Refusal(
        "address", retry, f"这台设备登录失败次数过多，请 {wait_text(retry)}后再试；忘记密码请联系管理员重置。"
    )


def _account_refusal(retry: int) -> Refusal:
    return Refusal("account", retry, f"这个账号刚才多次登录失败，为保护账号，请 {wait_text(retry)}后再试。")


class LoginThrottle(_Throttle):
    ADDRESS_FAILURES = "10 per 15 minutes"
    ACCOUNT_FREE_FAILURES = 10
    ACCOUNT_WINDOW = 3600  # seconds the account's failures are remembered
    DELAY_BASE = 1  # seconds, doubled with each failure past the free ones
    DELAY_MAX = 60
    IN_FLIGHT_SECONDS = 30  # longest a claimed try may take before its claim lapses

    def __init__(
        self,
        storage: Storage,
        clock: Callable[[], float] = time.time,
        *,
        address_failures: str | None = None,
        account_free_failures: int | None = None,
        delay_max: int | None = None,
    ):
        super().__init__(storage, clock)
        self.address_item = parse(address_failures or self.ADDRESS_FAILURES)
        self.account_free = self.ACCOUNT_FREE_FAILURES if account_free_failures is None else account_free_failures
        self.delay_max = delay_max or self.DELAY_MAX

    @staticmethod
    def _keys(username: str, address: str) -> dict[str, str]:
        h = _digest("login-account", username)
        return {
            "address": _digest("login-address", address),
            "failures": f"jz/login/account/{h}/failures",
            "wait": f"jz/login/account/{h}/wait",
            "claim": f"jz/login/account/{h}/claim",
        }

    def delay_after(self, failures: int) -> int:
        """Seconds the next try waits after `failures` recent failures on one account."""
        past = failures - self.account_free
        if past <= 0:
            return 0
        return int(min(self.DELAY_BASE * 2 ** min(past - 1, 30), self.delay_max))

    def blocked_locally(self, address: str) -> Refusal | None:
        """A refusal this process already gave the address and that still holds (no database)."""
        return self._local("login-address/" + _digest("login-address", address))

    def begin(self, username: str, address: str) -> Attempt | Refusal:
        """May a login for `username` (normalised) from `address` be tried now?"""
        keys = self._keys(username, address)
        local_key = "login-address/" + keys["address"]
        if (refusal := self._local(local_key)) is not None:
            return refusal
        if not self.window.test(self.address_item, "login-address", keys["address"]):
            retry = self._retry_after(self.address_item, "login-address", keys["address"])
            return self._remember(local_key, _address_refusal(retry))
        wait = self.storage.get_expiry(keys["wait"]) - self.clock()
        if wait > 0:
            return _account_refusal(max(1, math.ceil(wait)))
        attempt = Attempt(keys)
        if self.delay_after(self.storage.get(keys["failures"]) + 1):
            # Past the free failures: one try at a time on this account, or a burst of
            # simultaneous requests would all slip through before the first one failed.
            if self.storage.incr(keys["claim"], self.IN_FLIGHT_SECONDS) > 1:
                return _account_refusal(1)
            attempt.claimed = keys["claim"]
        if not self._take(attempt, self.address_item, "login-address", keys["address"]):
            self._release(attempt)
            retry = self._retry_after(self.address_item, "login-address", keys["address"])
            return self._remember(local_key, _address_refusal(retry))
        return attempt

    def _release(self, attempt: Attempt) -> None:
        if attempt.claimed:
            self.storage.clear(attempt.claimed)
            attempt.claimed = None

    def failed(self, attempt: Attempt) -> None:
        """The try was a wrong password or an unknown username."""
        keys = attempt.keys
        self._count_failure(self.address_item, "login-address", keys["address"])
        delay = self.delay_after(self.storage.incr(keys["failures"], self.ACCOUNT_WINDOW))
        if delay:
            self.storage.clear(keys["wait"])
            self.storage.incr(keys["wait"], delay)
        self._release(attempt)

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: the try costs the address nothing, the account starts afresh."""
        self._give_back(attempt, "login-address/" + attempt.keys["address"])
        for name in ("failures", "wait"):
            self.storage.clear(attempt.keys[name])
        self._release(attempt)


class LookupThrottle(_Throttle):
    CLIENT_FAILURES = "10 per 15 minutes"
    GLOBAL_FAILURES = "300 per 15 minutes"

    def __init__(
        self,
        storage: Storage,
        clock: Callable[[], float] = time.time,
        *,
        client_failures: str | None = None,
        global_failures: str | None = None,
    ):
        super().__init__(storage, clock)
        self.client_item = parse(client_failures or self.CLIENT_FAILURES)
        self.global_item = parse(global_failures or self.GLOBAL_FAILURES)

    def begin(self, client: str) -> Attempt | Refusal:
        client_id = _digest("lookup-client", client)
        local_key = "lookup-client/" + client_id
        if (refusal := self._local(local_key)) is not None:
            return refusal
        attempt = Attempt({"client": client_id})
        if not self._take(attempt, self.client_item, "lookup-client", client_id):
            self._give_back(attempt)
            retry = self._retry_after(self.client_item, "lookup-client", client_id)
            return self._remember(
                local_key,
                Refusal(
                    "client",
                    retry,
                    f"查询失败次数过多，请 {wait_text(retry)}后再试，或拨打 {hotline_name('12345')}查询。",
                ),
            )
        if not self._take(attempt, self.global_item, "lookup-all"):
            self._give_back(attempt)
            retry = self._retry_after(self.global_item, "lookup-all")
            return Refusal(
                "global", retry, f"现在查询的人太多，请 {wait_text(retry)}后再试，或拨打 {hotline_name('12345')}查询。"
            )
        return attempt

    def failed(self, attempt: Attempt) -> None:
        self._count_failure(self.client_item, "lookup-client", attempt.keys["client"])
        self._count_failure(self.global_item, "lookup-all")

    def succeeded(self, attempt: Attempt) -> None:
        self._give_back(attempt, "lookup-client/" + attempt.keys["client"])
