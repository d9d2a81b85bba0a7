import pytest

from bot.safety import LIFE, URGENT, danger_level, emergency_numbers, emergency_reply


@pytest.mark.parametrize(
    "text, level",
    [
        ("我家着火了！", LIFE),
        ("我妈晕倒了叫不醒", LIFE),
        ("我老公又在打人", LIFE),
        ("我真的不想活了", LIFE),
        ("屋头断粮好几天了，娃儿没饭吃", URGENT),
        ("今晚没地方住", URGENT),
        ("医院要押金，交不起押金", URGENT),
        ("低保咋个申请", None),
        ("家里困难，但又没到吃不上饭的地步", None),
        ("还不至于没地方住，就是想问问政策", None),
        ("如果着火了能申请临时救助吗", None),
        ("没到那一步，不过我妈晕倒了叫不醒", LIFE),
        ("临时救助有哪些条件", None),
        ("隔壁独居老人好几天没出门了，敲门没人应", LIFE),
        ("桥洞底下有个老人躺着一动不动，叫他也没反应", LIFE),
        ("房东把我赶出来了，今晚睡哪里都不晓得", URGENT),
        ("重病住院押金交不起，医院能先治病后交钱吗", None),  # a question: answered with the rules
        ("刚到医院，交不起押金", URGENT),
        ("急难型临时救助是什么", None),
        ("娃儿发高烧在抽筋，身上没钱去医院", LIFE),
        ("孩子烧得直抽", LIFE),
        ("晚上睡觉腿抽筋，残疾人补贴能报药费吗", None),
        ("楼顶上有个人说要跳下去", LIFE),  # not left to the classifier
        ("他说想从桥上跳下去", LIFE),
    ],
)
def test_danger_levels(text, level):
    assert danger_level(text) == level


def test_the_right_number_comes_first():
    assert emergency_numbers("房子烧起来了") == ["119"]
    assert emergency_numbers("老汉儿晕倒了") == ["120"]
    assert emergency_numbers("有人拿刀威胁我") == ["110"]
    assert emergency_numbers("娃儿发高烧在抽筋") == ["120"]
    assert emergency_numbers("不想活了") == ["120", "110"]


def test_reply_names_the_numbers_at_once():
    reply = emergency_reply("我妈昏迷了")
    assert reply.startswith("您现在有危险，请马上拨打 120")
    assert "12356" in emergency_reply("想自杀")
