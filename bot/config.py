"""Settings from the environment, in one place.

Every process (service, action server, runner, Telegram gateway) reads its
configuration through `settings()`; README lists the variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.secret_files import data_dir_secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JZ_", extra="ignore")

    # Where runtime state lives (SQLite files, logs); created on start.
    data_dir: Path = PROJECT_ROOT / "var"
    # SQLAlchemy URL of the service database; SQLite in data_dir by default.
    database_url: str = ""
    policy_kb_dir: Path = PROJECT_ROOT / "policy_kb"

    # Interfaces the processes bind to. JZ_HOST is the common default; each process has its
    # own (JZ_RASA_HOST, JZ_ACTION_HOST, JZ_SERVICE_HOST), so the service (web chat, console)
    # can be exposed with JZ_SERVICE_HOST=0.0.0.0 while Rasa and the action server stay on
    # loopback. Residents' public doors are the service's web chat and the channel gateways.
    host: str = "127.0.0.1"
    rasa_host: str = ""
    action_host: str = ""
    service_host: str = ""
    rasa_port: int = 5005
    action_port: int = 5055
    service_port: int = 8000

    # How the service's web chat relay and the channel gateways reach Rasa; derived if unset.
    rasa_url: str = ""

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

    # Login and case-lookup throttle counters (bot/throttle): empty for the service database
    # (they survive a restart), or a `limits` storage URI such as redis://host:6379/1.
    rate_limit_url: str = ""
    # Password checks (argon2, ~64 MiB each) run at most this many at a time; the others wait.
    login_hash_concurrency: int = 2

    # Shared secret Rasa sends the action server (Authorization: Bearer …, endpoint.yml);
    # the action server refuses every call without it. Generated per data_dir if unset.
    action_token: str = ""

    # Telegram gateway (bot/channels/telegram.py): a bot token from @BotFather enables it;
    # the Bot API server root defaults to https://api.telegram.org (tests point it at a fake).
    telegram_token: str = ""
    telegram_api_url: str = ""

    # WeChat official account gateway (bot/channels/wechat.py): the server token set in the
    # account's 服务器配置 enables it; app id and secret get access_tokens for the
    # customer-service and menu APIs; the EncodingAESKey (43 characters) enables safe mode.
    # The API root defaults to https://api.weixin.qq.com (tests point it at a fake).
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_url: str = ""
    wechat_host: str = ""
    wechat_port: int = 8010

    # Retention of personal data (bot/retention.py): Rasa's conversation events, and the
    # transcripts and personal fields of closed cases, are removed this many days after
    # (0 keeps them for ever). The service runs the job every retention_check_hours.
    retention_days: int = 180
    retention_check_hours: float = 6.0

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'service.db'}"

    def bind_host(self, process: str) -> str:
        """The interface `process` ("rasa", "action", "service" or "wechat") listens on."""
        return getattr(self, f"{process}_host") or self.host or "127.0.0.1"

    def resolved_tracker_store_url(self) -> str:
        """Rasa's tracker store as Rasa is given it (bot/stack.py): SQLite in data_dir by default."""
        return self.tracker_store_url or f"sqlite:///{self.data_dir / 'rasa_tracker.db'}"

    def resolved_service_url(self) -> str:
        return self.service_url or http_url(self.bind_host("service"), self.service_port)

    def resolved_rasa_url(self) -> str:
        return (self.rasa_url or http_url(self.bind_host("rasa"), self.rasa_port)).rstrip("/")

    def resolved_action_url(self) -> str:
        return http_url(self.bind_host("action"), self.action_port)

    def resolved_action_token(self) -> str:
        return self.action_token or data_dir_secret(self.data_dir, "action_token")


_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def http_url(bind_host: str, port: int) -> str:
    """The URL a process on this machine uses to reach a server bound to `bind_host`."""
    host = _ANY_ADDRESS.get(bind_host, bind_host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()
