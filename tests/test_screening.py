"""The screening conversation's logic: which question next, and the request it builds."""

from bot.screening import build_request, next_question, read_answer, slot_for_missing


def test_missing_facts_map_to_the_questions_we_ask():
    assert slot_for_missing("household.members") == "household_size"
    assert slot_for_missing("members[2].monthly_income") == "monthly_income"
    assert slot_for_missing("household.other_monthly_income") == "monthly_income"
    assert slot_for_missing("standards.dibao_monthly_rural") == "local_standard"
    assert slot_for_missing("members[0].disability_grade") == "disability"
    assert slot_for_missing("household.supporters[0].able") is None


def test_the_place_is_asked_first_then_what_the_service_needs():
    screen = {
        "results": [
            {
                "program": "dibao",
                "missing": [
                    {"fact": "standards.dibao_monthly", "for": "status"},
                    {"fact": "household.property_ok", "for": "status"},
                    {"fact": "members[0].age", "for": "estimate"},
                ],
            }
        ]
    }
    assert next_question({}, screen, "dibao", 0) == "jurisdiction"
    facts = {"jurisdiction": "渠县"}
    assert next_question(facts, screen, "dibao", 1) == "property_ok"
    facts["property_ok"] = True
    assert next_question(facts, screen, "dibao", 2) == "local_standard"
    facts["_skipped"] = ["local_standard"]
    assert next_question(facts, screen, "dibao", 3) is None  # 'for: estimate' facts are not asked


def test_without_the_service_the_basic_facts_are_asked():
    assert next_question({"jurisdiction": "会宁县"}, None, "dibao", 1) == "household_size"


def test_questions_stop_after_the_limit():
    assert next_question({}, None, "dibao", 8) is None


def test_dont_know_skips_a_question_and_a_later_answer_unskips_it():
    facts, understood = read_answer("不晓得", "local_standard", {"jurisdiction": "渠县"})
    assert understood and facts["_skipped"] == ["local_standard"]
    facts, understood = read_answer("低保标准是700", None, facts)
    assert facts["local_standard"] == 700 and facts["_skipped"] == []


def test_only_a_plain_figure_answers_the_local_standard():
    facts, _ = read_answer("没有车也没有第二套房", "local_standard", {})
    assert "local_standard" not in facts and facts["property_ok"] is True
    assert read_answer("大概六百五十块", "local_standard", {})[0]["local_standard"] == 650
    assert read_answer("七百", "local_standard", {})[0]["local_standard"] == 700


def test_a_plain_no_to_the_disability_question_is_an_answer():
    facts, understood = read_answer("没有", "disability", {})
    assert understood and facts["disability_grade"] == 0


def test_nothing_understood_is_reported():
    facts, understood = read_answer("嗯嗯那个啥", "household_size", {"jurisdiction": "渠县"})
    assert not understood and facts == {"jurisdiction": "渠县"}


def test_request_uses_the_public_field_names_and_leaves_unknowns_out():
    req = build_request(
        {
            "jurisdiction": "渠县",
            "hukou": "rural",
            "household_size": 2,
            "monthly_income": 900,
            "ages": [72],
            "property_ok": True,
            "local_standard": 650,
        }
    )
    assert req["jurisdiction"] == "渠县" and req["hukou"] == "rural"
    members = req["household"]["members"]
    assert [m["relation"] for m in members] == ["self", "other"]
    assert members[0]["age"] == 72 and "age" not in members[1]
    assert req["household"]["other_monthly_income"] == 900
    assert req["standards"]["dibao_monthly_rural"] == 650
    assert "has_able_supporter" not in req["household"]
    assert build_request({}) == {"household": {}}
