"""The hotline and emergency numbers are spelled one way everywhere a resident reads them:
bot/hotlines.py for Python's texts, and Rasa's responses (domain/*.yml) agreeing with it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.channels.gateway import RASA_DOWN_REPLY
from bot.hotlines import EMERGENCY_NAMES, HOTLINE_NAMES, IF_URGENT, IN_DANGER, SERVICE_NUMBERS, hotline_name
from bot.safety import emergency_reply

DOMAIN = Path(__file__).resolve().parents[1] / "domain"
# A short number standing alone (not part of a longer figure, an amount or a case number).
SHORT_NUMBER = re.compile(r"(?<![0-9A-Za-z.])(1[0-9]{2}|123[0-9]{2})(?![0-9.])")
NAMED_HOTLINE = re.compile(r"(1234[59])\s*([\u4e00-\u9fff]{2,10}?热线)")


def domain_texts() -> list[str]:
    out = []
    for path in sorted(DOMAIN.glob("*.yml")):
        for variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).values():
            out += [v["text"] for v in variants if "text" in v]
    return out


def test_rasa_responses_name_only_our_service_numbers_and_by_their_names():
    texts = domain_texts()
    assert len(texts) > 50
    numbers = {n for t in texts for n in SHORT_NUMBER.findall(t) if not n.startswith(("100", "101"))}
    assert numbers and numbers <= SERVICE_NUMBERS, numbers - SERVICE_NUMBERS
    named = [(n, name) for t in texts for n, name in NAMED_HOTLINE.findall(t)]
    assert named, "no response names a hotline"
    for number, name in named:
        assert HOTLINE_NAMES[number].endswith(name), (number, name)


def test_python_texts_take_the_sentences_from_one_place():
    assert IF_URGENT in RASA_DOWN_REPLY and IN_DANGER in RASA_DOWN_REPLY
    assert hotline_name("12349") == "12349 民政服务热线" and hotline_name("999") == "999"
    fire = emergency_reply("我家着火了")
    assert EMERGENCY_NAMES["119"] in fire and "110" not in fire
    assert all(name in emergency_reply("救命") for name in EMERGENCY_NAMES.values())
