import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.policy import ActionAnswerPolicy, ActionShowSources, answer_result
from actions.replies import sources_text
from bot.config import settings
from tests.actions.conftest import rendered


def run_action(tracker, action=ActionAnswerPolicy):
    """(the messages sent, each with the text the resident reads, the slots set)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action().run(dispatcher, tracker, {}))
    messages = [{**m, "text": rendered(m)} for m in dispatcher.messages]
    return messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_answer_is_short_with_its_basis_and_the_quotes_on_request(service_env, tracker_for):
    messages, slots = run_action(tracker_for("低保金每个月几号发"))
    text = messages[0]["text"]
    first, basis = text.split("\n")
    assert "按月" in first and basis.startswith("依据：《") and "“" not in text
    assert [b["title"] for b in messages[0]["buttons"]] == ["看原文"]
    # The conversation keeps the cited provisions' ids; 看原文 quotes them, as the answer cited them.
    cited = asyncio.run(answer_result("低保金每个月几号发", None))["citations"]
    assert slots["last_sources"] == list(dict.fromkeys(c["id"] for c in cited))
    quoted, _ = run_action(tracker_for("/show_sources", intent="show_sources", slots=slots), ActionShowSources)
    once_each = list({c["id"]: c for c in reversed(cited)}.values())[::-1]
    assert quoted[0]["text"] == f"政策原文：\n{sources_text({'citations': once_each})}"
    assert "最低生活保障" in quoted[0]["text"] and "“" in quoted[0]["text"]
    nothing, _ = run_action(tracker_for("看原文", intent="show_sources"), ActionShowSources)
    assert "没有引用" in nothing[0]["text"] and nothing[0]["response"] == "utter_no_sources"


def test_sources_of_an_older_answer_or_gone_from_the_knowledge_base(service_env, tracker_for):
    """A conversation that kept the quotes as text (before the ids) still gets them; ids the
    knowledge base no longer holds, or a forged slot, say there is nothing to quote."""
    old, _ = run_action(
        tracker_for("看原文", intent="show_sources", slots={"last_sources": "《办法》第一条"}), ActionShowSources
    )
    assert old[0]["text"] == "政策原文：\n《办法》第一条"
    for kept in (["no-such-provision"], [{"id": "x"}, 7], {"id": "x"}):
        gone, _ = run_action(
            tracker_for("看原文", intent="show_sources", slots={"last_sources": kept}), ActionShowSources
        )
        assert gone[0]["response"] == "utter_no_sources"


def test_the_place_is_asked_once_when_the_answer_differs_by_place(service_env, tracker_for):
    messages, slots = run_action(tracker_for("临时救助一般能给多少钱"))
    assert "哪个县" in messages[1]["text"] and [b["title"] for b in messages[1]["buttons"]][:2] == ["渠县", "达州"]
    assert messages[1]["response"] == "utter_which_place"
    assert slots["place_asked"] is True
    again, _ = run_action(tracker_for("临时救助一般能给多少钱", slots={"place_asked": True}))
    assert len(again) == 1
    national, slots = run_action(tracker_for("低保金每个月几号发"))
    assert len(national) == 1 and "place_asked" not in slots


def test_a_question_about_ones_own_case_is_answered_then_the_screen_offered(service_env, tracker_for):
    messages, slots = run_action(
        tracker_for("我家三口人，一个月收入一千五，有辆三轮车能吃低保不", slots={"place_asked": True})
    )
    assert "依据" in messages[0]["text"]
    assert "算一算" in messages[1]["text"] and messages[1]["buttons"][0]["payload"] == "/start_screen"
    assert messages[1]["response"] == "utter_offer_screen"
    assert slots["screen_facts"]["household_size"] == 3 and slots["screen_facts"]["monthly_income"] == 1500
    assert slots["screen_program"] == "dibao"
    general, slots = run_action(tracker_for("低保户的孩子上大学有什么政策", slots={"place_asked": True}))
    assert len(general) == 1 and "screen_facts" not in slots


def test_a_known_place_is_used_and_not_asked_again(service_env, tracker_for):
    messages, slots = run_action(tracker_for("临时救助最多能给多少", slots={"jurisdiction": "渠县"}))
    assert len(messages) == 1 and "渠县" in messages[0]["text"]
    assert set(slots) == {"last_sources"}


def test_telling_the_place_re_answers_the_last_question_for_it(service_env, tracker_for):
    tracker = tracker_for("我是渠县的", intent="tell_place", slots={"jurisdiction": "渠县"})
    tracker.events.insert(
        0, {"event": "user", "text": "临时救助最多能给多少", "parse_data": {"intent": {"name": "ask_policy"}}}
    )
    messages, _ = run_action(tracker)
    assert messages[0]["text"].startswith("好的，按渠县的规定")
    assert "渠县" in messages[0]["text"].split("\n", 1)[1]


def test_telling_the_place_says_whose_rule_the_answer_is(service_env, tracker_for):
    """The application steps are the national rule, in 渠县 as everywhere: not "渠县的规定"."""
    tracker = tracker_for("我是渠县的", intent="tell_place", slots={"jurisdiction": "渠县"})
    tracker.events.insert(
        0, {"event": "user", "text": "低保怎么申请", "parse_data": {"intent": {"name": "ask_policy"}}}
    )
    messages, _ = run_action(tracker)
    assert messages[0]["text"].startswith("好的，渠县也是按国家的规定办：")
    assert "《最低生活保障审核确认办法》" in messages[0]["text"]


def test_the_place_intro_names_the_rule_that_applies():
    from actions.replies import place_intro

    assert place_intro("渠县", "渠县") == "好的，按渠县的规定再给您说一下："
    assert place_intro("渠县", "达州市") == "好的，渠县按达州市的规定办："
    assert place_intro("会宁县", "全国") == "好的，会宁县也是按国家的规定办："
    assert place_intro("渠县", None) == "好的，按渠县的规定再给您说一下："  # a clause answer: no card's rule


def test_service_down_gives_the_hotline_not_an_error(monkeypatch, tracker_for):
    from tests.conftest import free_port

    monkeypatch.setenv("JZ_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    settings.cache_clear()
    try:
        messages, events = run_action(tracker_for("低保是什么"))
    finally:
        settings.cache_clear()
    assert events == {}
    assert "12345" in messages[0]["text"] and "12349" in messages[0]["text"]
    assert messages[0]["response"] == "utter_policy_unavailable"


def test_sources_when_the_service_is_down_say_so_and_how_to_ask(monkeypatch, tracker_for):
    from tests.conftest import free_port

    monkeypatch.setenv("JZ_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    settings.cache_clear()
    try:
        tracker = tracker_for("看原文", intent="show_sources", slots={"last_sources": ["mzb_2021_57-4"]})
        messages, events = run_action(tracker, ActionShowSources)
    finally:
        settings.cache_clear()
    assert events == {} and messages[0]["response"] == "utter_sources_unavailable"
    assert "看原文" in messages[0]["text"] and "12349" in messages[0]["text"]
