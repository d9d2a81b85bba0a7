"""The knowledge gaps: POST /v1/kb/answer records the answers it was not sure of (masked, and
never at the answer's expense), and /console/knowledge-gaps groups them with the handed-over
conversations' questions for supervisors and admins, each group linked to a card draft in
the cards' own YAML."""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import retention
from bot.cases.desk import BOT, CaseDesk
from bot.config import Settings
from bot.kb import gap_log
from bot.kb.gap_log import KnowledgeGap
from tests.cases.conftest import BOT_TOKEN, login, make_users, new_case

PHONE = "13912345678"
ID_NUMBER = "510722199001011234"
UNSURE_CARD = {"match": "card", "sure": False, "confidence": 0.5, "card_id": "dibao_amount.payment_day"}
CLAUSES = {"match": "clauses", "sure": None, "confidence": 0.05, "card_id": None}


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    from bot.service.app import create_app

    monkeypatch.setenv("JZ_BOT_TOKEN", BOT_TOKEN)
    application = create_app(Settings(data_dir=tmp_path / "svc", retention_days=0))
    application.state.people = make_users(application.state.db)
    yield application
    application.state.db.engine.dispose()


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _rows(app) -> list[KnowledgeGap]:
    with app.state.db.session() as s:
        return list(s.scalars(select(KnowledgeGap).order_by(KnowledgeGap.id)))


def _record(app, questions: list[str], answer: dict, *, days_ago: float = 1, place: str | None = "渠县") -> None:
    for i, q in enumerate(questions):
        gap_log.record(app.state.db, q, place, answer, at=_now() - timedelta(days=days_ago, minutes=i))


def _groups(page: str) -> list[str]:
    return re.findall(r'<tr data-gap-group="\d+">(.*?)</tr>', page, re.S)


# ---------------------------------------------------------------- recording


def test_unsure_answers_are_recorded_masked_and_sure_cards_are_not(client, app):
    sure = client.post("/v1/kb/answer", json={"question": "低保每个月几号发钱", "jurisdiction": "渠县"})
    assert sure.status_code == 200 and sure.json()["match"] == "card" and sure.json()["sure"] is True
    assert _rows(app) == []

    asked = f"小区停车费太贵了，我的电话{PHONE}，身份证{ID_NUMBER}"
    gap = client.post("/v1/kb/answer", json={"question": asked, "jurisdiction": "渠"})
    body = gap.json()
    assert gap.status_code == 200 and (body["match"] != "card" or body["sure"] is False)
    unsure = client.post("/v1/kb/answer", json={"question": "驾照到期了怎么换证"})
    assert unsure.json()["match"] == "card" and unsure.json()["sure"] is False

    first, second = _rows(app)
    assert first.question.startswith("小区停车费太贵了") and PHONE not in first.question
    assert ID_NUMBER not in first.question and "139****5678" in first.question
    assert (first.jurisdiction, first.match, first.card_id) == ("渠县", body["match"], body.get("card_id"))
    assert first.confidence == pytest.approx(body["confidence"])
    assert (second.question, second.jurisdiction, second.match) == ("驾照到期了怎么换证", None, "card")
    assert second.card_id == unsure.json()["card_id"] and abs((_now() - second.at).total_seconds()) < 60

    login(client, "sup")
    page = client.get("/console/knowledge-gaps")
    assert page.status_code == 200 and "小区停车费太贵了" in page.text and "驾照到期了怎么换证" in page.text
    assert PHONE not in page.text and ID_NUMBER not in page.text


