import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.policy import ActionAnswerPolicy
from bot.config import settings


def run_action(tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerPolicy().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_answer_comes_from_the_service_with_its_citation(service_env, tracker_for):
    messages, _ = run_action(tracker_for("低保是什么"))
    assert len(messages) == 1
    text = messages[0]["text"]
    assert "依据" in text and "《" in text and "条" in text


def test_service_down_gives_the_hotline_not_an_error(monkeypatch, tracker_for):
    from tests.conftest import free_port

    monkeypatch.setenv("JZ_SERVICE_URL", f"http://127.0.0.1:{free_port()}")
    settings.cache_clear()
    try:
        messages, events = run_action(tracker_for("低保是什么"))
    finally:
        settings.cache_clear()
    assert events == []
    assert "12345" in messages[0]["text"] and "12349" in messages[0]["text"]
