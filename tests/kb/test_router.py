from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.service.app import create_app
from bot.text import MAX_MESSAGE_CHARS


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    cfg = Settings(data_dir=Path(tmp_path_factory.mktemp("kbdata")))
    with TestClient(create_app(cfg)) as c:
        yield c


def test_answer_endpoint(client):
    r = client.post("/v1/kb/answer", json={"question": "低保是什么", "jurisdiction": None})
    assert r.status_code == 200
    body = r.json()
    assert body["answer"] and body["citations"][0]["clause"] == "第十八条"
    assert "dibao" in body["topics"]
    assert client.app.state.kb is not None  # loaded once, kept on the app


def test_answer_with_place_alias(client):
    r = client.post("/v1/kb/answer", json={"question": "临时救助一年最多多少", "jurisdiction": "渠"})
    assert r.status_code == 200
    assert r.json()["citations"][0]["jurisdiction"] == "渠县"


def test_search_endpoint(client):
    r = client.get("/v1/kb/search", params={"q": "骗取社会救助罚款", "jurisdiction": "达州", "limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["jurisdiction"] == "达州市" and len(body["hits"]) <= 3
    top = body["hits"][0]
    assert top["id"] == "shjzf_2026-a73" and top["score"] > 0
    assert top["superseded"][0]["status"] == "overridden"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"question": "低保是什么", "jurisdiction": "火星"}, "jurisdiction"),
        ({"question": "   ", "jurisdiction": None}, "question"),
        ({"question": "", "jurisdiction": None}, "question"),
        ({"question": "低" * (MAX_MESSAGE_CHARS + 1)}, "question"),
    ],
)
def test_answer_rejects_bad_input_in_chinese(client, payload, field):
    r = client.post("/v1/kb/answer", json=payload)
    assert r.status_code == 422
    assert field in r.json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", r.json()["detail"])


def test_search_rejects_unknown_place(client):
    r = client.get("/v1/kb/search", params={"q": "低保", "jurisdiction": "火星"})
    assert r.status_code == 422 and "jurisdiction" in r.json()["detail"] and "未知" in r.json()["detail"]


def test_openapi_documents_the_endpoints(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/kb/search" in spec["paths"] and "/v1/kb/answer" in spec["paths"]
    assert "AnswerResponse" in spec["components"]["schemas"]


import re  # noqa: E402


def test_provisions_by_id_are_what_the_answer_cited(client):
    cited = client.post("/v1/kb/answer", json={"question": "低保怎么申请"}).json()["citations"]
    ids = [c["id"] for c in cited]
    r = client.get("/v1/kb/provisions", params=[("id", i) for i in [*ids, "no-such-id", ids[0]]])
    assert r.status_code == 200
    body = r.json()
    assert [p["id"] for p in body["provisions"]] == list(dict.fromkeys(ids))  # in order, each once
    by_id = {c["id"]: c for c in cited}
    assert all(
        p["text"] == by_id[p["id"]]["text"] and p["clause"] == by_id[p["id"]]["clause"] for p in body["provisions"]
    )
    assert body["missing"] == ["no-such-id"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ([], "缺少这个字段"),
        ([("id", "a b")], "格式不对"),
        ([("id", "x" * 81)], "格式不对"),
        ([("id", "条款")], "格式不对"),
        ([("id", f"p{i}") for i in range(21)], "最多 20 项"),
    ],
)
def test_provisions_refuse_what_is_not_a_short_list_of_ids(client, params, says):
    r = client.get("/v1/kb/provisions", params=params)
    assert r.status_code == 422 and says in r.json()["detail"]
