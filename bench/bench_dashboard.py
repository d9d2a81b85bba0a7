"""The supervisor's figures (bot/cases/stats.py) on 100 000 cases in PostgreSQL.

A fresh server (tests/support/postgres.py: initdb in a temporary folder, loopback, fsync off),
the schema by the migrations, then 100 000 cases received over 13 weeks (ids in arrival order) (about a third of them
in May 2025, the month measured) and their events — created, assigned, replied, resolved,
transferred, followed up: about 3.7 a case — written with COPY. Then the month's dashboard,
grouped by each of hotline / place / type / handler, 10 warm runs each (after 2 warm-ups):
median and max in ms; the same for a week and a day of May. The bar: ≤ 200 ms (under_bar: the
month's worst run; medians_under_bar: every median). EXPLAIN ANALYZE of each query of one month
run is printed; the figures name the plan of the heaviest one.

    .venv/bin/python -m bench.run dashboard
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.cases import stats
from bot.cases.sla import load_rules
from bot.db import Database
from tests.support.postgres import start_postgres

CASES = 100_000
RUNS = 10
BAR_MS = 200.0
FIRST = datetime(2025, 3, 2, 16, 0)  # 00:00 on 3 March, Beijing time, as naive UTC
DAYS = 91
NOW = datetime(2025, 6, 1, 2, 0)
PLACES = [("渠县", "12345"), ("达州市", "12349"), ("巴中市", "12349"), ("会宁县", "12349"), ("全国", "12349")]
TYPES = ["consultation", "consultation", "consultation", "eligibility_followup", "complaint", "urgent", "discovery"]
CASE_COLUMNS = (
    "id number check_code type channel sender_id jurisdiction hotline priority priority_rank status title summary"
    " transcript questions programs contact assignee_id created_by escalated created_at updated_at due_at"
    " assigned_at first_response_at resolved_at closed_at resolution followup_at satisfaction followup_note version"
).split()


def _cases(rng: random.Random, operators: list[int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    cases, events = [], []
    # Ids in the order cases came in, events in the order they happened: as the desk writes them.
    received = sorted(FIRST + timedelta(seconds=rng.randrange(DAYS * 86400)) for _ in range(CASES))
    for i, created in enumerate(received, start=1):
        place, hotline = rng.choice(PLACES)
        kind = rng.choice(TYPES)
        due = created + timedelta(days=3)
        roll = rng.random()
        assignee = rng.choice(operators) if roll > 0.1 else None
        assigned = created + timedelta(minutes=rng.randrange(1, 120)) if assignee else None
        replied = assigned + timedelta(minutes=rng.randrange(1, 600)) if assigned and roll > 0.15 else None
        resolved = replied + timedelta(hours=rng.randrange(1, 120)) if replied and roll > 0.35 else None
        transferred = replied + timedelta(hours=1) if replied and 0.25 < roll <= 0.35 else None
        followup = resolved + timedelta(days=1) if resolved and roll > 0.6 else None
        satisfaction = (
            rng.choice(["satisfied", "basically_satisfied", "dissatisfied", "unreachable"]) if followup else None
        )
        status = (
            "resolved"
            if resolved
            else "transferred"
            if transferred
            else "in_progress"
            if replied
            else "assigned"
            if assigned
            else "new"
        )
        cases.append(
            (i, f"GD{i:014d}", "AB3D5F7G", kind, "web", f"conv-{i}", place, hotline, "normal", 2, status, "咨询", "")
            + ("[]", "[]", "[]", "{}", assignee, "bot", False, created, created, due, assigned, replied, resolved)
            + (None, "", followup, satisfaction, "", 1)
        )
        events.append((i, created, "bot", "created", "{}"))
        for moment, action in ((assigned, "assigned"), (replied, "reply"), (resolved, "status")):
            if moment:
                events.append((i, moment, "op", action, "{}"))
        if transferred:
            events.append((i, transferred, "op", "transferred", '{"to": "区民政局"}'))
        if followup:
            events.append((i, followup, "op", "followup", "{}"))
    events.sort(key=lambda e: e[1])
    return cases, events


def _load(url: str) -> dict[str, float]:
    import psycopg

    rng = random.Random(20250501)
    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO desk_users (id, username, display_name, role, password_hash, active, session_version,"
            " created_at, must_change_password) VALUES (%s, %s, %s, 'operator', 'x', true, 1, %s, false)",
            [(i, f"op{i}", f"话务员{i}", FIRST) for i in range(1, 21)],
        )
        cases, events = _cases(rng, list(range(1, 21)))
        built = time.perf_counter()
        with cur.copy(f"COPY cases ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for row in cases:
                copy.write_row(row)
        with cur.copy("COPY case_events (case_id, at, actor, action, detail) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {
        "setup_s": round(time.perf_counter() - started, 1),
        "rows_built_s": round(built - started, 1),
        "events": float(len(events)),
    }


def _explain(db: Database, grouping: str, period: stats.Period) -> list[tuple[float, str]]:
    """EXPLAIN ANALYZE of every statement one dashboard run sends: (ms, plan)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "SET")):
            sent.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    with db.session() as s:
        stats.dashboard(s, period, grouping, NOW)
    event.remove(db.engine, "before_cursor_execute", capture)
    plans = []
    with db.engine.connect() as conn:
        for statement, params in sent:
            if statement.lstrip().upper().startswith("SET"):  # SET LOCAL work_mem: as the run had it
                conn.exec_driver_sql(statement, params)
                continue
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
            plan = "\n".join(r[0] for r in rows)
            ms = float(plan.rsplit("Execution Time:", 1)[1].split()[0])
            plans.append((ms, plan))
    return plans


