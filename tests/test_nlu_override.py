import pytest

from bot.nlu_override import override_intent, policy_words


def test_the_vocabulary_is_read_from_policy_kb():
    words = policy_words()
    assert "低保" in words and "底保" in words and "两项补贴" in words and "五保" in words


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("残疾人两项补贴可以在线申领吗?", "goodbye", "ask_policy"),
        ("底保是啥子嘛", "nlu_fallback", "ask_policy"),
        ("12349能打吗", "deny", "ask_policy"),
        ("我妈晕倒了叫不醒", "ask_policy", "report_danger"),
        ("家里断粮了娃儿没饭吃", "inform", "report_urgent"),
        ("家里断粮了娃儿没饭吃", "report_danger", None),
        ("好的谢谢", "thank", None),  # no question, no program
        ("你是机器人吗", "bot_challenge", None),  # a question, but not about a program
        ("低保咋个申请", "ask_policy", None),  # already right
        ("不对，是三口人", "inform", None),
        # Hardship words inside a policy question never open an urgent case.
        ("我家娃儿考上大学了，学费交不起咋办", "report_urgent", "ask_policy"),
        ("看病钱不够怎么办", "report_urgent", "ask_policy"),
        ("急难型临时救助是什么", "report_urgent", "ask_policy"),
        ("急需用钱可以申请临时救助吗", "report_urgent", "ask_policy"),
        ("屋头断粮好几天了", "report_urgent", None),  # hardship happening now stays urgent
        ("我姐姐一个人在外地，好几天联系不上了，咋办", "report_urgent", None),  # no policy words: stays urgent
        ("今晚没地方住了，能不能帮我", "ask_policy", "report_urgent"),
        # A question about another person is not a volunteer's report unless it says so.
        ("我邻居家老人一个人住，能申请特困吗", "report_discovery", "ask_policy"),
        ("瘫痪在床的老人能领护理补贴吗", "report_discovery", "ask_policy"),
        ("我是网格员，发现一户老人好几天没吃饭，能帮他申请吗", "report_discovery", None),
        # One's own situation as a question: answered first (the screen is offered after).
        ("我有辆三轮车能吃低保不", "start_screen", "ask_policy"),
        ("我家三口人一个月收入一千五，能吃低保吗", "inform", "ask_policy"),
        ("帮我看看能不能吃低保", "start_screen", None),
        ("家里三口人，一个月收入一千五", "inform", None),
        # A rule asked in words the classifier files elsewhere.
        ("审核过后低保金额还会变吗？", "check_case", "ask_policy"),
        ("我的工单办得咋样了", "check_case", None),
        ("查询码是3392，工单GD20251230008", "check_case", None),
        ("低保金是打卡上还是发现金", "nlu_fallback", "ask_policy"),
        ("低保申请都两个月了还没批，超时了找谁", "nlu_fallback", "ask_policy"),
        ("达州上班了，工资是不是全部算收入", "bot_challenge", "ask_policy"),
        ("今天天气咋样", "out_of_scope", None),
    ],
)
def test_overrides(text, intent, expected):
    assert override_intent(text, intent) == expected
