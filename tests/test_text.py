from bot.text import clean_message


def test_full_width_digits_and_spaces_are_folded():
    assert clean_message("　低保１５００元\u200b ") == "低保1500元"


def test_control_characters_are_removed():
    assert clean_message("你\x00好\x07") == "你好"
