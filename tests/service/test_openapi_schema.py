"""The schema tells the truth: every operation of the service's OpenAPI schema, driven by
schemathesis in-process (ASGI, no network) with generated valid and invalid requests.

Each answer must not be a 5xx, must have a documented status code, the documented content
type and a body matching the documented model (422 included: the app's own validation body,
bot/service/errors.py). Three callers, so the routes behind a login are reached and not only
refused: nobody, the bot token (Authorization: Bearer), and a supervisor's cookie session with
its X-CSRF-Token (the role that may call every desk route). Real case numbers, dead-letter ids,
conversation ids and the web chat token are offered often enough that the routes past their
404/403 are exercised too.

Bounded and reproducible: a fixed seed, deterministic generation, a fixed number of examples
per operation, no shrinking, no example database; one throwaway data folder per session; the
lookup throttle raised so it never decides a result (its 429 has its own tests).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import zlib
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.cases import dead_letters
from bot.cases.desk import BOT, CaseDesk
from bot.cases.users import get_user
from bot.channels import webchat
from bot.config import Settings
from bot.service.auth import _throttle_storage, issue_session, secret_key
from bot.throttle import LookupThrottle
from tests.cases.conftest import make_users, new_case

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Under pytest-xdist schemathesis's per-operation tests pass without sending a request.
    raise RuntimeError(
        "run tests/service/test_openapi_schema.py in one process (without -n): scripts/test.sh and `make test-fast` do"
    )

BOT_TOKEN = "schema-test-bot-token-0123456789"
SEED = 20261122
MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LOTS = "100000 per 15 minutes"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _create_app(data_dir: Path):
    from bot.service.app import create_app

    # Rasa is a closed port: the chat relay answers with its "暂时连不上" text.
    return create_app(
        Settings(
            data_dir=data_dir, bot_token=BOT_TOKEN, retention_days=0, rasa_url=f"http://127.0.0.1:{_closed_port()}"
        )
    )


def _published_schema() -> dict:
    """The app's OpenAPI document, read once at collection from a throwaway app (pytest
    parametrizes by operation then). The tests run against another app, made per module."""
    scratch = Path(tempfile.mkdtemp(prefix="jz-schema-"))
    try:
        app = _create_app(scratch)
        document = app.openapi()
        app.state.db.engine.dispose()
        return document
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _schema(seed: int):
    config = schemathesis.Config.from_dict(
        {
            "seed": seed,
            "suppress-health-check": ["all"],
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "no-shrink": True,
                "deterministic": True,
                "database": "none",
            },
            # Coverage's boundary cases multiply the run time; the examples and fuzzing phases stay.
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_dict(DOCUMENT, config=config)


DOCUMENT = _published_schema()
anonymous, bot, supervisor = _schema(SEED), _schema(SEED + 1), _schema(SEED + 2)


class Service:
    """One app for the module, with desk users, a few cases, a dead letter and a web chat."""

    def __init__(self, data_dir: Path):
        self.app = _create_app(data_dir)
        state = self.app.state
        self.people = make_users(state.db)
        # Hundreds of failed lookups from one client: the throttle must not decide the answers here.
        state.lookup_throttle = LookupThrottle(_throttle_storage(self.app), client_failures=LOTS, global_failures=LOTS)
        desk = state.case_desk = CaseDesk(state.db)
        self.chat = webchat.new_conversation(secret_key(self.app))
        self.numbers, self.lookups = [], []
        for i, kind in enumerate(["consultation", "urgent", "consultation"]):
            view, _ = desk.create_case(new_case(type=kind, sender_id=f"conv-{i}"), BOT)
            self.numbers.append(view["number"])
            self.lookups.append({"number": view["number"], "check_code": view["check_code"]})
        desk.create_case(new_case(sender_id=self.chat.sender), BOT)
        desk.claim_next(self.people.sup)
        letter, _case = dead_letters.record(desk, "schema-test-key", {"type": "urgent", "summary": "着火了"}, "422")
        self.dead_letter_id = letter["id"]
        self.senders = ["conv-0", "conv-1", self.chat.sender]

    def supervisor_headers(self) -> dict[str, str]:
        """A supervisor's cookie session and its CSRF token, as the console page has them."""
        with self.app.state.db.session() as s:
            cookie = issue_session(self.app, get_user(s, self.people.sup.user_id))
        sid = URLSafeTimedSerializer(secret_key(self.app), salt="session").loads(cookie)["sid"]
        csrf = URLSafeTimedSerializer(secret_key(self.app), salt="csrf").dumps(sid)
        return {"Cookie": f"jz_session={cookie}", "X-CSRF-Token": csrf}

    def aim(self, case) -> None:
        """Point most generated cases at real records, so the routes are exercised past their
        404 and 403 too. Which ones is a hash of the generated value: the same every run."""

        def often(value) -> bool:
            return zlib.crc32(repr(value).encode()) % 5 < 3

        def pick(value, choices):
            return choices[zlib.crc32(repr(value).encode()) % len(choices)]

        path = case.path_parameters or {}
        for name, choices in (
            ("number", self.numbers),
            ("sender_id", self.senders),
            ("dead_letter_id", [self.dead_letter_id]),
            ("sender", [self.chat.sender]),
        ):
            if name in path and often(path[name]):
                path[name] = pick(path[name], choices)
        body = case.body if isinstance(case.body, dict) else None
        route = case.operation.path
        if body is not None and route in ("/v1/screen", "/v1/kb/answer") and often(body.get("jurisdiction")):
            body["jurisdiction"] = pick(body.get("jurisdiction"), ["渠县", "达州", "会宁县"])
        if body is not None and route == "/v1/cases/lookup" and often(body.get("number")):
            body.update(pick(body.get("number"), self.lookups))
        if route.startswith("/v1/chat/") or route == "/v1/chat":
            if body is not None and "sender" in body and often(body["sender"]):
                body["sender"] = self.chat.sender
            headers = case.headers if case.headers is not None else {}
            if often(headers.get("X-Chat-Token")):
                headers["X-Chat-Token"] = self.chat.token
                case.headers = headers


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("schema-svc"))
    yield svc
    svc.app.state.db.engine.dispose()