def run() -> dict[str, Any]:
    server = start_postgres()
    try:
        url = server.create_database("dashboard")
        db = Database(url)
        db.migrate()
        figures: dict[str, Any] = {"cases": CASES, **_load(url)}
        tz = load_rules().tz
        period = stats.period_of("month", date(2025, 5, 1), tz)
        worst, medians = 0.0, []
        for kind in ("month", "week", "day"):
            for grouping in stats.Grouping:
                times = []
                for i in range(RUNS + 2):
                    t = time.perf_counter()
                    with db.session() as s:
                        report = stats.dashboard(s, stats.period_of(kind, date(2025, 5, 14), tz), grouping, NOW)
                    if i >= 2:
                        times.append((time.perf_counter() - t) * 1000)
                figures[f"{kind}_{grouping}_median_ms"] = round(statistics.median(times), 1)
                figures[f"{kind}_{grouping}_max_ms"] = round(max(times), 1)
                medians.append(statistics.median(times))
                if kind == "month":
                    worst = max(worst, max(times))
                if kind == "month" and grouping == stats.Grouping.hotline:
                    total = report.total
                    figures["may_received"] = total.received
                    figures["may_resolved"] = total.resolved
                    figures["may_first_response_median_min"] = round((total.first_response_median_s or 0) / 60, 1)
        figures["medians_under_bar"] = max(medians) <= BAR_MS
        figures["worst_ms"] = round(worst, 1)
        figures["under_bar"] = worst <= BAR_MS
        plans = _explain(db, "hotline", period)
        for ms, plan in plans:
            print(f"--- {ms:.1f} ms\n{plan}\n")
        heaviest_ms, heaviest = max(plans)
        scans = [line.strip().lstrip("-> ").split("  (")[0] for line in heaviest.splitlines() if "Scan" in line]
        figures["explain_queries"] = len(plans)
        figures["explain_heaviest_ms"] = round(heaviest_ms, 1)
        figures["explain_heaviest_scans"] = "; ".join(scans)[:300]
        db.engine.dispose()
        return figures
    finally:
        server.stop()


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:40s} {value}")
