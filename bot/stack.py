"""Starts and stops the whole assistant: Rasa server, action server, service (and the
Telegram gateway when JZ_TELEGRAM_TOKEN is set, the WeChat gateway when JZ_WECHAT_TOKEN is).

Used by `make run` (python -m bot.stack) and by the end-to-end tests, so the
way the processes are wired together lives in exactly one place.
Rasa reads endpoint.yml, whose ${JZ_RASA_*} variables are filled in here.

Each process binds its own interface (Settings.bind_host: JZ_RASA_HOST, JZ_ACTION_HOST,
JZ_SERVICE_HOST, all defaulting to JZ_HOST, loopback), and Rasa calls the action server
with the shared action token, which the action server requires of every call.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.config import PROJECT_ROOT, Settings, http_url
from bot.rasa_model import ensure_model, rasa_bin, rasa_env

APP_PYTHON = Path(sys.executable)
GATEWAYS = ("telegram", "wechat")  # started once Rasa and the service answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Process:
    name: str
    cmd: list[str]
    health_url: str | None  # None: no HTTP port (the Telegram gateway); healthy = alive
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Own process group, so stopping also stops whatever the process spawned. The child
        # keeps its own copy of the log's descriptor, so ours is closed once it has started.
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.cmd, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def healthy(self) -> bool:
        if self.health_url is None:
            return self.alive()
        try:
            return httpx.get(self.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def restart(self, timeout: float = 60) -> None:
        """Stops (if running) and starts again, returning once healthy."""
        self.stop()
        self.start()
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not come back:\n{self.tail()}")
            time.sleep(0.25)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    settings: Settings
    model: Path | None = None
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.settings.bot_token:  # shared by the service and the action server
            self.settings = self.settings.model_copy(update={"bot_token": secrets.token_urlsafe(24)})
        if not self.settings.action_token:  # shared by Rasa and the action server only
            self.settings = self.settings.model_copy(update={"action_token": self.settings.resolved_action_token()})

    @property
    def rasa_url(self) -> str:
        """The Rasa server this stack starts."""
        return http_url(self.settings.bind_host("rasa"), self.settings.rasa_port)

    @property
    def service_url(self) -> str:
        return self.settings.resolved_service_url()

    @property
    def action_url(self) -> str:
        return self.settings.resolved_action_url()

    def _env(self) -> dict[str, str]:
        cfg = self.settings
        env = dict(os.environ)
        env.update(
            {
                "JZ_DATA_DIR": str(cfg.data_dir),
                "JZ_HOST": cfg.host,
                "JZ_RASA_HOST": cfg.bind_host("rasa"),
                "JZ_ACTION_HOST": cfg.bind_host("action"),
                "JZ_SERVICE_HOST": cfg.bind_host("service"),
                "JZ_RASA_URL": cfg.rasa_url or self.rasa_url,
                "JZ_RASA_PORT": str(cfg.rasa_port),
                "JZ_ACTION_PORT": str(cfg.action_port),
                "JZ_SERVICE_PORT": str(cfg.service_port),
                "JZ_SERVICE_URL": self.service_url,
                "JZ_DATABASE_URL": cfg.resolved_database_url(),
                "JZ_BOT_TOKEN": cfg.bot_token,
                # The service's retention job (bot/retention.py) also clears Rasa's tracker store.
                "JZ_TRACKER_STORE_URL": cfg.tracker_store_url,
                "JZ_RETENTION_DAYS": str(cfg.retention_days),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _rasa_env(self) -> dict[str, str]:
        cfg = self.settings
        env = rasa_env() | self._env()
        tracker = cfg.tracker_store_url or f"sqlite:///{cfg.data_dir / 'rasa_tracker.db'}"
        # Rasa 3.6 talks to PostgreSQL through psycopg2: drop a psycopg (3) driver name.
        tracker = tracker.replace("postgresql+psycopg://", "postgresql://", 1)
        env["JZ_RASA_TRACKER_URL"] = tracker
        env["JZ_RASA_TRACKER_DIALECT"] = tracker.split(":", 1)[0].split("+", 1)[0]
        env["JZ_RASA_ACTION_URL"] = f"{self.action_url}/webhook"
        env["JZ_RASA_ACTION_TOKEN"] = cfg.action_token
        if cfg.lock_store_url:  # redis://host:port/db
            u = httpx.URL(cfg.lock_store_url)
            env.update(
                {
                    "JZ_RASA_LOCK_STORE": "redis",
                    "JZ_RASA_REDIS_HOST": u.host,
                    "JZ_RASA_REDIS_PORT": str(u.port or 6379),
                    "JZ_RASA_REDIS_DB": (u.path.strip("/") or "0"),
                }
            )
        else:
            env.update(
                {
                    "JZ_RASA_LOCK_STORE": "in_memory",
                    "JZ_RASA_REDIS_HOST": "",
                    "JZ_RASA_REDIS_PORT": "0",
                    "JZ_RASA_REDIS_DB": "0",
                }
            )
        return env

    def build(self) -> None:
        cfg = self.settings
        logs = cfg.data_dir / "logs"
        self.model = self.model or ensure_model()
        self.processes = {
            "service": Process(
                "service",
                [
                    str(APP_PYTHON),
                    "-m",
                    "uvicorn",
                    "bot.service.app:create_served_app",
                    "--factory",
                    "--host",
                    cfg.bind_host("service"),
                    "--port",
                    str(cfg.service_port),
                    "--no-access-log",
                ],
                f"{self.service_url}/healthz",
                self._env(),
                logs / "service.log",
            ),
            "actions": Process(
                "actions",
                [str(APP_PYTHON), "-m", "actions.server", "--actions", "actions", "--port", str(cfg.action_port)],
                f"{self.action_url}/health",
                self._env() | {"JZ_ACTION_TOKEN": cfg.action_token},
                logs / "actions.log",
            ),
            "rasa": self.rasa_process("rasa", cfg.rasa_port),
        }
        if cfg.telegram_token:
            self.processes["telegram"] = self.telegram_process()
        if cfg.wechat_token:
            self.processes["wechat"] = self.wechat_process()

    def rasa_process(self, name: str, port: int) -> Process:
        """A Rasa server; several can share one tracker store and (Redis) lock store."""
        cfg = self.settings
        self.model = self.model or ensure_model()
        return Process(
            name,
            [
                str(rasa_bin()),
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                "endpoint.yml",
                "--credentials",
                "credentials.yml",
                "--interface",
                cfg.bind_host("rasa"),
                "--port",
                str(port),
            ],
            f"{http_url(cfg.bind_host('rasa'), port)}/",
            self._rasa_env(),
            cfg.data_dir / "logs" / f"{name}.log",
        )

    def telegram_process(self) -> Process:
        """The Telegram gateway: it long-polls the Bot API, so it has no port to check."""
        cfg = self.settings
        env = self._env() | {"JZ_TELEGRAM_TOKEN": cfg.telegram_token, "JZ_TELEGRAM_API_URL": cfg.telegram_api_url}
        return Process(
            "telegram",
            [str(APP_PYTHON), "-m", "bot.channels.telegram"],
            None,
            env,
            cfg.data_dir / "logs" / "telegram.log",
        )

    def wechat_process(self) -> Process:
        """The WeChat gateway: WeChat's servers call its port (JZ_WECHAT_HOST/JZ_WECHAT_PORT)."""
        cfg = self.settings
        host = cfg.bind_host("wechat")
        env = self._env() | {
            "JZ_WECHAT_TOKEN": cfg.wechat_token,
            "JZ_WECHAT_APP_ID": cfg.wechat_app_id,
            "JZ_WECHAT_APP_SECRET": cfg.wechat_app_secret,
            "JZ_WECHAT_AES_KEY": cfg.wechat_aes_key,
            "JZ_WECHAT_API_URL": cfg.wechat_api_url,
            "JZ_WECHAT_HOST": host,
            "JZ_WECHAT_PORT": str(cfg.wechat_port),
        }
        return Process(
            "wechat",
            [str(APP_PYTHON), "-m", "bot.channels.wechat"],
            f"{http_url(host, cfg.wechat_port)}/healthz",
            env,
            cfg.data_dir / "logs" / "wechat.log",
        )

    def start(self, timeout: float = 240) -> None:
        if not self.processes:
            self.build()
        # Servers first; the channel gateways (GATEWAYS, or any process without a port) once those answer,
        # so no resident is told "the assistant is unreachable" during start-up.
        servers = [p for p in self.processes.values() if p.health_url and p.name not in GATEWAYS]
        self._start_and_wait(servers, timeout)
        self._start_and_wait([p for p in self.processes.values() if p not in servers], timeout)

    def _start_and_wait(self, processes: list[Process], timeout: float) -> None:
        for p in processes:
            p.start()
        deadline = time.monotonic() + timeout
        waiting = list(processes)
        while waiting:
            for p in list(waiting):
                if not p.alive():
                    self.stop()
                    raise RuntimeError(f"{p.name} exited during start-up:\n{p.tail()}")
                if p.healthy():
                    waiting.remove(p)
            if time.monotonic() > deadline:
                names = ", ".join(p.name for p in waiting)
                self.stop()
                raise RuntimeError(f"not healthy after {timeout:.0f}s: {names}")
            time.sleep(0.5)

    def stop(self) -> None:
        for name in ("wechat", "telegram", "rasa", "actions", "service"):
            if name in self.processes:
                self.processes[name].stop()


