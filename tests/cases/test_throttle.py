"""Login and lookup throttles (bot/throttle) through the real app, on its database.

- username variants (white space, full width, case) are one account, with one counter;
- unknown usernames are throttled like known ones and never cost an argon2 hash;
- one blocked address does not lock the real operator out from another one, and the
  per-account delay stays a short wait, never a lock;
- counters survive a restart (a new app on the same database);
- the resident's lookup is limited per client and overall, not per case number.
"""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from bot.cases.users import create_user
from bot.config import Settings
from bot.service.app import create_app
from bot.throttle import LoginThrottle, LookupThrottle, Refusal, SQLStorage, client_key
from tests.cases.conftest import BOT_TOKEN, PASSWORD, bot_headers

OPERATOR = "wangfang"
VARIANTS = [" wangfang", "wangfang\t", "\u3000wangfang", "WANGFANG", "ｗａｎｇｆａｎｇ", "WangFang "]


class FakeTime:
    """Epoch seconds the throttles read; `advance(s)` moves it on."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_app(data_dir, fake_time=None):
    app = create_app(Settings(data_dir=data_dir, bot_token=BOT_TOKEN))
    if fake_time is not None:
        app.state.throttle_clock = fake_time
    return app


@pytest.fixture
def app(tmp_path, fake_time, monkeypatch):
    # An unknown name waits as long as a real check; 10 ms keeps these tests quick.
    monkeypatch.setattr("bot.service.routers.console_login.typical_verify_seconds", lambda: 0.01)
    monkeypatch.setattr("bot.service.routers.console_login.REFUSAL_PAUSE_SECONDS", 0.0)  # (its own test below)
    application = make_app(tmp_path / "svc", fake_time)
    with application.state.db.session() as s:
        create_user(s, OPERATOR, PASSWORD, "operator", "王芳")
        s.commit()
    yield application
    application.state.db.engine.dispose()


@pytest.fixture
def argon2_calls(monkeypatch) -> list[str]:
    """Every argon2 hash or verification made (by any PasswordHasher)."""
    from argon2 import PasswordHasher

    calls: list[str] = []
    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def verify(self, *a, **kw):
        calls.append("verify")
        return real_verify(self, *a, **kw)

    def hash_(self, *a, **kw):
        calls.append("hash")
        return real_hash(self, *a, **kw)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(PasswordHasher, "hash", hash_)
    return calls


def attempt(app, address: str, username: str, password: str):
    """One login through the form, from `address`."""
    c = TestClient(app, client=(address, 40000))
    page = c.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return c.post(
        "/console/login",
        data={"username": username, "password": password, "login_token": token},
        follow_redirects=False,
    )


def addr(i: int) -> str:
    return f"198.51.100.{i}"


# ---------------------------------------------------------------- login


def test_username_variants_share_one_counter(app, fake_time):
    # Each wrong try comes from its own address, so only the account's counter can add them up.
    for i in range(LoginThrottle.ACCOUNT_FREE_FAILURES + 1):
        r = attempt(app, addr(i), VARIANTS[i % len(VARIANTS)], "wrong-password-x")
        assert r.status_code == 401, (i, r.status_code)
    # 11 failures under six spellings: the account now makes the next try wait, whatever the spelling.
    for j, variant in enumerate(VARIANTS):
        r = attempt(app, addr(100 + j), variant, PASSWORD)
        assert r.status_code == 429 and "这个账号" in r.text, variant
        assert 1 <= int(r.headers["Retry-After"]) <= LoginThrottle.DELAY_MAX
    fake_time.advance(int(r.headers["Retry-After"]))
    r = attempt(app, addr(200), "\u3000ＷａｎｇＦａｎｇ\t", PASSWORD)
    assert r.status_code == 303  # logged in, under the one normalised name


def test_unknown_usernames_are_throttled_and_never_hashed(app, argon2_calls):
    started = time.perf_counter()
    for i in range(10):
        r = attempt(app, "192.0.2.7", f"nobody{i}", "whatever-password")
        assert r.status_code == 401 and "用户名、密码或验证码不正确" in r.text
    assert time.perf_counter() - started >= 10 * 0.01 * 0.85  # each answered after a "check"'s time
    r = attempt(app, "192.0.2.7", "nobody-else", "whatever-password")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # one unknown name tried from many addresses gets the account delay, as a real name does
    for i in range(LoginThrottle.ACCOUNT_FREE_FAILURES + 1):
        assert attempt(app, addr(i), " Ghost", "whatever-password").status_code == 401
    r = attempt(app, addr(50), "ghost", "whatever-password")
    assert r.status_code == 429 and "这个账号" in r.text
    assert argon2_calls == []  # not one hash for a name that does not exist


def test_real_operator_logs_in_from_elsewhere_while_an_address_is_blocked(app, argon2_calls):
    attacker, office = "203.0.113.66", "198.51.100.20"
    for _ in range(10):
        assert attempt(app, attacker, OPERATOR, "guess-password-1").status_code == 401
    checks = len(argon2_calls)
    assert checks == 10  # (the spy sees each real check)
    blocked = attempt(app, attacker, OPERATOR, PASSWORD)
    assert blocked.status_code == 429 and "这台设备" in blocked.text  # even the right password
    assert len(argon2_calls) == checks  # refused before argon2
    assert attempt(app, office, OPERATOR, PASSWORD).status_code == 303  # the operator is not locked out
    assert attempt(app, attacker, OPERATOR, PASSWORD).status_code == 429  # her success does not free the attacker


def _throttle(tmp_path, fake_time) -> LoginThrottle:
    from bot.db import Database

    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    db.migrate()
    return LoginThrottle(SQLStorage(db, clock=fake_time), clock=fake_time)


def test_a_refused_login_is_answered_slowly(app, monkeypatch):
    """A flood that waits for its answers is slowed to about one request a second per connection."""
    monkeypatch.setattr("bot.service.routers.console_login.REFUSAL_PAUSE_SECONDS", 0.3)
    for i in range(10):
        attempt(app, "192.0.2.200", f"nobody{i}", "whatever-password")
    started = time.perf_counter()
    assert attempt(app, "192.0.2.200", OPERATOR, PASSWORD).status_code == 429
    assert time.perf_counter() - started >= 0.3


def test_the_account_delay_grows_but_stays_a_short_wait(tmp_path, fake_time):
    throttle = _throttle(tmp_path, fake_time)
    waits = []
    for i in range(40):  # 40 guesses from 40 addresses, each as soon as allowed
        attempt = throttle.begin(OPERATOR, f"10.0.0.{i}")
        if isinstance(attempt, Refusal):
            assert attempt.scope == "account"
            waits.append(attempt.retry_after)
            fake_time.advance(attempt.retry_after)
            attempt = throttle.begin(OPERATOR, f"10.0.0.{i}")
        assert not isinstance(attempt, Refusal)
        throttle.failed(attempt)
    assert waits[:5] == [1, 2, 4, 8, 16] and max(waits) == LoginThrottle.DELAY_MAX
    assert throttle.delay_after(10_000) == LoginThrottle.DELAY_MAX
    fake_time.advance(LoginThrottle.DELAY_MAX)
    attempt = throttle.begin(OPERATOR, "10.0.0.99")
    throttle.succeeded(attempt)  # the right password: the account starts afresh
    assert not isinstance(throttle.begin(OPERATOR, "10.0.0.98"), Refusal)


def test_simultaneous_tries_cannot_slip_past_the_limits(tmp_path, fake_time):
    """Forty requests at once: each reserves its slot before the password is checked."""
    from concurrent.futures import ThreadPoolExecutor

    throttle = _throttle(tmp_path, fake_time)
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(lambda i: throttle.begin(f"user{i}", "203.0.113.1"), range(40)))
    passed = [a for a in got if not isinstance(a, Refusal)]
    assert len(passed) == 10 and all(r.scope == "address" for r in got if isinstance(r, Refusal))
    for a in passed[:5]:
        throttle.succeeded(a)  # right passwords give their slots back: only failures count
    assert sum(not isinstance(throttle.begin("x", "203.0.113.1"), Refusal) for _ in range(5)) >= 1
    # an account past its free failures lets one try run at a time
    for i in range(LoginThrottle.ACCOUNT_FREE_FAILURES):
        throttle.failed(throttle.begin(OPERATOR, f"10.1.0.{i}"))
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(lambda i: throttle.begin(OPERATOR, f"10.2.0.{i}"), range(20)))
    assert sum(not isinstance(a, Refusal) for a in got) == 1


def test_counters_survive_a_restart(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.service.routers.console_login.typical_verify_seconds", lambda: 0.01)
    first = make_app(tmp_path / "svc")
    with first.state.db.session() as s:
        create_user(s, OPERATOR, PASSWORD, "operator")
        s.commit()
    for i in range(10):
        attempt(first, "192.0.2.44", f"who{i}", "whatever-password")
    created = (
        TestClient(first)
        .post(
            "/v1/cases", headers=bot_headers(), json={"type": "consultation", "jurisdiction": "渠县", "title": "咨询"}
        )
        .json()
    )
    lookup = {"number": created["number"], "check_code": "WRONG234"}
    c = TestClient(first, client=("192.0.2.45", 1))
    for _ in range(10):
        assert c.post("/v1/cases/lookup", json=lookup).status_code == 404
    first.state.db.engine.dispose()

    second = make_app(tmp_path / "svc")  # the service restarted: a new app on the same database
    assert attempt(second, "192.0.2.44", OPERATOR, PASSWORD).status_code == 429
    assert attempt(second, "192.0.2.99", OPERATOR, PASSWORD).status_code == 303
    c = TestClient(second, client=("192.0.2.45", 1))
    r = c.post("/v1/cases/lookup", json={**lookup, "check_code": created["check_code"]})
    assert r.status_code == 429
    second.state.db.engine.dispose()


def test_client_keys():
    assert client_key("2001:db8:1:2:3:4:5:6") == client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("192.0.2.1") == "192.0.2.1" and client_key(None) == "unknown"


# ---------------------------------------------------------------- case lookup


def _case(app) -> dict:
    r = TestClient(app).post(
        "/v1/cases",
        headers=bot_headers(),
        json={"type": "consultation", "jurisdiction": "渠县", "title": "咨询低保", "sender_id": "web-1"},
    )
    assert r.status_code == 201
    return r.json()


def test_lookup_is_limited_per_client_not_per_case(app):
    case = _case(app)
    wrong = {"number": case["number"], "check_code": "WRONG234"}
    right = {"number": case["number"], "check_code": case["check_code"]}
    attacker = TestClient(app, client=("203.0.113.9", 1))
    for _ in range(10):
        assert attacker.post("/v1/cases/lookup", json=wrong).status_code == 404
    r = attacker.post("/v1/cases/lookup", json=right)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0 and "12345" in r.json()["detail"]
    # the resident, elsewhere, still sees their case: nobody can lock them out of it
    resident = TestClient(app, client=("198.51.100.8", 1))
    assert resident.post("/v1/cases/lookup", json=right).status_code == 200


def test_chat_lookups_are_counted_per_conversation(app):
    """The action server asks for every chat resident from one address: it names the conversation."""
    case = _case(app)
    wrong = {"number": case["number"], "check_code": "WRONG234"}
    right = {"number": case["number"], "check_code": case["check_code"]}
    client = TestClient(app)
    for _ in range(10):
        r = client.post("/v1/cases/lookup", json=wrong, headers=bot_headers(**{"X-JZ-Conversation": "guesser"}))
        assert r.status_code == 404
    r = client.post("/v1/cases/lookup", json=right, headers=bot_headers(**{"X-JZ-Conversation": "guesser"}))
    assert r.status_code == 429
    r = client.post("/v1/cases/lookup", json=right, headers=bot_headers(**{"X-JZ-Conversation": "web-1"}))
    assert r.status_code == 200
    # without the bot token the header is ignored: the address is counted
    c = TestClient(app, client=("198.51.100.77", 1))
    for i in range(10):
        c.post("/v1/cases/lookup", json=wrong, headers={"X-JZ-Conversation": f"fresh-{i}"})
    assert c.post("/v1/cases/lookup", json=right, headers={"X-JZ-Conversation": "new"}).status_code == 429


def test_lookup_has_a_global_limit(app, fake_time):
    from bot.service.auth import _throttle_storage

    app.state.lookup_throttle = LookupThrottle(
        _throttle_storage(app), clock=fake_time, global_failures="20 per 15 minutes"
    )
    case = _case(app)
    wrong = {"number": case["number"], "check_code": "WRONG234"}
    right = {"number": case["number"], "check_code": case["check_code"]}
    for i in range(20):  # a spread-out guesser: 2 tries from each of 10 addresses
        c = TestClient(app, client=(f"203.0.113.{i // 2}", 1))
        assert c.post("/v1/cases/lookup", json=wrong).status_code == 404
    resident = TestClient(app, client=("198.51.100.8", 1))
    r = resident.post("/v1/cases/lookup", json=right)
    assert r.status_code == 429 and "查询的人太多" in r.json()["detail"]
    fake_time.advance(30 * 60)  # the window has slid past the guessing
    assert resident.post("/v1/cases/lookup", json=right).status_code == 200


# ---------------------------------------------------------------- the counters' storage


def test_sql_storage_counts_and_expires(tmp_path, fake_time):
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter

    from bot.db import Database

    db = Database(f"sqlite:///{tmp_path / 's.db'}")
    db.migrate()
    storage = SQLStorage(db, clock=fake_time)
    assert storage.incr("k", 10) == 1 and storage.incr("k", 10, amount=2) == 3 and storage.get("k") == 3
    assert storage.get_expiry("k") == pytest.approx(fake_time.now + 10)
    fake_time.advance(10)
    assert storage.get("k") == 0 and storage.incr("k", 10) == 1  # a new window
    storage.clear("k")
    assert storage.get("k") == 0

    item = parse("3 per minute")
    fixed = FixedWindowRateLimiter(storage)
    assert [fixed.hit(item, "a") for _ in range(4)] == [True, True, True, False]
    sliding = SlidingWindowCounterRateLimiter(storage)
    assert [sliding.hit(item, "b") for _ in range(4)] == [True, True, True, False]
    assert not sliding.test(item, "b")
    fake_time.advance(150)  # two windows later nothing of it is left
    assert sliding.test(item, "b") and sliding.hit(item, "b")
    assert storage.check() and storage.reset() >= 1


@pytest.mark.postgres
def test_sql_storage_on_postgres(postgres_url, fake_time):
    """The same counters on PostgreSQL: upserts, sliding windows and simultaneous tries."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.db import Database

    pg = Database(postgres_url)
    pg.migrate()
    try:
        storage = SQLStorage(pg, clock=fake_time)
        assert storage.incr("k", 10) == 1 and storage.incr("k", 10) == 2 and storage.decr("k") == 1
        fake_time.advance(11)
        assert storage.get("k") == 0 and storage.incr("k", 10) == 1
        throttle = LoginThrottle(storage, clock=fake_time)
        with ThreadPoolExecutor(20) as pool:
            got = list(pool.map(lambda i: throttle.begin(f"user{i}", "203.0.113.1"), range(40)))
        assert sum(not isinstance(a, Refusal) for a in got) == 10
    finally:
        pg.engine.dispose()
