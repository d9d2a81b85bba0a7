"""The masking rules of bot/privacy.py and bot/personal_numbers.py: check digits decide, so
every real 身份证号 and bank-card number is masked and amounts, case numbers and service
numbers are not."""

from __future__ import annotations

import random
import re

import pytest
from stdnum import luhn
from stdnum.cn import ric

import bot.personal_numbers as personal_numbers
from bot.personal_numbers import is_bank_card, is_id_number
from bot.privacy import mask_address, mask_contact, mask_personal_text, mask_text

VALID_ID = "360426199101010071"  # check digit right (stdnum's own example)
VALID_ID_X = "11010519491231002X"  # ends in X
MISTYPED_ID = "510722199001011234"  # check digit wrong, but a real place and birth date
CARD = "6222021234567890128"  # Luhn-valid 19-digit UnionPay-style card


def test_check_digits_come_from_stdnum():
    assert ric.is_valid(VALID_ID) and ric.calc_check_digit(VALID_ID_X) == "X"
    assert luhn.is_valid(CARD)


@pytest.mark.parametrize("number", [VALID_ID, VALID_ID_X, MISTYPED_ID, "510722900101123"])
def test_every_id_number_is_masked(number):
    out = mask_text(f"我的身份证号{number}，麻烦查一下")
    assert number not in out and number[-4:] in out


def test_valid_numbers_with_a_random_body_are_always_masked():
    rng = random.Random(7)
    for _ in range(300):
        body = f"{rng.randrange(10**16, 10**17)}"
        number = body + ric.calc_check_digit(body + "0")
        assert is_id_number(number), number
        assert number not in mask_text(f"号码{number}")
        card = (lambda b: b + luhn.calc_check_digit(b))(f"62{rng.randrange(10**14, 10**15)}")
        assert is_bank_card(card) and card not in mask_text(f"转到{card}")


def test_random_long_digit_strings_are_not_over_masked():
    rng = random.Random(11)
    others = [
        s
        for s in (str(rng.randrange(10**17, 10**18)) for _ in range(2000))
        if s[:2] not in personal_numbers._PROVINCES and not luhn.is_valid(s) and ric.calc_check_digit(s) != s[-1]
    ]
    assert len(others) > 500 and all(mask_text(f"编号{s}") == f"编号{s}" for s in others)
    # Not a province code, no check digit right: nothing to mask.
    assert mask_text("订单 987654321098765432 已付") == "订单 987654321098765432 已付"
    assert mask_text("流水号 9876543210987654") == "流水号 9876543210987654"


def test_amounts_dates_case_numbers_and_service_numbers_stay():
    text = (
        "工单号 GD20261122K7M3QX（旧号 GD20250521000012），查询码 AB3D5F7G；每月 1200 元，"
        "共 3 人，2024-01-01 申请，存款 150000 元；请打 12345、12349，急救 120，报警 110"
    )
    assert mask_text(text) == text


def test_bank_cards():
    assert mask_text(f"卡号{CARD}") == "卡号6222***********0128"
    assert mask_text("卡号 6222 0212 3456 7890 128 请查") == "卡号 6222***********0128 请查"
    # A mistyped card after a word that says it is one is masked all the same.
    assert "6222021234567890127" not in mask_text("银行卡6222021234567890127")
    assert mask_text("编号6222021234567890127") == "编号6222021234567890127"  # no word, no check digit


def test_phones():
    assert mask_text("电话13812345678 13912345678") == "电话138****5678 139****5678"
    assert mask_text("+86 138-1234-5678") == "138****5678"
    assert mask_text("１３８１２３４５６７８") == "138****5678"  # full-width digits
    for landline in ("0818-7321234", "(0818)7321234", "（0818）7321234", "08187321234", "010-12345678"):
        assert landline[-4:] in mask_text(landline) and "732" not in mask_text(landline).replace("0818", "")
    assert mask_text("家里电话7321234") == "家里电话***1234"
    assert mask_text("收入7321234元") == "收入7321234元"  # no word: an amount
    # Seven digits is the shortest number masked, counted however the digits are spread.
    assert mask_text("家里电话：７３２１２３４") == "家里电话：***1234"
    assert mask_text("家里电话732123") == "家里电话732123"
    assert mask_text("卡号1 - - - - - 2") == "卡号**"  # after a card word, any run of digits


def test_the_rasa_environment_checks_agree_with_stdnum(monkeypatch):
    """Rasa's environment has no stdnum: bot/personal_numbers.py's own checks must give the same answers."""
    rng = random.Random(3)
    numbers = [str(rng.randrange(10**17, 10**18)) for _ in range(300)]
    cards = [str(rng.randrange(10**15, 10**19)) for _ in range(300)]
    with_stdnum = (
        [personal_numbers.ric_check_digit(n) for n in numbers],
        [personal_numbers.luhn_valid(c) for c in cards],
    )
    monkeypatch.setattr(personal_numbers, "_ric", None)
    monkeypatch.setattr(personal_numbers, "_luhn", None)
    assert (
        [personal_numbers.ric_check_digit(n) for n in numbers],
        [personal_numbers.luhn_valid(c) for c in cards],
    ) == with_stdnum


def test_names_and_addresses_for_someone_who_does_not_handle_the_case():
    out = mask_personal_text("我叫张三丰，住在渠县三汇镇新华村3组12号，电话13812345678。李四是邻居", names=["李四"])
    assert out == "我叫张**，住在渠县三汇镇********，电话138****5678。李*是邻居"
    assert (
        mask_personal_text("姓名：王小明 地址：达州市通川区东城街道凤凰小区5栋")
        == "姓名：王** 地址：达州市通川区东城街道******"
    )
    assert mask_address("巴中市恩阳区柳林镇石板村") == "巴中市恩阳区柳林镇***"
    assert mask_address("新华村3组") == "*****"  # no county: nothing kept
    assert mask_contact({"address": "渠县三汇镇新华村3组"})["address"] == "渠县三汇镇*****"
    assert mask_personal_text("低保怎么申请？") == "低保怎么申请？"


def test_texts_passed_by_at_once_are_those_masking_leaves_alone(monkeypatch):
    """The quick pass (fewer than seven digits, no word for a card) gives what the full
    masking gives, on random texts made of digits, separators, brackets and the words."""
    from bot import privacy

    rng = random.Random(11)
    pieces = [
        "1",
        "3",
        "8",
        "0",
        "9",
        "１",
        "８",
        " ",
        "-",
        "(",
        "（",
        "）",
        "+86",
        "X",
        "卡号",
        "电话",
        "身份证",
        "号",
        "元",
        "低保",
    ]
    pieces += ["139", "1234", "5678", "0818", "732"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(4000)]
    passed_by = sum(not privacy._SEVEN_DIGITS.search(t) and not privacy._CARD_WORD.search(t) for t in texts)
    quick = [mask_text(t) for t in texts]
    monkeypatch.setattr(privacy, "_SEVEN_DIGITS", re.compile(""))  # every text the full way
    assert [mask_text(t) for t in texts] == quick
    assert passed_by > 300 and sum(q != t for q, t in zip(quick, texts, strict=True)) > 200
