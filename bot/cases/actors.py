"""Who acts on the case desk: a desk user, the bot (service token) or the system. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cases.model import Role

if TYPE_CHECKING:  # only for the annotation: who acts needs no tables
    from bot.cases.store import User


@dataclass(frozen=True)
class Actor:
    """Who is acting: a desk user, the bot (service token) or the system (CLI, scheduler)."""

    name: str  # "user:alice", "bot", "system"
    role: str | None = None  # a Role for users
    user_id: int | None = None
    display_name: str = ""

    @classmethod
    def user(cls, user: User) -> Actor:
        return cls(f"user:{user.username}", user.role, user.id, user.display_name or user.username)

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.supervisor, Role.admin) or self.name == "system"


BOT = Actor("bot", None, None, "智能助手")
SYSTEM = Actor("system", None, None, "系统")
