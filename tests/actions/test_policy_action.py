import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.policy import ActionAnswerPolicy
from bot.config import settings


def run_action(tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerPolicy().run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_answer_comes_from_the_service_with_its_citation_and_asks_the_place_once(service_env, tracker_for):
    messages, slots = run_action(tracker_for("低保是什么"))
    text = messages[0]["text"]
    assert "依据" in text and "《" in text and "条" in text
    assert "哪个县" in messages[1]["text"] and [b["title"] for b in messages[1]["buttons"]][:2] == ["渠县", "达州"]
    assert slots == {"place_asked": True}
    again, _ = run_action(tracker_for("低保是什么", slots={"place_asked": True}))
    assert len(again) == 1


def test_a_known_place_is_used_and_not_asked_again(service_env, tracker_for):
    messages, slots = run_action(tracker_for("临时救助最多能给多少", slots={"jurisdiction": "渠县"}))
    assert len(messages) == 1 and "渠县" in messages[0]["text"]
    assert slots == {}


def test_telling_the_place_re_answers_the_last_question_for_it(service_env, tracker_for):
    tracker = tracker_for("我是渠县的", intent="tell_place", slots={"jurisdiction": "渠县"})
    tracker.events.insert(0, {"event": "user", "text": "临时救助最多能给多少",
                              "parse_data": {"intent": {"name": "ask_policy"}}})
    messages, _ = run_action(tracker)
    assert messages[0]["text"].startswith("好的，按渠县的规定")
    assert "渠县" in messages[0]["text"].split("\n", 1)[1]


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
