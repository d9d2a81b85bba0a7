"""The one understanding step: a message read once into a Query."""

import pytest

from bot.understanding import question_kind, understand


def test_traditional_characters_and_typos_are_normalised():
    q = understand("請問特困供養怎麼申請")
    assert q.text == "请问特困供养怎么申请"
    assert "tekun" in q.programs and q.kind == "流程"
    assert understand("底保咋个申请").text.startswith("低保")


def test_places_served_and_not_served():
    q = understand("我是渠县三汇镇的，屋头两口人")
    assert q.place == "渠县" and q.other_place is None and q.personal
    assert "2" in q.numeric_text
    for text, other in (
        ("沈阳市城市低保户申请条件", "沈阳市"),
        ("咸阳低保申请对户籍有什么要求", "咸阳"),
        ("黑龙江低保每月几号发放的", "黑龙江"),
    ):
        q = understand(text)
        assert q.place is None and q.other_place == other, text


@pytest.mark.parametrize(
    "text",
    [
        "我在市区租房子住能申请低保吗",
        "住在县城里的人低保标准是多少",
        "城里和农村低保一样吗",
        "我在外地打工能申请低保吗",
    ],
)
def test_ordinary_words_are_not_places(text):
    q = understand(text)
    assert q.place is None and q.other_place is None, (text, q.other_place)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("申请低保要带啥材料", "材料"),
        ("低保多久能批下来", "时限"),
        ("低保每个月几号发钱", "发放"),
        ("低保金是按人头算还是按户算的", "计算"),
        ("低保一个月能领好多钱", "金额"),
        ("特困是什么", "定义"),
        ("12345能打吗", "热线"),
        ("村里评低保是村书记说了算，我要举报", "投诉"),
        ("有车能吃低保不", "条件"),
    ],
)
def test_question_kinds(text, kind):
    assert question_kind(understand(text).text) == kind


def test_a_personal_story_is_told_apart_from_a_general_question():
    assert understand("我家娃儿考上大学了，学费交不起咋办").personal
    assert "child" in understand("我家娃儿考上大学了，学费交不起咋办").relations
    assert not understand("低保户的孩子上大学有什么政策").personal
    assert understand("我妈瘫痪在床，能领护理补贴吗").personal
