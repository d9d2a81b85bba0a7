"""Answers: a card first, right for the place and for today, short, no invented figures; honest when unsure."""

import re

import pytest

from bot.hotlines import SERVICE_NUMBERS
from bot.kb.answer import UNSURE_SENTENCE
from bot.kb.figures import figures

NUM = re.compile(r"\d+(?:\.\d+)?")


def numbers_all_cited(ans):
    """Every number a resident reads is in a cited span or provision (the hotlines aside)."""
    pool = " ".join(f"{c.get('span') or ''} {c['text']} {c['title']} {c['clause']}" for c in ans["citations"])
    cited = set(figures(pool)) | set(NUM.findall(pool)) | SERVICE_NUMBERS
    return all(n in cited for n in figures(ans["short_answer"]))


def test_a_card_answers_with_its_basis_in_one_line(kb):
    ans = kb.answer("低保钱一般每个月几号打到卡上", jurisdiction=None)
    assert ans["match"] == "card" and ans["card_id"] == "dibao_amount.payment_day"
    assert "按月" in ans["short_answer"] and "当地" in ans["short_answer"]
    assert ans["basis"].startswith("依据：《") and "》第" in ans["basis"] and "\n" not in ans["basis"]
    assert all(c["span"] and c["span"] in c["text"].replace("\n", "") for c in ans["citations"])
    assert len(ans["short_answer"]) <= 160
    assert numbers_all_cited(ans)


def test_same_temporary_assistance_question_gets_each_places_rule(kb):
    q = "家里突然遭了难，临时救助一般能给多少钱？"
    qx = kb.answer(q, jurisdiction="渠县")
    hn = kb.answer(q, jurisdiction="会宁县")
    assert qx["match"] == hn["match"] == "card" and qx["card_id"] == hn["card_id"]
    assert qx["rule_place"] == "渠县" and hn["rule_place"] == "会宁县"
    assert "10000" in qx["short_answer"] and "10000" not in hn["short_answer"]
    assert "6个月" in hn["short_answer"] or "6 个月" in hn["short_answer"]
    assert all(c["jurisdiction"] in ("渠县", "达州市", "四川省", "全国") for c in qx["citations"])
    assert all(c["jurisdiction"] in ("会宁县", "白银市", "甘肃省", "全国") for c in hn["citations"])
    assert numbers_all_cited(qx) and numbers_all_cited(hn)


def test_nobody_said_where_gets_the_national_rule_only(kb):
    for q in ("临时救助能给多少钱", "低保怎么申请", "特困人员有哪些条件", "残疾人两项补贴怎么申请", "救助站管些什么"):
        ans = kb.answer(q, jurisdiction=None)
        assert all(c["jurisdiction"] == "全国" for c in ans["citations"]), (q, ans["basis"])
        assert "只适用于" not in ans["short_answer"], q


def test_a_draft_is_labelled_and_the_rule_in_force_preferred(kb):
    for card in kb.card_index.cards:
        for place in ("巴中市", "渠县", "达州市"):
            ans = kb.answer(card.question, jurisdiction=place)
            if ans["match"] == "card" and any(c["status"] == "draft" for c in ans["citations"]):
                assert "征求意见稿" in ans["short_answer"] and ans["status"] == "draft", (card.id, place)
    ans = kb.answer("特困人员里的未成年人，年龄是不是延长到了18周岁？", jurisdiction="巴中市")
    assert ans["match"] == "card" and "18周岁" in ans["short_answer"]
    assert all(c["status"] == "in_force" for c in ans["citations"])


def test_fraud_penalty_uses_the_2026_law(kb):
    ans = kb.answer("骗领低保被查出来要罚多少钱？", jurisdiction="渠县")
    assert ans["match"] == "card"
    assert "二倍以下" in ans["short_answer"]
    assert "3倍" not in ans["short_answer"] and "三倍" not in ans["short_answer"]
    assert any(c["id"] == "shjzf_2026-a73" for c in ans["citations"])
    assert all(c["status"] != "overridden" for c in ans["citations"])


@pytest.mark.parametrize(
    "q, place",
    [
        ("渠县的低保标准是每个月多少钱？", "渠县"),
        ("低保一个月能领好多钱", None),
        ("残疾人护理补贴一个月多少钱", "巴中市"),
    ],
)
def test_local_amounts_are_never_invented(kb, q, place):
    ans = kb.answer(q, jurisdiction=place)
    assert not re.search(r"\d+\s*元", ans["short_answer"]), ans["short_answer"]
    assert any(w in ans["short_answer"] for w in ("当地", "民政", "乡镇", "12345")), ans["short_answer"]
    assert numbers_all_cited(ans)


def test_other_city_gets_the_national_rule_and_a_note(kb):
    ans = kb.answer("成都的低保一个月能领多少钱？", jurisdiction=None)
    assert ans["citations"] and all(c["jurisdiction"] == "全国" for c in ans["citations"])
    assert "成都的具体标准和办法以当地民政部门公布的为准" in ans["short_answer"]
    assert "差额" in ans["short_answer"]


def test_ordinary_words_are_not_read_as_a_place(kb):
    for q in ("我在市区租房子住能申请低保吗", "住在县城里的人低保标准是多少"):
        ans = kb.answer(q, jurisdiction=None)
        assert "我在市" not in ans["short_answer"] and "住在县的" not in ans["short_answer"], q


def test_a_question_no_card_answers_is_answered_from_clauses_and_says_so(kb):
    ans = kb.answer("民政统计年报的填报口径是什么", jurisdiction=None)
    assert ans["match"] in ("clauses", "none")
    if ans["match"] == "clauses":
        assert ans["short_answer"].startswith(UNSURE_SENTENCE) and ans["citations"]
    assert "12345" in ans["short_answer"]


def test_numbers_always_come_from_citations(kb):
    qs = [
        "低保边缘家庭是什么标准",
        "特困人员基本生活标准是多少",
        "单人户怎么申请",
        "渐退期多长",
        "临时救助最多几个月",
        "医疗救助报销比例",
        "孤儿一个月补多少钱",
        "一证一书是什么",
        "低保审批要多少天",
    ]
    for place in (None, "渠县", "会宁县", "巴中市", "达州市"):
        for q in qs:
            ans = kb.answer(q, jurisdiction=place)
            assert numbers_all_cited(ans), (q, place, ans["short_answer"])


def test_residents_words_reach_the_card_that_answers(kb):
    cases = {
        "請問特困供養怎麼申請": "tekun.application",
        "我有辆三轮车能吃低保不": "dibao_eligibility.car",
        "低保金是按人头算还是按户算的": "dibao_amount.per_household",
        "我家娃儿考上大学了，学费交不起咋办": "education_assistance.admitted_no_money",
    }
    for q, card_id in cases.items():
        assert kb.answer(q)["card_id"] == card_id, q


def test_colloquial_questions_carry_their_program_topic(kb):
    assert "education_assistance" in kb.answer("低保户孩子上初中有什么补助")["topics"]
    assert "vagrancy" in kb.answer("街上讨饭的人谁来管")["topics"]
    assert "supervision" in kb.answer("村里评低保要送礼，不公平")["topics"]