def test_a_failure_to_record_never_fails_the_answer(client, app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(gap_log, "record", broken)
    with caplog.at_level(logging.WARNING, logger="bot.service.routers.kb"):
        r = client.post("/v1/kb/answer", json={"question": "小区停车费太贵了"})
    assert r.status_code == 200 and r.json()["answer"]
    assert "knowledge gap not recorded: RuntimeError" in caplog.text
    assert _rows(app) == []


def test_retention_deletes_gaps_older_than_the_period(app):
    _record(app, ["小区停车费太贵了"], CLAUSES, days_ago=200)
    _record(app, ["物业费怎么收"], CLAUSES, days_ago=10)
    cfg = app.state.settings.model_copy(update={"retention_days": 180})
    assert retention.run(cfg, app.state.db, dry_run=True).knowledge_gaps == 1
    assert len(_rows(app)) == 2
    assert retention.run(cfg, app.state.db).knowledge_gaps == 1
    assert [r.question for r in _rows(app)] == ["物业费怎么收"]


# ---------------------------------------------------------------- who sees the page


def test_only_supervisors_and_admins_see_the_page(client):
    r = client.get("/console/knowledge-gaps", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    for who in ("op1", "vol"):
        client.cookies.clear()
        login(client, who)
        for path in ("/console/knowledge-gaps", "/console/knowledge-gaps/draft?ids=q1"):
            refused = client.get(path)
            assert refused.status_code == 403 and refused.json()["detail"] == "您的角色没有这个权限"
        assert 'id="nav-knowledge-gaps"' not in client.get("/console/report").text
    for who in ("sup", "admin"):
        client.cookies.clear()
        login(client, who)
        page = client.get("/console/knowledge-gaps")
        assert page.status_code == 200 and 'href="/console/knowledge-gaps" id="nav-knowledge-gaps"' in page.text


# ---------------------------------------------------------------- groups, periods, handovers


def test_groups_join_handovers_and_follow_the_period(client, app):
    _record(app, ["低保钱一般几号能到卡上呢", "低保钱一般几号到卡上"], UNSURE_CARD)
    _record(app, ["小区停车费太贵了", "小区停车费太贵了怎么办"], CLAUSES, place=None)
    _record(app, ["残疾人两项补贴一个月发几百块"], CLAUSES, days_ago=40)
    desk = CaseDesk(app.state.db)
    desk.create_case(new_case(type="consultation", questions=[f"低保钱一般几号能到卡上，电话{PHONE}"]), BOT)
    desk.create_case(new_case(type="complaint", questions=["小区停车费太贵了我要投诉"]), BOT)  # not a handover
    login(client, "sup")

    page = client.get("/console/knowledge-gaps", params={"days": "30"})
    groups = _groups(page.text)
    assert len(groups) == 2
    payday, parking = groups
    assert payday.count("<li>") == 3 and 'data-handovers="1"' in payday and "转人工 1" in payday
    assert "低保钱一般几号能到卡上，电话139****5678" in payday and PHONE not in page.text
    assert "改进卡片 dibao_amount.payment_day" in payday and "渠县（3）" in payday
    assert "新建卡片" in parking and "未说地区（2）" in parking and "data-handovers" not in parking
    assert "残疾人两项补贴" not in page.text and "我要投诉" not in page.text
    assert "共 5 个问题（其中转人工 1 个），2 组" in page.text

    longer = client.get("/console/knowledge-gaps", params={"days": "90"})
    assert len(_groups(longer.text)) == 3 and "残疾人两项补贴一个月发几百块" in longer.text
    odd = client.get("/console/knowledge-gaps", params={"days": "365"})  # not offered: the default 30 days
    assert len(_groups(odd.text)) == 2 and '<option value="30" selected>' in odd.text


def test_an_empty_period_says_so(client):
    login(client, "admin")
    page = client.get("/console/knowledge-gaps", params={"days": "7"})
    assert page.status_code == 200 and "这个时段没有没把握的问题" in page.text


# ---------------------------------------------------------------- drafts


def _draft_link(group_html: str) -> str:
    return html.unescape(re.search(r'href="(/console/knowledge-gaps/draft\?[^"]+)"', group_html).group(1))


def _draft_yaml(page: str) -> list:
    return yaml.safe_load(html.unescape(re.search(r'<pre id="card-draft"[^>]*>(.*?)</pre>', page, re.S).group(1)))


def test_the_improve_link_drafts_new_variants_of_the_nearest_card(client, app):
    _record(app, ["低保钱一般几号能到卡上呢", "低保钱一般几号到卡上"], UNSURE_CARD)
    login(client, "sup")
    (group,) = _groups(client.get("/console/knowledge-gaps").text)
    link = _draft_link(group)
    assert "改进卡片 dibao_amount.payment_day" in group and "ids=q" in link and "card=dibao_amount.payment_day" in link
    page = client.get(link)
    assert page.status_code == 200 and "改进卡片 <code>dibao_amount.payment_day</code>" in page.text
    assert "policy_kb/cards/dibao_amount.yml" in page.text
    (entry,) = _draft_yaml(page.text)
    assert entry["id"] == "dibao_amount.payment_day"
    assert sorted(entry["variants"]) == sorted(["低保钱一般几号能到卡上呢", "低保钱一般几号到卡上"])
    card_file = yaml.safe_load(Path("policy_kb/cards/dibao_amount.yml").read_text(encoding="utf-8"))
    assert entry["id"] in {c["id"] for c in card_file["cards"]}
    unknown = client.get(link.replace("card=dibao_amount.payment_day", "card=no.such_card"))
    assert unknown.status_code == 200 and "<h2>新建卡片</h2>" in unknown.text  # only a real card is improved


def test_the_new_card_link_drafts_a_stub_with_the_closest_provisions(client, app):
    _record(app, ["80岁老人补贴", "80岁老人补贴有吗"], CLAUSES)
    desk = CaseDesk(app.state.db)
    desk.create_case(new_case(type="consultation", questions=[f"80岁老人补贴有没有，我叫张三，电话{PHONE}"]), BOT)
    login(client, "sup")
    (group,) = _groups(client.get("/console/knowledge-gaps").text)
    assert "新建卡片" in group and "ids=h" in _draft_link(group) and "card=" not in _draft_link(group)
    page = client.get(_draft_link(group))
    assert page.status_code == 200 and "新建卡片" in page.text and PHONE not in page.text and "张三" not in page.text
    (entry,) = _draft_yaml(page.text)
    assert entry["id"].endswith(".new_question") and entry["answer"] == ""
    assert set(entry["variants"]) | {entry["question"]} == {
        "80岁老人补贴",
        "80岁老人补贴有吗",
        "80岁老人补贴有没有，我叫张*，电话139****5678",
    }
    kb = app.state.kb
    provisions = [c["provision"] for c in entry["citations"]]
    assert provisions and all(p in kb.by_id for p in provisions)
    assert all(f"<code>{p}</code>" in page.text for p in provisions)  # the suggested sources, shown


def test_a_draft_of_nothing_goes_back_to_the_list(client):
    login(client, "sup")
    for ids in ("", "q999", "bogus,../x"):
        r = client.get("/console/knowledge-gaps/draft", params={"ids": ids, "days": "7"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/knowledge-gaps?days=7"
