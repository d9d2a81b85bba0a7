"""Knowledge cards: the committed cards pass every check, and each check fails on doctored cards."""

from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import settings
from bot.kb.cards import MIN_VARIANTS, TOPIC_PROGRAMS, CardAnswer, CardCitation, check_cards, load_cards, validate
from bot.kb.figures import cn_number, figures

KB_DIR = Path(settings().policy_kb_dir)


@pytest.fixture(scope="module")
def cards():
    cards, problems = load_cards(KB_DIR)
    assert problems == []
    return cards


@pytest.fixture(scope="module")
def provisions(kb):
    return kb.provisions


def test_committed_cards_pass_every_check():
    cards, problems = validate(KB_DIR)
    assert problems == []
    assert len(cards) >= 200


def test_every_topic_has_at_least_five_cards(cards):
    per_topic = {t: sum(c.topic == t for c in cards) for t in TOPIC_PROGRAMS}
    assert min(per_topic.values()) >= 5, per_topic


def test_honest_deferral_cards_exist_for_local_figures(cards):
    """Payment day and local amounts: the answer says who sets it and who to ask, with no amount."""
    deferrals = [c for c in cards if c.kind in ("金额", "发放") and c.program == "dibao"]
    assert deferrals
    for c in deferrals:
        assert any(w in c.answer.text for w in ("当地", "民政", "乡镇", "12345")), c.id
        assert "元" not in c.answer.text or "元/" in c.answer.text, c.id


def _card(cards, card_id):
    return next(c for c in cards if c.id == card_id)


def _one(cards, provisions, card):
    return check_cards([card], provisions)


def test_an_unsupported_number_fails(cards, provisions):
    card = _card(cards, "dibao_amount.payment_day")
    doctored = replace(card, answer=replace(card.answer, text=card.answer.text + "每月10号发。"))
    assert any("number 10" in p for p in _one(cards, provisions, doctored))
    # A Chinese numeral counts as a number too.
    doctored = replace(card, answer=replace(card.answer, text=card.answer.text + "一般十五号到账。"))
    assert any("number 15" in p for p in _one(cards, provisions, doctored))


def test_a_dangling_citation_and_a_span_not_in_its_provision_fail(cards, provisions):
    card = _card(cards, "dibao_amount.payment_day")
    dangling = replace(card, answer=replace(card.answer, citations=(CardCitation("shjzf_2026-a999", "x"),)))
    assert any("dangling citation shjzf_2026-a999" in p for p in _one(cards, provisions, dangling))
    wrong_span = replace(
        card, answer=replace(card.answer, citations=(CardCitation("shjzf_2026-a18", "每月5日前发放"),))
    )
    assert any("span not in shjzf_2026-a18" in p for p in _one(cards, provisions, wrong_span))


def test_overridden_rules_and_other_places_rules_are_refused(cards, provisions):
    card = _card(cards, "dibao_amount.payment_day")
    old = next(p for p in provisions if p["status"] == "overridden")
    overridden = replace(card, answer=replace(card.answer, citations=(CardCitation(old["id"], old["text"][:10]),)))
    assert any("is overridden" in p for p in _one(cards, provisions, overridden))
    huining = next(p for p in provisions if p["jurisdiction"] == "会宁县" and len(p["text"]) > 20)
    national_citing_local = replace(
        card, answer=CardAnswer("按规定办理。", (CardCitation(huining["id"], huining["text"][:12]),))
    )
    assert any("put it under `local`" in p for p in _one(cards, provisions, national_citing_local))
    wrong_place = replace(
        card, local={"渠县": CardAnswer("按规定办理。", (CardCitation(huining["id"], huining["text"][:12]),))}
    )
    assert any("does not apply in 渠县" in p for p in _one(cards, provisions, wrong_place))


def test_a_draft_must_be_labelled(cards, provisions):
    card = _card(cards, "dibao_amount.payment_day")
    draft = next(p for p in provisions if p["status"] == "draft" and len(p["text"]) > 20)
    unlabelled = replace(
        card, local={"四川省": CardAnswer("按规定办理。", (CardCitation(draft["id"], draft["text"][:12]),))}
    )
    assert any("征求意见稿" in p for p in _one(cards, provisions, unlabelled))
    labelled = replace(
        card,
        local={
            "四川省": CardAnswer(
                "（四川省征求意见稿，仅供参考）按规定办理。", (CardCitation(draft["id"], draft["text"][:12]),)
            )
        },
    )
    assert _one(cards, provisions, labelled) == []


def test_variants_are_counted_and_never_shared(cards, provisions):
    card = _card(cards, "dibao_amount.payment_day")
    few = replace(card, variants=card.variants[: MIN_VARIANTS - 1])
    assert any("variants" in p for p in _one(cards, provisions, few))
    other = _card(cards, "tekun.definition")
    stolen = replace(other, variants=(*other.variants, card.variants[0] + "？"))
    assert any("also belongs to card" in p for p in check_cards([card, stolen], provisions))


def test_evaluation_questions_cannot_be_cards(cards, provisions):
    card = _card(cards, "dibao_amount.payment_day")
    assert any("evaluation question" in p for p in check_cards([card], provisions, eval_questions=[card.variants[2]]))
    # Numbering, punctuation and a changed word or two do not make a copy one's own.
    reworded = "问：" + card.variants[2].replace("低保", "最低生活保障", 1) + "？"
    assert any("evaluation question" in p for p in check_cards([card], provisions, eval_questions=[reworded]))
    assert not any(
        "evaluation question" in p
        for p in check_cards([card], provisions, eval_questions=["特困人员救助供养的形式有哪些"])
    )


def test_numbers_in_chinese_are_read():
    assert cn_number("三十") == 30 and cn_number("一百五十") == 150 and cn_number("二〇二六") == 2026
    assert cn_number("两万") == 20000 and cn_number("十五") == 15
    assert sorted(figures("公示7天，30个工作日，特殊情况四十五个工作日")) == ["30", "45", "7"]
