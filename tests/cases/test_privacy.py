"""Masking of 身份证号 and phone numbers: functions, logs, and case views by role."""

from __future__ import annotations

import logging

from bot.cases.desk import BOT
from bot.log_masking import MaskingFilter
from bot.privacy import mask_contact, mask_id_number, mask_phone, mask_text
from tests.cases.conftest import new_case


def test_mask_functions():
    assert mask_id_number("510722199001011234") == "510***********1234"
    assert mask_id_number("51072219900101123X") == "510***********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0818-7321234") == "0818-***1234"
    assert mask_contact({"name": "张三丰", "phone": "13812345678", "x": 1}) == {
        "name": "张**",
        "phone": "138****5678",
        "x": 1,
    }


def test_mask_text_keeps_service_numbers():
    text = "身份证510722199001011234，手机13812345678，请打12345或12349，急救120，金额10000元"
    out = mask_text(text)
    assert "510722199001011234" not in out and "13812345678" not in out
    for kept in ("12345", "12349", "120", "10000元"):
        assert kept in out


def test_logging_filter_masks_records(caplog):
    logger = logging.getLogger("jz.test.privacy")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="jz.test.privacy"):
        logger.info("来电 %s 身份证 %s", "13812345678", "510722199001011234")
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text
    assert "510***********1234" in caplog.text


def test_contact_is_masked_for_roles_that_do_not_need_it(desk, people):
    v, _ = desk.create_case(new_case(transcript=[{"role": "resident", "text": "我电话13812345678"}]), BOT)
    n = v["number"]
    for viewer in (people.op1, people.op2, people.admin, BOT):
        full = desk.get(n, viewer)
        assert full["contact"]["phone"] == "138****5678" and full["contact_masked"]
        assert full["contact"]["id_number"] == "510***********1234"
        assert "13812345678" not in str(full)
    desk.claim_next(people.op1)
    mine = desk.get(n, people.op1)
    assert mine["contact"]["phone"] == "13812345678" and not mine["contact_masked"]
    assert "13812345678" not in str(desk.get(n, people.op2))
    assert desk.get(n, people.sup)["contact"]["id_number"] == "510722199001011234"


def test_names_and_addresses_in_the_transcript_only_for_the_handler(desk, people):
    said = "我叫张三，住在渠县三汇镇新华村3组12号，身份证360426199101010071，电话13812345678"
    v, _ = desk.create_case(new_case(transcript=[{"role": "resident", "text": said}], summary=f"张三来电：{said}"), BOT)
    n = v["number"]
    desk.claim_next(people.op1)
    for viewer in (people.op2, people.admin, BOT):  # not handling it
        seen = desk.get(n, viewer)
        shown = str(seen)
        for private in ("张三", "新华村", "3组12号", "360426199101010071", "13812345678"):
            assert private not in shown, (viewer.name, private)
        assert "渠县三汇镇" in seen["transcript"][0]["text"]  # where the case belongs stays
        assert seen["contact"]["name"] == "张*"
    for viewer in (people.op1, people.sup):  # the handler and supervisors see it whole
        seen = desk.get(n, viewer)
        assert seen["transcript"][0]["text"] == said and seen["contact"]["name"] == "张三"
