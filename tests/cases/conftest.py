"""Fixtures for the case desk: a database (SQLite, or PostgreSQL via tests/support),
desk users, a controllable clock and an app client with sessions."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from fastapi.testclient import TestClient

from bot.cases import users
from bot.cases.desk import Actor, CaseDesk, NewCase
from bot.cases.users import create_user
from bot.config import Settings
from bot.db import Database
from tests.support.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

BOT_TOKEN = "test-bot-token-0123456789"
PASSWORD = "correct-horse-42"


class Clock:
    """A settable UTC clock: `clock.now = ...`, `clock.advance(hours=2)`."""

    def __init__(self, start: datetime = datetime(2025, 5, 19, 2, 0)):  # Monday 10:00 in China
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@dataclass
class People:
    op1: Actor
    op2: Actor
    sup: Actor
    vol: Actor
    admin: Actor


@functools.cache
def _password_hash() -> str:
    """PASSWORD hashed once per test process: five argon2 hashes per test were half of its setup."""
    return users.hash_password(PASSWORD)


def make_users(db: Database) -> People:
    out, digest = {}, _password_hash()
    with db.session() as s, mock.patch.object(users, "hash_password", lambda _password: digest):
        for username, role, name in [
            ("op1", "operator", "王芳"),
            ("op2", "operator", "李强"),
            ("sup", "supervisor", "赵班长"),
            ("vol", "volunteer", "志愿者小刘"),
            ("admin", "admin", "管理员"),
        ]:
            out[username] = Actor.user(create_user(s, username, PASSWORD, role, name))
        s.commit()
    return People(**out)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'cases.db'}")
    database.migrate()
    yield database
    database.engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(db: Database, clock: Clock) -> CaseDesk:
    return CaseDesk(db, clock=clock)


@pytest.fixture
def people(db: Database) -> People:
    return make_users(db)


def new_case(**kw) -> NewCase:
    base = dict(
        type="consultation",
        jurisdiction="渠县",
        sender_id="conv-1",
        summary="咨询低保",
        questions=["渠县低保怎么申请"],
        transcript=[{"role": "resident", "text": "低保怎么申请？"}],
        contact={"name": "张三", "phone": "13812345678", "id_number": "510722199001011234"},
    )
    base.update(kw)
    return NewCase(**base)


# ---------------------------------------------------------------- the app


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    from bot.service.app import create_app

    monkeypatch.setenv("JZ_BOT_TOKEN", BOT_TOKEN)
    application = create_app(Settings(data_dir=tmp_path / "svc"))
    application.state.people = make_users(application.state.db)
    yield application
    application.state.db.engine.dispose()


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


def bot_headers(**extra) -> dict:
    return {"Authorization": f"Bearer {BOT_TOKEN}", **extra}


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Logs in through the form; returns the CSRF token of the session."""
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/console/login",
        data={"username": username, "password": password, "login_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    for path in ("/console/report", "/console"):
        page = client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if page.status_code == 200 and found:
            return found.group(1)
    raise AssertionError("no page with a CSRF token")
