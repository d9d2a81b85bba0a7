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


def test_a_long_message_is_cut_to_the_cap_preferably_at_a_sentence_end():
    from bot.text import MAX_MESSAGE_CHARS, cap_message

    short = cap_message("低保是什么")
    assert short == ("低保是什么", False, 5)
    hard = cap_message("我" * 5000)
    assert hard.cut and len(hard.text) == MAX_MESSAGE_CHARS and hard.length == 5000
    sentences = cap_message("家里很困难。" * 400)
    assert sentences.cut and len(sentences.text) <= MAX_MESSAGE_CHARS and sentences.text.endswith("。")
    # A sentence end far from the cap is not worth losing most of the text for.
    early = cap_message("我们家。" + "我" * 3000)
    assert len(early.text) == MAX_MESSAGE_CHARS


def test_the_notes_are_in_chinese_and_name_the_limits():
    from bot.text import MAX_MESSAGE_CHARS, MAX_RAW_MESSAGE_CHARS, too_long_note, too_long_refusal

    assert str(MAX_MESSAGE_CHARS) in too_long_note() and "分成几条" in too_long_note()
    assert str(MAX_RAW_MESSAGE_CHARS) in too_long_refusal()


def test_asking_which_day_or_how_many_times_is_a_question_and_a_count_of_days_past_is_not():
    from bot.text import looks_like_question

    for asked in ("低保每个月几号发钱", "低保金哪天到账", "特困人员几岁可以申请", "一年能报销几次"):
        assert looks_like_question(asked), asked
    for told in ("好几次都没人管", "我家五口人", "他好几天没出门了"):
        assert not looks_like_question(told), told
