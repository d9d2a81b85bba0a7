"""The fault matrix of urgent (急难) reports: every process of the stack killed with SIGKILL
at the worst moment, a service that refuses the report, a spool that cannot be written, and
PostgreSQL dying under the service. Real processes on loopback (bot/stack.py), one shared stack;
a test restarts only what it kills.

Each fault ends with exactly one case for the report (or its dead letter, the alert and a case
of last resort), or with the resident told plainly to call 12345 now; never a reply that lies.
"In flight" is made exact by freezing (SIGSTOP) the process that should answer and waiting
until the request sits unread in its socket (/proc/net/tcp) before killing.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select

from actions import spool
from bot.cases.store import Case, DeadLetter
from bot.db import Database
from bot.stack import Process, free_port
from tests.conftest import say, texts
from tests.e2e.test_urgent_reports import PLACE_AND_PHONE, cases_of, report, sender, service_db, stack_spool, utc  # noqa: F401  (stack_spool is a fixture)
from tests.support.postgres import start_postgres

pytestmark = pytest.mark.e2e

FIRST = "屋头断粮好几天了，娃儿没饭吃"
SPOOLED = "不会丢"  # "…记在这里了，恢复后会马上转给工作人员，不会丢"
REGISTERED = "已登记"  # "已登记为急难求助，工单号 …"
CALL_NOW = "请现在就拨打 12345"  # utter_report_not_stored (domain/handover.yml)


def now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- processes


def kill9(process: Process) -> None:
    """SIGKILL to the process and everything it spawned (its own process group)."""
    assert process.popen is not None and process.alive(), f"{process.name} is not running"
    os.killpg(process.popen.pid, signal.SIGKILL)
    process.popen.wait(10)


def signal_pids(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def group_pids(process: Process) -> list[int]:
    assert process.popen is not None
    pgid = process.popen.pid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    found.append(int(entry.name))
            except ProcessLookupError:
                pass
    return found


@contextmanager
def frozen(pids: Callable[[], list[int]]) -> Iterator[Callable[[], None]]:
    """SIGSTOP on the processes; yields `thaw` (called at the latest when the block ends)."""
    stopped = pids()
    signal_pids(stopped, signal.SIGSTOP)
    state = {"frozen": True}

    def thaw() -> None:
        if state["frozen"]:
            signal_pids(stopped, signal.SIGCONT)
            state["frozen"] = False

    try:
        yield thaw
    finally:
        thaw()


def unread_request(port: int) -> bool:
    """Some connection to `port` on loopback holds bytes its (frozen) server has not read."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and int(queues.split(":")[1], 16) > 0:
                return True
    return False


