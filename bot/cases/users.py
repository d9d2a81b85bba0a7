"""Desk users (operators, supervisors, volunteers, admins) and their passwords (argon2).

Usernames are compared in one normal form (`normalize_username`: NFKC, trimmed of any
white space including the full-width one, case-folded), so " wangfang", "WANGFANG" and
"ｗａｎｇｆａｎｇ" are the same account, for login and for its throttle alike.

Login is two steps so the service can refuse cheaply: `find_login_user` (a database read,
no hashing) and `verify_password` (argon2, about 64 MiB and a quarter of a second each).
An unknown username never reaches argon2; `typical_verify_seconds` tells the caller how
long a real verification takes, so it can answer an unknown name after the same time.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from bot.cases.model import CaseError, Role
from bot.cases.sla import utcnow
from bot.cases.store import User

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
ON_SHIFT = timedelta(minutes=15)
SEEN_EVERY = timedelta(minutes=1)
USERNAME_MAX = 64


def normalize_username(username: str | None) -> str:
    """The one form a username is stored, looked up and throttled under.

    NFKC (full-width letters and the ideographic space become ASCII), white space and
    invisible format characters (zero-width space, BOM) trimmed at both ends, case-folded.
    """
    text = unicodedata.normalize("NFKC", username or "")
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or unicodedata.category(text[start]) == "Cf"):
        start += 1
    while end > start and (text[end - 1].isspace() or unicodedata.category(text[end - 1]) == "Cf"):
        end -= 1
    return unicodedata.normalize("NFKC", text[start:end].casefold())


class _VerifyTimer:
    """A running average of how long argon2 takes here (seeded by one hash at import)."""

    def __init__(self, seed: float):
        self._lock = threading.Lock()
        self.seconds = seed

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.seconds = 0.8 * self.seconds + 0.2 * seconds


def _seed_timer() -> _VerifyTimer:
    sample = _hasher.hash("calibration-only")  # once at import, as the old dummy hash was
    started = time.perf_counter()
    try:
        _hasher.verify(sample, "calibration-other")
    except VerificationError:
        pass
    return _VerifyTimer(time.perf_counter() - started)


_verify_timer = _seed_timer()


FAKE_CHECK_MAX_SECONDS = 3.0


def typical_verify_seconds() -> float:
    """How long a password check usually takes here (waiting for a turn included), in
    seconds; at most FAKE_CHECK_MAX_SECONDS, so nobody can make unknown names slow."""
    return min(_verify_timer.seconds, FAKE_CHECK_MAX_SECONDS)


def observe_verify_seconds(seconds: float) -> None:
    """Tells the running average how long a real password check just took."""
    _verify_timer.observe(seconds)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise CaseError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")


def create_user(s: Session, username: str, password: str, role: str, display_name: str = "") -> User:
    username = normalize_username(username)
    if not username or len(username) > USERNAME_MAX:
        raise CaseError(f"用户名不能为空，最多 {USERNAME_MAX} 个字符")
    Role(role)
    check_password_strength(password)
    if find_user(s, username):
        raise CaseError(f"用户 {username} 已存在")
    user = User(
        username=username,
        display_name=display_name or username,
        role=str(role),
        password_hash=hash_password(password),
        active=True,
        session_version=1,
        created_at=utcnow(),
    )
    s.add(user)
    s.flush()
    return user


def set_password(s: Session, username: str, password: str) -> User:
    user = find_user(s, username)
    if user is None:
        raise CaseError(f"没有用户 {username}")
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.session_version += 1  # signs every existing session out
    return user


@dataclass(frozen=True)
class LoginUser:
    """What login needs of a user before deciding: no session object is kept open."""

    id: int
    password_hash: str


def find_login_user(s: Session, username: str) -> LoginUser | None:
    """The active user a login names (normalised), or None. A database read, no hashing."""
    user = find_user(s, username)
    if user is None or not user.active:
        return None
    return LoginUser(user.id, user.password_hash)


def verify_password(password_hash: str, password: str) -> bool:
    """argon2 verification: the expensive step (the caller reports its time with
    observe_verify_seconds, so an unknown name can be answered after as long)."""
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def complete_login(s: Session, user_id: int, password: str) -> User | None:
    """After a verified password: the user (re-read; None if disabled meanwhile),
    with the hash upgraded when the argon2 parameters changed. The caller commits."""
    user = s.get(User, user_id)
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def authenticate(s: Session, username: str, password: str) -> User | None:
    """Both steps at once (for scripts and tests); an unknown username costs no hash."""
    found = find_login_user(s, username)
    if found is None or not verify_password(found.password_hash, password):
        return None
    return complete_login(s, found.id, password)


def get_user(s: Session, user_id: int) -> User | None:
    return s.get(User, user_id)


def find_user(s: Session, username: str) -> User | None:
    """The user by normalised name; a user stored before names were normalised
    ("WangFang") is still found by its lower-cased name."""
    name = normalize_username(username)
    if not name:
        return None
    user = s.scalar(select(User).where(User.username == name))
    if user is None:
        user = s.scalar(select(User).where(func.lower(User.username) == name).order_by(User.id).limit(1))
    return user


ASSIGNABLE_ROLES = (Role.operator, Role.supervisor)


def on_shift(user: User, now: datetime) -> bool:
    """Had the console open within ON_SHIFT (the desk keeps no rota: being at the console is the shift)."""
    return user.last_seen_at is not None and now - user.last_seen_at <= ON_SHIFT


def mark_seen(s: Session, user_id: int, now: datetime) -> bool:
    """Records that the user has the console open, at most once per SEEN_EVERY; True if it wrote."""
    done = s.execute(
        update(User)
        .where(User.id == user_id, or_(User.last_seen_at.is_(None), User.last_seen_at < now - SEEN_EVERY))
        .values(last_seen_at=now)
    )
    return bool(cast(CursorResult[Any], done).rowcount)


def assignable_users(s: Session, now: datetime | None = None) -> list[User]:
    """Who a case may be assigned to: the active operators and supervisors, those on shift first
    (see on_shift), supervisors after operators, then by name."""
    now = now or utcnow()
    users = s.scalars(select(User).where(User.active.is_(True), User.role.in_([r.value for r in ASSIGNABLE_ROLES])))
    return sorted(
        users, key=lambda u: (not on_shift(u, now), u.role == Role.supervisor, u.display_name or u.username, u.id)
    )