@pytest.fixture(scope="module")
def supervisor_headers(service):
    return service.supervisor_headers()


@anonymous.parametrize()
def test_anonymous_callers_get_documented_answers(case, service):
    service.aim(case)
    case.call_and_validate(app=service.app, checks=CHECKS)


@bot.parametrize()
def test_bot_token_callers_get_documented_answers(case, service):
    service.aim(case)
    case.call_and_validate(app=service.app, headers={"Authorization": f"Bearer {BOT_TOKEN}"}, checks=CHECKS)


@supervisor.parametrize()
def test_logged_in_supervisor_gets_documented_answers(case, service, supervisor_headers):
    service.aim(case)
    case.call_and_validate(app=service.app, headers=supervisor_headers, checks=CHECKS)


def test_the_schema_documents_the_real_validation_body():
    components = DOCUMENT["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert set(components["ValidationErrorOut"]["properties"]) == {"detail", "errors"}
    for path, operations in DOCUMENT["paths"].items():
        for method, op in operations.items():
            if "422" in op["responses"]:
                ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ValidationErrorOut"), (method, path)


def test_a_body_that_is_not_even_text_is_invalid_json(service):
    """FastAPI answers a body it cannot decode with an English 400 the schema did not list;
    the app answers it like any other invalid JSON: 422, the documented body, in Chinese."""
    r = TestClient(service.app).post(
        "/v1/kb/answer", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["type"] == "json_invalid"
    assert "JSON 格式不正确" in r.json()["detail"]


def test_an_id_past_what_the_database_holds_is_refused_not_a_crash(service):
    client = TestClient(service.app)
    r = client.post(
        "/v1/conversations/conv-0/replies/delivered",
        json={"ids": [2**64]},
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
    )
    assert r.status_code == 422, r.text
    r = client.post(f"/v1/cases/dead-letters/{2**64}/resolve", json={}, headers=service.supervisor_headers())
    assert r.status_code == 422, r.text
