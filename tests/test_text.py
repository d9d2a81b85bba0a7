from bot.text import clean_message


def test_full_width_digits_and_spaces_are_folded():
    assert clean_message("　低保１５００元\u200b ") == "低保1500元"


def test_control_characters_are_removed():
    assert clean_message("你\x00好\x07") == "你好"


def test_questions_are_told_from_statements_and_requests():
    from bot.text import looks_like_question

    assert looks_like_question("家里有残疾人是否可以申请低保?")
    assert looks_like_question("低保咋个申请")
    assert not looks_like_question("我们家三口人，一个月收入两千")
    assert not looks_like_question("转人工")
