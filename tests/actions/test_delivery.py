"""The spool's decisions, with a scripted service: what is kept, what is dead-lettered,
and that nothing blocks the reports behind it."""

from __future__ import annotations

import asyncio

import pytest

from actions import delivery, spool
from actions.api.service import ServiceRefused, ServiceUnavailable
from bot.config import settings


@pytest.fixture(autouse=True)
def own_spool(tmp_path, monkeypatch):
    monkeypatch.setenv("JZ_DATA_DIR", str(tmp_path))
    settings.cache_clear()
    yield
    settings.cache_clear()


class ScriptedService:
    """create_case answers by the report's title: 'ok', '500', '422', '401', 'down'."""

    def __init__(self, everything: str | None = None):
        self.everything = everything
        self.created: dict[str, dict] = {}
        self.dead: dict[str, dict] = {}

    async def create_case(self, case, key, attempts=4, backoff=0.5):
        what = self.everything or case["title"]
        if what == "down":
            raise ServiceUnavailable("connect refused")
        if what == "500":
            raise ServiceUnavailable("HTTP 500", 500)
        if what in ("422", "401"):
            raise ServiceRefused(f"HTTP {what}", int(what))
        self.created.setdefault(key, {"number": f"GD{len(self.created) + 1:06d}", **case})
        return self.created[key]

    async def report_dead_letter(self, key, case, error):
        if self.everything == "down":
            raise ServiceUnavailable("connect refused")
        self.dead[key] = {"case": case, "error": error}
        return {"dead_letter": {"id": len(self.dead)}, "case": {"number": f"GD-LR-{key}", "check_code": "123456"}}


def spool_titles(*titles: str) -> None:
    for i, title in enumerate(titles):
        spool.save(f"k{i}-{title}", {"type": "urgent", "title": title})


def flush(service) -> dict:
    return asyncio.run(delivery.flush(service))


def test_dispositions():
    assert delivery.disposition(ServiceUnavailable("x")) == "stop"
    assert delivery.disposition(ServiceUnavailable("x", 503)) == "retry"
    assert delivery.disposition(ServiceRefused("x", 422)) == "bury"
    assert delivery.disposition(ServiceRefused("x", 404)) == "bury"
    for status in (401, 403, 429):
        assert delivery.disposition(ServiceRefused("x", status)) == "hold"


def test_a_refused_report_is_buried_and_the_round_goes_on():
    spool_titles("ok", "422", "ok")
    service = ScriptedService()
    assert flush(service) == {"sent": 2, "buried": 1, "kept": 0, "handed_over": 0}
    assert spool.pending() == [] and set(service.created) == {"k0-ok", "k2-ok"}
    [letter] = spool.dead_letters()
    assert letter["key"] == "k1-422" and letter["acknowledged_at"] and letter["case_number"] == "GD-LR-k1-422"


def test_a_dead_letter_the_service_could_not_take_is_handed_over_later():
    spool_titles("422")
    flush(_DownForDeadLetters())
    [letter] = spool.dead_letters()
    assert letter["acknowledged_at"] is None and letter["report_attempts"] == 1
    service = ScriptedService()
    assert flush(service)["handed_over"] == 1
    assert spool.dead_letters()[0]["acknowledged_at"] and "k0-422" in service.dead


class _DownForDeadLetters(ScriptedService):
    async def report_dead_letter(self, key, case, error):
        raise ServiceUnavailable("connect refused")


def test_a_report_the_service_keeps_failing_on_is_dead_lettered_only_while_others_get_through():
    spool_titles("500", "ok")
    service = ScriptedService()
    for _ in range(delivery.MAX_SERVER_ERRORS - 1):
        flush(service)
        assert [k for k, _ in spool.pending()] == ["k0-500"]  # kept, and never in the way
        spool.save(f"more-{_}", {"type": "urgent", "title": "ok"})
    counts = flush(service)
    assert counts["buried"] == 1 and spool.pending() == []
    assert "server errors in a row" in spool.dead_letters()[0]["error"]


def test_a_service_failing_for_everyone_never_turns_reports_into_dead_letters():
    spool_titles("a", "b")
    service = ScriptedService(everything="500")
    for _ in range(delivery.MAX_SERVER_ERRORS + 5):
        assert flush(service)["buried"] == 0
    assert len(spool.pending()) == 2 and spool.dead_letters() == []


@pytest.mark.parametrize("state", ["down", "401"])
def test_an_unreachable_or_unwelcoming_service_keeps_everything(state):
    spool_titles("a", "b", "c")
    counts = flush(ScriptedService(everything=state))
    assert counts == {"sent": 0, "buried": 0, "kept": 1, "handed_over": 0}  # one try, then the next round
    assert len(spool.pending()) == 3 and spool.dead_letters() == []
    assert flush(ScriptedService())["sent"] == 3


def test_a_drainer_sends_without_being_asked(monkeypatch):
    spool_titles("ok")
    service = ScriptedService()
    monkeypatch.setattr(delivery, "ServiceClient", lambda: service)  # it builds its client each round

    async def scenario():
        drainer = delivery.Drainer(interval=0.05)
        task = asyncio.create_task(drainer.run())
        for _ in range(100):
            if service.created:
                break
            await asyncio.sleep(0.02)
        drainer.stop()
        await task

    asyncio.run(scenario())
    assert "k0-ok" in service.created and spool.pending() == []