def wait_until_in_flight(port: int, turn: Future, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not unread_request(port):
        if turn.done():
            raise AssertionError(f"the turn ended before its request reached port {port}: {turn.result()!r}")
        assert time.monotonic() < deadline, f"no request reached port {port} within {within}s"
        time.sleep(0.02)


def port_of(url: str) -> int:
    return httpx.URL(url).port


# ---------------------------------------------------------------- the resident


def turn_in_background(pool: ThreadPoolExecutor, stack, who: str, message: str) -> Future:
    """A message whose answer may never come (Rasa killed while it is answered)."""

    def send() -> str:
        try:
            return texts(say(stack, who, message))
        except httpx.HTTPError as exc:
            return f"<no answer: {exc!r}>"

    return pool.submit(send)


def start_report(stack, who: str) -> datetime:
    """The report and the place with a phone number; the next message ("可以") submits it.
    Returns the time the resident reported."""
    reported = now()
    assert "登记" in texts(say(stack, who, FIRST))
    assert "可以吗" in texts(say(stack, who, PLACE_AND_PHONE))
    return reported


def assert_not_a_lie(reply: str, spooled: bool) -> None:
    """What a resident may be told about a report that is not yet a case."""
    assert REGISTERED not in reply, reply
    if spooled:
        assert SPOOLED in reply and "12345" in reply, reply


def assert_reported_at(case: Case, reported: datetime, arrived_after: datetime | None = None) -> None:
    """The case keeps the time the resident reported, not the time it reached the desk."""
    created = utc(case.created_at)
    assert reported - timedelta(seconds=1) <= created <= reported + timedelta(seconds=5), (created, reported)
    if arrived_after is not None:
        assert created < arrived_after - timedelta(seconds=2), (created, arrived_after)
    assert case.type == "urgent" and case.priority == "urgent"


def wait_for_exactly_one(
    stack, whos: list[str], since: float, within: float = 10, db_url: str | None = None
) -> dict[str, tuple[Case, float]]:
    """Each sender's one case, and how many seconds after `since` (time.monotonic()) it was
    there: at most `within`. A drain round later there is still one case each."""
    arrived: dict[str, tuple[Case, float]] = {}
    while len(arrived) < len(whos):
        for who in set(whos) - set(arrived):
            found = cases_in(db_url, who) if db_url else cases_of(stack, who)
            if found:
                arrived[who] = (found[0], time.monotonic() - since)
        waited = time.monotonic() - since
        assert waited <= within or len(arrived) == len(whos), (
            f"not delivered {waited:.1f}s after recovery: {set(whos) - set(arrived)}"
        )
        time.sleep(0.1)
    time.sleep(3.5)  # one more drain round: a duplicate would show now
    for who, (case, _) in arrived.items():
        again = cases_in(db_url, who) if db_url else cases_of(stack, who)
        assert [c.number for c in again] == [case.number], f"{len(again)} cases for the one report of {who}"
    return arrived


def cases_in(db_url: str, who: str) -> list[Case]:
    db = Database(db_url)
    try:
        with db.session() as s:
            return list(s.scalars(select(Case).where(Case.sender_id == who).order_by(Case.id)))
    finally:
        db.engine.dispose()


@pytest.fixture
def quiet_spool(stack, stack_spool):
    """No report waiting in the action server's spool when a test starts or ends."""
    assert spool.pending() == []
    yield
    deadline = time.monotonic() + 10
    while spool.pending():
        assert time.monotonic() < deadline, spool.pending()
        time.sleep(0.2)


# ---------------------------------------------------------------- the service dies


def test_service_killed_before_and_during_submission_each_report_arrives_once_within_10_s(stack, quiet_spool):
    service = stack.processes["service"]
    during, before = sender("kill-svc-during"), sender("kill-svc-before")
    reported = {during: start_report(stack, during)}
    with ThreadPoolExecutor(1) as pool:
        try:
            with frozen(lambda: group_pids(service)):
                consent = turn_in_background(pool, stack, during, "可以")
                wait_until_in_flight(port_of(stack.service_url), consent)
                kill9(service)  # the service dies holding the report, unread
            told = {during: consent.result(timeout=60)}
            reported[before] = now()  # with the service already dead
            told[before] = report(stack, before, FIRST)
            for who in (during, before):
                assert_not_a_lie(told[who], spooled=True)
            time.sleep(3)  # nobody writes to the bot from here on
            assert cases_of(stack, during) == [] and cases_of(stack, before) == []
        finally:
            service.restart(timeout=240)
    back, since = now(), time.monotonic()
    for who, (case, waited) in wait_for_exactly_one(stack, [during, before], since).items():
        print(f"service kill -9 ({who.split('-')[2]} submission): delivered {waited:.1f}s after the service was back")
        assert_reported_at(case, reported[who], back)


# ---------------------------------------------------------------- the action server dies


def test_action_server_killed_during_the_turn_or_after_the_spool_write_delivers_once_at_its_start(stack, quiet_spool):
    service, actions = stack.processes["service"], stack.processes["actions"]
    in_turn, spooled = sender("kill-act-turn"), sender("kill-act-spooled")
    reported = {in_turn: start_report(stack, in_turn), spooled: start_report(stack, spooled)}
    told = {}
    with ThreadPoolExecutor(1) as pool:
        try:
            # 1. Killed while its submission waits on the (frozen) service, which then dies
            #    too, the request unread: only the action server could have kept the report.
            with frozen(lambda: group_pids(service)):
                consent = turn_in_background(pool, stack, in_turn, "可以")
                wait_until_in_flight(port_of(stack.service_url), consent)
                kill9(actions)
                told[in_turn] = consent.result(timeout=60)
                kill9(service)
            # 2. Killed right after it spooled a report (the service is down, so it must).
            actions.restart(timeout=120)
            told[spooled] = texts(say(stack, spooled, "可以"))
            kill9(actions)
            service.restart(timeout=240)
            time.sleep(2)
            assert cases_of(stack, spooled) == []  # nobody drains while the action server is dead
        finally:
            if not service.alive():
                service.restart(timeout=240)
            if not actions.alive():
                actions.restart(timeout=120)
    started, since = now(), time.monotonic()
    print(f"action server kill -9 during the turn: the resident was told {told[in_turn]!r}")
    assert_not_a_lie(told[in_turn], spooled=False)
    assert_not_a_lie(told[spooled], spooled=True)
    for who, (case, waited) in wait_for_exactly_one(stack, [in_turn, spooled], since).items():
        print(f"action server kill -9 ({who.split('-')[2]}): one case, {waited:.1f}s after it started again")
        assert_reported_at(case, reported[who], started if who == spooled else None)


# ---------------------------------------------------------------- Rasa dies


def test_rasa_killed_while_it_answers_the_consent_the_conversation_goes_on_with_one_case(stack, quiet_spool):
    service, rasa = stack.processes["service"], stack.processes["rasa"]
    who = sender("kill-rasa")
    reported = start_report(stack, who)
    with ThreadPoolExecutor(1) as pool:
        try:
            with frozen(lambda: group_pids(service)):
                consent = turn_in_background(pool, stack, who, "可以")
                wait_until_in_flight(port_of(stack.service_url), consent)
                kill9(rasa)  # the action is submitting; Rasa never saves this turn
            lost = consent.result(timeout=60)
            assert REGISTERED not in lost, lost
            [(first, _)] = wait_for_exactly_one(stack, [who], time.monotonic()).values()  # the action ran
        finally:
            rasa.restart(timeout=240)
    # The resident heard nothing and says it again: the same report, the same case.
    reply = texts(say(stack, who, "可以"))
    assert f"已登记为急难求助，工单号 {first.number}" in reply, reply
    assert "不客气" in texts(say(stack, who, "谢谢你"))
    assert [c.number for c in cases_of(stack, who)] == [first.number]
    assert_reported_at(first, reported)


# ---------------------------------------------------------------- the service refuses the report


class RefusingProxy:
    """In front of the service: answers POST /v1/cases with a 422 for the senders in
    `refuse`, forwards everything else as it is."""

    def __init__(self, upstream: str):
        self.upstream, self.refuse, self.refused = upstream, set(), 0
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        async def forward(path: str, request: Request):
            body = await request.body()
            if request.method == "POST" and path == "v1/cases":
                try:
                    who = json.loads(body).get("sender_id")
                except ValueError:
                    who = None
                if who in self.refuse:
                    self.refused += 1
                    return Response(
                        json.dumps({"detail": "字段 channel 的取值不在允许范围内"}, ensure_ascii=False),
                        status_code=422,
                        media_type="application/json",
                    )
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            async with httpx.AsyncClient(timeout=30) as client:
                r = await client.request(
                    request.method,
                    f"{self.upstream}/{path}",
                    params=request.query_params,
                    content=body,
                    headers=headers,
                )
            return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))

    def __enter__(self) -> RefusingProxy:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@contextmanager
