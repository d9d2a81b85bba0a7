"""Settings from the environment, in one place.

Every process (service, action server, runner, Telegram gateway) reads its
configuration through `settings()`; README lists the variables.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JZ_", extra="ignore")

    # Where runtime state lives (SQLite files, logs); created on start.
    data_dir: Path = PROJECT_ROOT / "var"
    # SQLAlchemy URL of the service database; SQLite in data_dir by default.
    database_url: str = ""
    policy_kb_dir: Path = PROJECT_ROOT / "policy_kb"

    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    service_port: int = 8000

    # How the action server reaches the service; derived from host/port if unset.
    service_url: str = ""
    # Seconds an action waits for the service before answering with the hotline.
    service_timeout: float = 3.0
    # Seconds between the action server's rounds over its spool of undelivered reports.
    spool_drain_seconds: float = 3.0

    # Rasa tracker store: "sqlite" (file in data_dir) or a PostgreSQL URL.
    tracker_store_url: str = ""
    # Rasa lock store: empty for in-memory, or redis://host:port/db.
    lock_store_url: str = ""

    # Bearer token machine callers (the action server, channel gateways) use on the
    # service's case API; bot/stack.py generates one per run when unset.
    bot_token: str = ""

    # Secret for operator sessions and CSRF tokens; generated per data_dir if unset.
    secret_key: str = ""

    # Telegram gateway (bot/channels/telegram.py): a bot token from @BotFather enables it;
    # the Bot API server root defaults to https://api.telegram.org (tests point it at a fake).
    telegram_token: str = ""
    telegram_api_url: str = ""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'service.db'}"

    def resolved_service_url(self) -> str:
        return self.service_url or f"http://{self.host}:{self.service_port}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()
