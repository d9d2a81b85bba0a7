import pytest

from bot.places import UnknownPlace, applies_in, find_place_in_text, jurisdiction_path, normalize_place


def test_paths_nest_up_to_national():
    assert jurisdiction_path("渠县") == ["渠县", "达州市", "四川省", "全国"]
    assert jurisdiction_path("会宁") == ["会宁县", "白银市", "甘肃省", "全国"]
    assert jurisdiction_path("巴中") == ["巴中市", "四川省", "全国"]


def test_short_names_and_ids_resolve():
    assert normalize_place("达州") == "达州市"
    assert normalize_place(" 渠县 ") == "渠县"
    assert normalize_place("huining") == "会宁县"


def test_unknown_place_is_an_error_not_a_guess():
    with pytest.raises(UnknownPlace) as e:
        normalize_place("成都")
    assert "成都" in str(e.value)


def test_rules_apply_only_downwards():
    assert applies_in("四川省", "渠县")
    assert applies_in("全国", "会宁县")
    assert not applies_in("渠县", "达州市")
    assert not applies_in("会宁县", "渠县")


def test_most_specific_place_in_text():
    assert find_place_in_text("我是达州渠县的，想问低保") == "渠县"
    assert find_place_in_text("巴中城市低保") == "巴中市"
    assert find_place_in_text("低保咋个申请") is None
