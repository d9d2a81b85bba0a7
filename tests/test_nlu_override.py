import pytest

from bot.nlu_override import override_intent, policy_words


def test_the_vocabulary_is_read_from_policy_kb():
    words = policy_words()
    assert "低保" in words and "底保" in words and "两项补贴" in words and "五保" in words


@pytest.mark.parametrize("text, intent, expected", [
    ("残疾人两项补贴可以在线申领吗?", "goodbye", "ask_policy"),
    ("底保是啥子嘛", "nlu_fallback", "ask_policy"),
    ("12349能打吗", "deny", "ask_policy"),
    ("我妈晕倒了叫不醒", "ask_policy", "report_danger"),
    ("家里断粮了娃儿没饭吃", "inform", "report_urgent"),
    ("家里断粮了娃儿没饭吃", "report_danger", None),
    ("好的谢谢", "thank", None),            # no question, no program
    ("你是机器人吗", "bot_challenge", None),  # a question, but not about a program
    ("低保咋个申请", "ask_policy", None),     # already right
    ("不对，是三口人", "inform", None),
])
def test_overrides(text, intent, expected):
    assert override_intent(text, intent) == expected
