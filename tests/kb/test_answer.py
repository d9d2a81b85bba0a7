"""Answers: short, cited, right for the place and for today, no invented figures."""
import re

from bot.kb.answer import HOTLINE_NUMBERS

NUM = re.compile(r"\d+(?:\.\d+)?")


def numbers_all_cited(ans):
    """Numbers in the sentences come from the provisions' texts; in the quotes also from their metadata."""
    texts = " ".join(c["text"] for c in ans["citations"])
    meta = " ".join(f"{c['date']} {c.get('number') or ''} {c['clause']} {c['title']}" for c in ans["citations"])
    short_ok = all(n in texts or n in HOTLINE_NUMBERS for n in NUM.findall(ans["short_answer"]))
    full_ok = all(n in texts or n in meta or n in HOTLINE_NUMBERS for n in NUM.findall(ans["answer"]))
    return short_ok and full_ok


def sentence_count(text):
    return len([s for s in re.split(r"[。！？]", text) if s.strip()])


def test_dibao_definition_is_short_and_cited(kb):
    ans = kb.answer("低保是什么", jurisdiction=None)
    assert set(ans) >= {"answer", "citations", "topics"}
    assert 2 <= sentence_count(ans["short_answer"]) <= 4
    c = ans["citations"][0]
    assert c["title"] == "中华人民共和国社会救助法" and c["clause"] == "第十八条"
    assert {"id", "title", "clause", "issuer", "date", "jurisdiction", "status", "source", "text"} <= set(c)
    assert "《中华人民共和国社会救助法》第十八条" in ans["answer"]
    assert "dibao" in ans["topics"]
    assert numbers_all_cited(ans)


def test_same_temporary_assistance_question_cites_each_places_rule(kb):
    q = "家里突然遭了难，临时救助能给多少？"
    qx = kb.answer(q, jurisdiction="渠县")
    hn = kb.answer(q, jurisdiction="会宁县")
    qx_ids = [c["id"] for c in qx["citations"]]
    hn_ids = [c["id"] for c in hn["citations"]]
    assert "quxian_2022_26-3.1.3" in qx_ids and "huining_2022_63-2.1.3.1" in hn_ids
    assert all(c["jurisdiction"] in ("渠县", "达州市", "四川省", "全国") for c in qx["citations"])
    assert all(c["jurisdiction"] in ("会宁县", "白银市", "甘肃省", "全国") for c in hn["citations"])
    assert "渠县" in qx["short_answer"] and "会宁" not in qx["answer"]
    assert "会宁县" in hn["short_answer"] and "渠县" not in hn["answer"]
    assert "temporary_assistance" in qx["topics"] and "temporary_assistance" in hn["topics"]
    assert numbers_all_cited(qx) and numbers_all_cited(hn)


def test_answer_from_the_sichuan_draft_says_it_is_a_draft(kb):
    for q in ("特困人员里的未成年人，年龄是不是延长到了18周岁？", "12349民政服务热线能办社会救助吗"):
        ans = kb.answer(q, jurisdiction="巴中市")
        draft = [c for c in ans["citations"] if c["status"] == "draft"]
        assert draft and draft[0]["id"].startswith("sichuan_2020_draft"), q
        assert "征求意见稿" in ans["short_answer"] and "不是正式文件" in ans["short_answer"], q
        assert "征求意见稿" in ans["answer"].split("政策依据")[1], q


def test_in_force_local_rule_is_preferred_over_the_draft(kb):
    ans = kb.answer("特困人员里的未成年人，年龄是不是延长到了18周岁？", jurisdiction="渠县")
    assert ans["citations"][0]["id"] == "quxian_2022_26-3.1.2"
    assert ans["citations"][0]["status"] == "in_force"
    assert "征求意见稿" not in ans["short_answer"]


def test_fraud_penalty_uses_the_2026_law(kb):
    ans = kb.answer("骗领低保被查出来要罚多少钱？", jurisdiction="渠县")
    first = ans["citations"][0]
    assert first["id"] == "shjzf_2026-a73" and first["status"] == "in_force"
    assert "二倍以下" in ans["short_answer"]
    assert "3倍" not in ans["short_answer"] and "三倍" not in ans["short_answer"]
    old = [c for c in ans["citations"] if c["id"] == "zxbf_2014-a68"]
    assert old and old[0]["status"] == "overridden" and old[0]["overridden_by"] == "shjzf_2026-a73"
    assert "取代" in ans["short_answer"]
    assert ans["citations"].index(old[0]) > 0
    assert "supervision" in ans["topics"]


def test_quxian_dibao_amount_is_not_invented(kb):
    ans = kb.answer("渠县的低保标准是每个月多少钱？", jurisdiction="渠县")
    assert "以当地民政部门公布的标准为准" in ans["short_answer"]
    assert "12345" in ans["short_answer"]
    assert not re.search(r"\d+\s*元", ans["short_answer"])
    assert numbers_all_cited(ans)


def test_payment_day_is_left_to_the_local_office(kb):
    ans = kb.answer("低保金每个月几号发？", jurisdiction="巴中市")
    assert "以当地民政部门公布的标准为准" in ans["short_answer"]
    assert numbers_all_cited(ans)


def test_other_city_gets_the_national_rule(kb):
    ans = kb.answer("成都的低保一个月能领多少钱？", jurisdiction=None)
    assert ans["citations"] and all(c["jurisdiction"] == "全国" for c in ans["citations"])
    assert "成都" in ans["short_answer"] and "以当地民政部门公布的为准" in ans["short_answer"]
    assert numbers_all_cited(ans)


def test_sichuan_phrasing_and_typo_get_dibao_answers(kb):
    for q in ("屋头莫得收入咋个吃低保", "底保是啥子"):
        ans = kb.answer(q, jurisdiction="渠县")
        assert "dibao" in ans["topics"], q
        assert any("dibao" in c["id"] or "低保" in c["text"] or "最低生活保障" in c["text"] for c in ans["citations"][:1]), q


def test_local_rule_is_labelled_with_its_place_when_no_place_given(kb):
    ans = kb.answer("会宁县临时救助标准怎么算", jurisdiction=None)
    assert ans["citations"][0]["jurisdiction"] == "会宁县"
    assert "会宁县" in ans["short_answer"]


def test_numbers_always_come_from_citations(kb):
    qs = ["低保边缘家庭是什么标准", "特困人员基本生活标准是多少", "单人户怎么申请", "渐退期多长",
          "临时救助最多几个月", "医疗救助报销比例", "孤儿一个月补多少钱", "一证一书是什么"]
    for place in (None, "渠县", "会宁县", "巴中市", "达州市"):
        for q in qs:
            ans = kb.answer(q, jurisdiction=place)
            assert numbers_all_cited(ans), (q, place, ans["short_answer"])
            assert 2 <= sentence_count(ans["short_answer"]) <= 5, (q, place, ans["short_answer"])


def test_colloquial_questions_carry_their_program_topic(kb):
    assert "education_assistance" in kb.answer("低保户孩子上初中有什么补助")["topics"]
    assert "vagrancy" in kb.answer("街上讨饭的人谁来管")["topics"]
    assert "supervision" in kb.answer("村里评低保要送礼，不公平")["topics"]
