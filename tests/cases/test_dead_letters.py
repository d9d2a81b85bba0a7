"""Dead letters on the service: a refused report is stored once, becomes a case of last
resort, and is shown on the console queue page until a supervisor deals with it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.cases import dead_letters
from bot.cases.store import Case, DeadLetter
from tests.cases.conftest import bot_headers, login

REPORTED = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
REFUSED = {
    "type": "urgent",
    "channel": "bogus-channel",
    "sender_id": "rest-9",
    "jurisdiction": "不存在的县",
    "title": "急难求助：断粮",
    "summary": "急难求助：屋头断粮好几天了；地点：渠县三汇镇",
    "transcript": [{"role": "resident", "text": "屋头断粮好几天了，电话13812345678"}, "not a turn"],
    "contact": {"phone": "13812345678"},
    "reported_at": REPORTED.isoformat(),
}


def banner(page) -> tuple[bool, str]:
    """(hidden?, text) of the dead-letter alert on a console page."""
    m = re.search(r'<div class="alert" id="dead-letter-alert"([^>]*)>(.*?)</div>', page.text, re.S)
    assert m, "no dead-letter alert on the page"
    return "hidden" in m[1], m[2]


def post_dead_letter(client, key="urgent-dead-1", payload=REFUSED, error="HTTP 422: channel"):
    return client.post(
        "/v1/cases/dead-letters",
        headers=bot_headers(),
        json={"idempotency_key": key, "payload": payload, "error": error},
    )


def test_a_dead_letter_becomes_one_urgent_case_of_last_resort(client, app):
    r = post_dead_letter(client)
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    assert case["number"].startswith("GD") and case["check_code"]
    assert case["priority"] == "urgent" and case["title"].startswith(dead_letters.LAST_RESORT_PREFIX)
    again = post_dead_letter(client)  # the action server retries until it sees an answer
    assert again.json()["case"]["number"] == case["number"]
    assert again.json()["dead_letter"]["id"] == r.json()["dead_letter"]["id"]
    with app.state.db.session() as s:
        assert s.scalar(select(func.count(DeadLetter.id))) == 1
        assert s.scalar(select(func.count(Case.id)).where(Case.idempotency_key == "urgent-dead-1")) == 1
        stored = s.scalar(select(Case).where(Case.number == case["number"]))
        assert stored.transcript[0]["text"].startswith("屋头断粮好几天了")
        assert "被服务拒绝" in stored.summary and stored.jurisdiction == "全国"
        assert stored.created_at == REPORTED.replace(tzinfo=None)  # the resident's time, for the SLA too


def test_even_a_payload_that_is_not_a_case_is_kept_and_shown(client, app):
    r = post_dead_letter(client, key="weird-1", payload={"type": 42, "transcript": "x" * 10, "contact": "none"})
    assert r.status_code == 201, r.text
    assert dead_letters.unresolved_count(app.state.case_desk) == 1


def test_operators_and_supervisors_see_the_alert_and_a_supervisor_resolves_it(client, app):
    csrf = login(client, "op1")
    assert banner(client.get("/console"))[0]  # nothing refused: the alert is hidden
    assert client.get("/v1/cases/counts").json()["dead_letters"] == 0
    client.cookies.clear()

    number = post_dead_letter(client).json()["case"]["number"]
    for who in ("op1", "sup"):
        client.cookies.clear()
        csrf = login(client, who)
        hidden, text = banner(client.get("/console"))
        assert not hidden and '<strong data-count="dead_letters">1</strong>' in text and "未能按原样自动登记" in text
        assert client.get("/v1/cases/counts").json()["dead_letters"] == 1

    client.cookies.clear()
    csrf = login(client, "op1")
    listing = client.get("/console/dead-letters")
    assert number in listing.text and "13812345678" not in listing.text  # masked for an operator
    assert "标记已处理" not in listing.text
    letter_id = client.get("/v1/cases/dead-letters").json()["dead_letters"][0]["id"]
    assert (
        client.post(f"/v1/cases/dead-letters/{letter_id}/resolve", json={}, headers={"X-CSRF-Token": csrf}).status_code
        == 403
    )

    client.cookies.clear()
    csrf = login(client, "sup")
    assert "标记已处理" in client.get("/console/dead-letters").text
    r = client.post(
        f"/console/dead-letters/{letter_id}/resolve",
        data={"csrf_token": csrf, "note": "已电话联系"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/v1/cases/counts").json()["dead_letters"] == 0
    assert banner(client.get("/console"))[0]
    assert "已电话联系" in client.get("/console/dead-letters?all=1").text