def actions_reaching(stack, url: str) -> Iterator[None]:
    """The action server restarted to reach the service at `url`, and put back afterwards."""
    actions = stack.processes["actions"]
    original = actions.env["JZ_SERVICE_URL"]
    actions.env["JZ_SERVICE_URL"] = url
    try:
        actions.restart(timeout=120)
        yield
    finally:
        actions.env["JZ_SERVICE_URL"] = original
        actions.restart(timeout=120)


def test_a_report_the_service_refuses_is_a_dead_letter_and_a_last_resort_case_and_blocks_nothing(stack, quiet_spool):
    refused, later = sender("refused-422"), sender("after-422")
    with RefusingProxy(stack.service_url) as proxy, actions_reaching(stack, proxy.url):
        proxy.refuse.add(refused)
        reported = now()
        told = report(stack, refused, FIRST)
        assert proxy.refused >= 1
        told_later = report(stack, later, FIRST)  # right behind it, through the same door
    # The refused report: one case of last resort, which is what the resident was told of.
    [case] = cases_of(stack, refused)
    assert case.title.startswith("【未能自动登记】") and case.priority == "urgent"
    assert f"已登记为急难求助，工单号 {case.number}" in told and "12345" in told, told
    assert_reported_at(case, reported)
    # …and a dead letter in the service (the console's alert) and in the action server's spool.
    db = service_db(stack)
    try:
        with db.session() as s:
            letter = s.scalar(select(DeadLetter).where(DeadLetter.sender_id == refused))
            assert letter is not None and letter.resolved_at is None and "422" in letter.error
            assert letter.case_number == case.number and letter.idempotency_key == case.idempotency_key
    finally:
        db.engine.dispose()
    [kept] = [d for d in spool.dead_letters() if d["case"].get("sender_id") == refused]
    assert kept["acknowledged_at"] and kept["case_number"] == case.number
    # The report behind it was not held up.
    [ok] = cases_of(stack, later)
    assert f"已登记为急难求助，工单号 {ok.number}" in told_later and not ok.title.startswith("【")


