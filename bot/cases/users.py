"""Desk users (operators, supervisors, volunteers, admins) and their passwords (argon2)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.model import CaseError, Role
from bot.cases.sla import utcnow
from bot.cases.store import User

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise CaseError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")


def create_user(s: Session, username: str, password: str, role: str, display_name: str = "") -> User:
    username = (username or "").strip()
    if not username or len(username) > 64:
        raise CaseError("用户名不能为空，最多 64 个字符")
    Role(role)
    check_password_strength(password)
    if s.scalar(select(User).where(User.username == username)):
        raise CaseError(f"用户 {username} 已存在")
    user = User(
        username=username, display_name=display_name or username, role=str(role),
        password_hash=hash_password(password), active=True, session_version=1, created_at=utcnow(),
    )
    s.add(user)
    s.flush()
    return user


def set_password(s: Session, username: str, password: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise CaseError(f"没有用户 {username}")
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.session_version += 1  # signs every existing session out
    return user


def authenticate(s: Session, username: str, password: str) -> User | None:
    user = s.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password or "")
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_user(s: Session, user_id: int) -> User | None:
    return s.get(User, user_id)


def find_user(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))