class StopRequested(Exception):
    """Ctrl-C or SIGTERM: raised where `make run` is, start-up included, so it stops what it started."""


def _request_stop(*_) -> None:
    raise StopRequested


def main() -> int:
    from bot.config import settings

    stack = Stack(settings())
    print("preparing the Rasa model…", flush=True)
    stack.build()
    # From here on every process started is stopped again however `make run` ends: the servers
    # run in sessions of their own, so a Ctrl-C during start-up used to leave them holding the ports.
    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    try:
        print(f"model: {stack.model}\nstarting the service, the action server and Rasa…", flush=True)
        started = time.monotonic()
        stack.start()
        _print_running(stack, time.monotonic() - started)
        while True:
            dead = [p.name for p in stack.processes.values() if not p.alive()]
            if dead:
                print(f"stopped unexpectedly: {', '.join(dead)}; see the logs above", file=sys.stderr)
                for name in dead:
                    print(stack.processes[name].tail(), file=sys.stderr)
                return 1
            time.sleep(0.5)
    except StopRequested:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nstopping…", flush=True)
        stack.stop()
        print("stopped.", flush=True)


def _print_running(stack: Stack, seconds: float) -> None:
    telegram = "  Telegram        gateway polling the Bot API\n" if "telegram" in stack.processes else ""
    if "wechat" in stack.processes:
        telegram += f"  WeChat          {stack.processes['wechat'].health_url.removesuffix('/healthz')}/wechat\n"
    print(
        f"\n社会救助助手 is running ({seconds:.0f}s to start):\n"
        f"  web chat        {stack.service_url}/\n"
        f"  service API     {stack.service_url}/docs\n"
        f"  Rasa REST       {stack.rasa_url}/webhooks/rest/webhook\n"
        f"  action server   {stack.action_url}/health\n"
        f"  operator console {stack.service_url}/console  (accounts: python -m bot.cases.admin create-user)\n"
        f"{telegram}"
        f"  logs            {stack.settings.data_dir / 'logs'}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