# ---------------------------------------------------------------- nowhere to keep it

SPOOL_FILES = ("actions_spool.db", "actions_spool.db-wal", "actions_spool.db-shm")


@contextmanager
def broken_spool(data_dir: Path, how: str) -> Iterator[None]:
    """The spool file replaced by /dev/full (a full disk: every write fails with ENOSPC, SQLite
    says "database or disk is full"), or by a directory (it cannot be opened at all)."""
    aside = data_dir / "spool-aside"
    aside.mkdir()
    db = data_dir / SPOOL_FILES[0]
    try:
        for name in SPOOL_FILES:
            if (data_dir / name).exists():
                os.rename(data_dir / name, aside / name)
        if how == "full":
            (data_dir / "spool-link").symlink_to("/dev/full")
            os.replace(data_dir / "spool-link", db)
        else:
            if db.exists():  # the drainer made a new one a moment ago
                db.unlink()
            db.mkdir()
        yield
    finally:
        if db.is_dir() and not db.is_symlink():
            db.rmdir()
        for name in SPOOL_FILES:
            if (aside / name).exists():
                os.replace(aside / name, data_dir / name)
            elif (data_dir / name).exists() or (data_dir / name).is_symlink():
                (data_dir / name).unlink()
        aside.rmdir()


def test_a_report_that_can_be_kept_nowhere_tells_the_resident_to_call_12345_now(stack, quiet_spool):
    service, data_dir = stack.processes["service"], stack.settings.data_dir
    breakages = ["full", "unopenable"]  # chmod would not stop root, and the tests run as root
    # The spool is only needed when the service is not there: with it, a report is a case.
    up = sender("no-spool-service-up")
    with broken_spool(data_dir, "full"):
        told = report(stack, up, FIRST)
    [case] = cases_of(stack, up)
    assert f"已登记为急难求助，工单号 {case.number}" in told, told
    nowhere = {how: sender(f"no-spool-{how}") for how in breakages}
    kill9(service)
    try:
        for how, who in nowhere.items():
            with broken_spool(data_dir, how):
                told = report(stack, who, FIRST)
            assert CALL_NOW in told and "110、120 或 119" in told, (how, told)
            assert REGISTERED not in told and SPOOLED not in told and "记在这里" not in told, (how, told)
    finally:
        service.restart(timeout=240)
    time.sleep(3.5)  # a drain round: nothing half-kept turns up later
    for who in nowhere.values():
        assert cases_of(stack, who) == []
    assert spool.pending() == []


# ---------------------------------------------------------------- PostgreSQL dies under the service


@pytest.mark.postgres
def test_postgresql_killed_during_submission_the_report_arrives_once_when_it_is_back(stack, quiet_spool):
    service = stack.processes["service"]
    server = start_postgres()  # of its own: the session's server is shared by other tests
    original = service.env["JZ_DATABASE_URL"]
    try:
        db_url = server.create_database()
        service.env["JZ_DATABASE_URL"] = db_url
        service.restart(timeout=240)
        who = sender("kill-pg")
        reported = start_report(stack, who)
        with ThreadPoolExecutor(1) as pool:
            pids = server.pids()
            with frozen(lambda: pids):
                consent = turn_in_background(pool, stack, who, "可以")
                wait_until_in_flight(server.port, consent)  # the service is storing the case
                server.kill(pids)
            told = consent.result(timeout=60)
        assert_not_a_lie(told, spooled=True)
        time.sleep(3)
        server.restart()
        back, since = now(), time.monotonic()
        [(case, waited)] = wait_for_exactly_one(stack, [who], since, db_url=db_url).values()
        print(f"PostgreSQL kill -9: delivered {waited:.1f}s after PostgreSQL was back")
        assert_reported_at(case, reported, back)
    finally:
        service.env["JZ_DATABASE_URL"] = original
        service.restart(timeout=240)
        server.stop()
