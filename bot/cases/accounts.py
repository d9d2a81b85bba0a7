"""Desk accounts (坐席账号): who may work the console, every change to an account audited.

Plain Python over a SQLAlchemy session: each function changes one account and writes one
row of its audit log (`desk_user_events`: who, when, what, old → new) in the same
transaction; the caller commits. Never a password, a hash or a TOTP secret in the log.

Rules:
- only an admin, or the system (the command line, bot/cases/admin.py), changes accounts;
- an admin cannot deactivate themselves, and nobody deactivates or demotes the last
  active admin (the active admins are locked while that is checked, so two admins cannot
  demote each other at once);
- deactivating, changing the role and resetting the password bump `session_version`: the
  user's sessions end at the next request (bot/service/auth.py re-reads the user each time);
- a reset makes a temporary password, shown once to the admin; the user must choose a new
  one at the next login (`must_change_password`, `change_own_password`).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cases.actors import Actor
from bot.cases.model import ROLE_LABELS, CaseError, NotAllowed, NotFound, Role
from bot.cases.sla import utcnow
from bot.cases.store import User, UserEvent
from bot.cases.users import check_password_strength, create_user, find_user, hash_password, verify_password
from bot.cases.views import iso

DISPLAY_NAME_MAX = 64
# Temporary passwords: 12 characters without look-alikes (no 0/O, 1/I/L), in groups of four.
TEMP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

ACTION_LABELS = {
    "created": "开通账号",
    "deactivated": "停用账号",
    "reactivated": "重新启用",
    "password_reset": "重置密码（临时密码）",
    "password_set": "设置密码",
    "password_changed": "本人修改密码",
    "role_changed": "更改角色",
    "display_name_changed": "更改姓名",
    "totp_enabled": "开启两步验证",
    "totp_disabled": "本人关闭两步验证",
    "totp_reset": "重置两步验证",
}


# ------------------------------------------------------------------ the audit log


def record(s: Session, user: User, actor: Actor | str, action: str, **detail: Any) -> UserEvent:
    """One audit row for `user` (in the caller's transaction)."""
    name = actor if isinstance(actor, str) else actor.name
    event = UserEvent(user_id=user.id, at=utcnow(), actor=name, action=action, detail=detail)
    s.add(event)
    return event


def _actor_label(name: str) -> str:
    return "系统（命令行）" if name == "system" else name.removeprefix("user:")


def _summary(action: str, detail: dict[str, Any]) -> str:
    """old → new in words (roles by their Chinese name)."""
    if "old" not in detail:
        if action == "created":
            return f"角色：{ROLE_LABELS.get(Role(detail['role']), detail['role'])}" if "role" in detail else ""
        return ""
    old, new = detail["old"], detail["new"]
    if action == "role_changed":
        old, new = ROLE_LABELS.get(Role(old), old), ROLE_LABELS.get(Role(new), new)
    elif isinstance(old, bool):
        old, new = ("启用" if old else "停用"), ("启用" if new else "停用")
    return f"{old} → {new}"


def event_view(e: UserEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor,
        "actor_label": _actor_label(e.actor),
        "action": e.action,
        "action_label": ACTION_LABELS.get(e.action, e.action),
        "detail": e.detail,
        "summary": _summary(e.action, e.detail),
    }


def account_events(s: Session, who: int | str, limit: int = 100) -> list[dict[str, Any]]:
    """An account's audit log, newest first."""
    user = target(s, who)
    rows = s.scalars(select(UserEvent).where(UserEvent.user_id == user.id).order_by(UserEvent.id.desc()).limit(limit))
    return [event_view(e) for e in rows]


def account_view(user: User, last: UserEvent | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": ROLE_LABELS.get(Role(user.role), user.role),
        "active": user.active,
        "two_factor": user.totp_secret is not None,
        "must_change_password": user.must_change_password,
        "created_at": iso(user.created_at),
        "last_change": event_view(last) if last is not None else None,
    }


def list_accounts(s: Session) -> list[dict[str, Any]]:
    """Every account (active first, then by name) with its latest audited change."""
    latest = select(UserEvent.user_id, func.max(UserEvent.id).label("last_id")).group_by(UserEvent.user_id).subquery()
    events = {e.user_id: e for e in s.scalars(select(UserEvent).join(latest, UserEvent.id == latest.c.last_id))}
    users = s.scalars(select(User).order_by(User.active.desc(), User.username))
    return [account_view(u, events.get(u.id)) for u in users]


# ------------------------------------------------------------------ who and which


def target(s: Session, who: int | str) -> User:
    """The account by id (the console) or by username (the command line)."""
    user = s.get(User, who) if isinstance(who, int) else find_user(s, who)
    if user is None:
        raise NotFound("没有这个账号")
    return user


def _check_admin(actor: Actor) -> None:
    if actor.name != "system" and actor.role != Role.admin:
        raise NotAllowed("只有管理员可以管理账号")


def _other_active_admins(s: Session, user: User) -> int:
    """Active admins other than `user`; their rows stay locked until the commit (PostgreSQL)."""
    rows = s.scalars(
        select(User.id).where(User.active.is_(True), User.role == Role.admin, User.id != user.id).with_for_update()
    )
    return len(list(rows))


def _end_sessions(user: User) -> None:
    user.session_version += 1


def temporary_password() -> str:
    """A random one-time password, e.g. K7M3-QX9P-4T2W (about 59 bits)."""
    chars = "".join(secrets.choice(TEMP_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def _display_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > DISPLAY_NAME_MAX:
        raise CaseError(f"姓名最多 {DISPLAY_NAME_MAX} 个字")
    return name


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise CaseError("没有这个角色") from None


# ------------------------------------------------------------------ changes by an admin


def create_account(
    s: Session, actor: Actor, username: str, role: str, display_name: str = "", password: str | None = None
) -> tuple[User, str | None]:
    """A new active account. Without `password` a temporary one is made and returned (shown
    once; the user must replace it at the first login); with one, None is returned."""
    _check_admin(actor)
    temporary = temporary_password() if password is None else None
    user = create_user(s, username, password or temporary or "", _role(role), _display_name(display_name))
    user.must_change_password = temporary is not None
    record(s, user, actor, "created", role=user.role, display_name=user.display_name, temporary=temporary is not None)
    return user, temporary


def deactivate(s: Session, actor: Actor, who: int | str) -> User:
    _check_admin(actor)
    user = target(s, who)
    if actor.user_id == user.id:
        raise CaseError("不能停用自己的账号")
    if not user.active:
        raise CaseError(f"账号 {user.username} 已经停用")
    if user.role == Role.admin and not _other_active_admins(s, user):
        raise CaseError("这是最后一个启用的管理员账号，不能停用")
    user.active = False
    _end_sessions(user)
    record(s, user, actor, "deactivated", old=True, new=False)
    return user


def reactivate(s: Session, actor: Actor, who: int | str) -> User:
    _check_admin(actor)
    user = target(s, who)
    if user.active:
        raise CaseError(f"账号 {user.username} 已经是启用状态")
    user.active = True  # its old sessions stay ended: deactivation bumped session_version
    record(s, user, actor, "reactivated", old=False, new=True)
    return user


def reset_password(s: Session, actor: Actor, who: int | str) -> tuple[User, str]:
    """A temporary password (returned once, never stored in the clear); sessions end."""
    _check_admin(actor)
    user = target(s, who)
    password = temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    _end_sessions(user)
    record(s, user, actor, "password_reset", temporary=True)
    return user, password


def set_password(s: Session, actor: Actor, who: int | str, password: str) -> User:
    """A password chosen by whoever runs the command line (no change asked at login); sessions end."""
    _check_admin(actor)
    user = target(s, who)
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    _end_sessions(user)
    record(s, user, actor, "password_set")
    return user


def change_role(s: Session, actor: Actor, who: int | str, role: str) -> User:
    _check_admin(actor)
    user = target(s, who)
    new = _role(role)
    if user.role == new:
        raise CaseError(f"账号 {user.username} 已经是{ROLE_LABELS[new]}")
    if user.role == Role.admin and user.active and not _other_active_admins(s, user):
        raise CaseError("这是最后一个启用的管理员账号，不能改成其他角色")
    old = user.role
    user.role = str(new)
    _end_sessions(user)
    record(s, user, actor, "role_changed", old=old, new=str(new))
    return user


def change_display_name(s: Session, actor: Actor, who: int | str, display_name: str) -> User:
    _check_admin(actor)
    user = target(s, who)
    new = _display_name(display_name)
    if not new:
        raise CaseError("姓名不能为空")
    if new == user.display_name:
        raise CaseError("姓名没有变化")
    old, user.display_name = user.display_name, new
    record(s, user, actor, "display_name_changed", old=old, new=new)
    return user


def reset_two_factor(s: Session, actor: Actor, who: int | str) -> User:
    """Turns the user's two-step login off (a lost phone); they may turn it on again."""
    _check_admin(actor)
    user = target(s, who)
    if user.totp_secret is None:
        raise CaseError(f"账号 {user.username} 没有开启两步验证")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    record(s, user, actor, "totp_reset", old=True, new=False)
    return user


# ------------------------------------------------------------------ the user's own change


def change_own_password(s: Session, user_id: int, password: str) -> User:
    """The new password a user chooses after logging in with a temporary one; sessions end
    (the caller signs this browser in afresh)."""
    user = target(s, user_id)
    if not user.active:
        raise NotAllowed("账号已停用")
    check_password_strength(password)
    if verify_password(user.password_hash, password):
        raise CaseError("新密码不能和原来的密码相同")
    user.password_hash = hash_password(password)
    user.must_change_password = False
    _end_sessions(user)
    record(s, user, f"user:{user.username}", "password_changed")
    return user
