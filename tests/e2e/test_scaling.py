"""Scaling out: two Rasa servers sharing a PostgreSQL tracker store and a Redis lock
store, with the service on PostgreSQL too. A conversation started on one server
continues on the other."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.stack import Stack, free_port
from tests.conftest import stack_settings, texts
from tests.support.postgres import postgres_server  # noqa: F401  (fixture)
from tests.support.redis import redis_server  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def post(url: str, sender: str, message: str) -> list[dict]:
    r = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
    r.raise_for_status()
    return r.json()


def test_two_rasa_servers_share_conversations(tmp_path, postgres_server, redis_server):
    tracker_db = postgres_server.create_database()
    service_db = postgres_server.create_database()
    stack = Stack(
        stack_settings(tmp_path, tracker_store_url=tracker_db, lock_store_url=redis_server.url, database_url=service_db)
    )
    stack.build()
    second = stack.rasa_process("rasa2", free_port())
    stack.processes["rasa2"] = second
    stack.start()
    try:
        sender = f"scale-{uuid.uuid4().hex[:8]}"
        first_url = stack.rasa_url
        second_url = second.health_url.rstrip("/")
        # The place is learnt on server 1 and used on server 2.
        post(first_url, sender, "临时救助咋个申请")
        reply = texts(post(second_url, sender, "我是渠县的"))
        assert reply.startswith("好的，") and "渠县" in reply.split("\n", 1)[0], reply

        # Both servers wrote the same conversation to PostgreSQL.
        engine = create_engine(tracker_db)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": sender}
            ).scalar()
        assert rows == 2
        # The lock store is Redis: locks were taken and released there.
        stats = redis_server.cli("info", "commandstats")
        assert "cmdstat_set:" in stats and "cmdstat_del:" in stats

        # The service's own database is PostgreSQL too: a handover lands there.
        reply = texts(post(second_url, sender, "我要找人工"))
        assert "工单号 GD" in reply
        with create_engine(service_db).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases WHERE sender_id = :s"), {"s": sender}).scalar() == 1
    finally:
        stack.stop()
        for p in stack.processes.values():
            p.stop()
