"""fit_case: any report, however long, is shortened to what the service's schema accepts."""

from __future__ import annotations

from bot.case_limits import TEXT_MAX, TRANSCRIPT_MAX_TURNS, clip, fit_case, fit_key
from bot.service.routers.cases import CaseIn


def huge_case() -> dict:
    first = "我们家断粮三天了，娃儿发烧没钱看病。" + "情况很急" * 3000  # 12 000+ characters
    turns = [{"role": "resident", "text": first, "at": "2026-11-30T10:00:00+00:00"}]
    turns += [{"role": "bot" if i % 2 else "resident", "text": f"第{i}轮" + "话" * 5000} for i in range(1, 400)]
    return {
        "type": "urgent",
        "channel": "rest",
        "sender_id": "s" * 300,
        "jurisdiction": "某" * 40,
        "title": "急难求助：" + "标" * 500,
        "summary": "摘要" * 5000,
        "transcript": turns,
        "questions": ["问" * 2000] * 30 + ["", "   "],
        "programs": ["dibao"] * 30,
        "contact": {"phone": "1" * 80, "address": "址" * 500, "name": "名" * 90, "unknown": "x"},
        "reported_at": "2026-11-30T10:00:00+00:00",
    }


def test_a_huge_report_passes_the_service_schema():
    fitted = fit_case(huge_case())
    CaseIn.model_validate(fitted)  # raises if any limit is still exceeded
    assert len(fitted["transcript"]) == TRANSCRIPT_MAX_TURNS
    assert "jurisdiction" not in fitted  # too long to be a place: routed by default instead
    assert set(fitted["contact"]) == {"phone", "address", "name"}


def test_the_first_message_start_and_the_newest_turns_are_kept():
    case = huge_case()
    fitted = fit_case(case)
    first = fitted["transcript"][0]["text"]
    assert first.startswith("我们家断粮三天了，娃儿发烧没钱看病。")
    assert len(first) <= TEXT_MAX and f"原文共 {len(case['transcript'][0]['text'])} 字" in first
    assert "已省略" in fitted["transcript"][1]["text"]
    assert fitted["transcript"][-1]["text"].startswith("第399轮")
    assert [t["text"][:5] for t in fitted["transcript"][2:4]] == ["第202轮", "第203轮"]


def test_a_report_within_the_limits_is_unchanged_and_fitting_twice_changes_nothing():
    small = {
        "type": "urgent",
        "title": "急难求助：断粮",
        "summary": "断粮",
        "questions": ["断粮了"],
        "transcript": [{"role": "resident", "text": "断粮了", "at": "2026-11-30T10:00:00+00:00"}],
        "contact": {"phone": "13812345678"},
        "jurisdiction": "渠县",
    }
    assert fit_case(small) == small
    once = fit_case(huge_case())
    assert fit_case(once) == once


def test_clip_and_keys():
    assert clip("短", 10) == "短"
    assert len(clip("长" * 5000, 4000)) == 4000
    assert fit_key("urgent-abc") == "urgent-abc"
    long_key = "k" * 500
    assert len(fit_key(long_key)) <= 128 and fit_key(long_key) == fit_key(long_key)
