"""Facts as residents state them: numerals in words, several in one message, corrections."""

import pytest

from bot.facts import extract_facts, merge_facts
from bot.numbers import normalize_numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("两口人", "2口人"),
        ("一千五", "1500"),
        ("三千五百块", "3500块"),
        ("七十多岁", "70多岁"),
        ("两千五", "2500"),
        ("五六百块", "550块"),
        ("千把块钱", "1000块钱"),
        ("1.5万", "15000"),
        ("一万五一年", "15000 1年"),
    ],
)
def test_numbers_in_words(text, expected):
    assert normalize_numbers(text) == expected


@pytest.mark.parametrize(
    "text, key, value",
    [
        ("我们家三口人", "household_size", 3),
        ("屋头4个人", "household_size", 4),
        ("一家五口", "household_size", 5),
        ("就我一个人住", "household_size", 1),
        ("我和老伴两个人过", "household_size", 2),
        ("一年一万二", "monthly_income", 1000),
        ("一个月收入两千", "monthly_income", 2000),
        ("每月八百块", "monthly_income", 800),
        ("收入一万五一年", "monthly_income", 1250),
        ("屋头莫得收入", "monthly_income", 0),
        ("我七十多岁了", "ages", [70]),
        ("老汉儿是一级肢体残疾", "disability_grade", 1),
        ("老汉儿是一级肢体残疾", "disability_type", "limb"),
        ("娃儿三级智力残疾", "disability_type", "intellectual"),
        ("我老婆得了尿毒症要透析", "serious_illness", True),
        ("我们是农村的", "hukou", "rural"),
        ("城镇户口", "hukou", "urban"),
        ("我是渠县的", "jurisdiction", "渠县"),
        ("我在达州", "jurisdiction", "达州市"),
        ("下岗了没得工作", "employed", False),
        ("没有儿女，老伴也走了", "has_able_supporter", False),
        ("已经在吃低保了", "currently_receiving", ["dibao"]),
        ("屋头着火了，东西烧光了", "emergency_type", "fire"),
        ("看病一个月要花三千", "monthly_rigid_expense", 3000),
    ],
)
def test_single_facts(text, key, value):
    assert extract_facts(text)[key] == value


def test_several_facts_in_one_long_message():
    facts = extract_facts(
        "我是渠县农村的，屋头三口人，一年收入一万二，老汉儿七十多岁了，瘫在床上，一级残疾，我又下岗了莫得工作"
    )
    assert facts["jurisdiction"] == "渠县"
    assert facts["hukou"] == "rural"
    assert facts["household_size"] == 3
    assert facts["monthly_income"] == 1000
    assert facts["ages"] == [70]
    assert facts["disability_grade"] == 1
    assert facts["employed"] is False


def test_bare_answers_are_read_in_the_context_of_the_question():
    assert extract_facts("三个", expecting="household_size") == {"household_size": 3}
    assert extract_facts("一千五", expecting="monthly_income") == {"monthly_income": 1500}
    assert "monthly_income" not in extract_facts("一千五")
    assert extract_facts("没有", expecting="property_ok") == {"property_ok": True}
    assert extract_facts("有", expecting="property_ok") == {"property_ok": False}
    assert extract_facts("有个儿子", expecting="has_able_supporter")["has_able_supporter"] is True


@pytest.mark.parametrize(
    "text, ok", [("没有车也没有第二套房", True), ("家里有车", False), ("没车，但是有两套房", False), ("莫得存款", True)]
)
def test_property_negations(text, ok):
    assert extract_facts(text)["property_ok"] is ok


def test_a_correction_is_not_a_no():
    assert extract_facts("不对，是三口人", expecting="property_ok") == {"household_size": 3}


def test_silence_is_not_no():
    facts = extract_facts("我想问问低保")
    assert "monthly_income" not in facts and "property_ok" not in facts and "employed" not in facts


def test_a_correction_replaces_the_earlier_fact():
    known = merge_facts({}, extract_facts("我们家两口人，一个月一千"))
    known = merge_facts(known, extract_facts("不对，是三口人"))
    assert known["household_size"] == 3
    assert known["monthly_income"] == 1000


def test_traditional_characters_and_places_are_read_through_the_understanding_step():
    facts = extract_facts("我們屋頭三口人，每個月收入一千五，住在渠縣農村")
    assert facts["household_size"] == 3 and facts["monthly_income"] == 1500
    assert facts["jurisdiction"] == "渠县" and facts["hukou"] == "rural"
    # A city we do not serve is no jurisdiction of ours.
    assert "jurisdiction" not in extract_facts("我在成都，家里两口人")


def test_every_emergency_read_from_words_is_a_type_the_screen_accepts():
    # A label the screen does not know makes it refuse the whole request (422).
    from bot.eligibility.entities import EMERGENCY_TYPES

    said = {
        "家里着火了": "fire",
        "我爸出了车祸": "traffic_accident",
        "工地上摔伤了": "accident",
        "我妈突发脑溢血住院了": "sudden_illness",
        "房子垮了": "disaster",
        "厂子倒闭我失业了": "unemployment",
        "家里断粮了，吃不上饭": "other",
    }
    for text, expected in said.items():
        got = extract_facts(text).get("emergency_type")
        assert got == expected, (text, got)
        assert got in EMERGENCY_TYPES
