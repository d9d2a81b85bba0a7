"""The forms' shared validation (actions/forms.py): what a message fills, stepping aside for an
interruption, and a miss counter per asked slot that ends in the hotline and a person.
No service needed: none of these turns asks the eligibility service."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.discovery import ValidateDiscoveryForm
from actions.screening import ValidateScreenForm
from actions.urgent import ValidateUrgentForm
from tests.actions.conftest import domain, make_tracker, rendered, responses


def validate(action, text, intent="inform", asked=None, slots=None, form=None):
    """(response names sent, texts the resident reads, events as a dict of slot values)."""
    tracker = make_tracker(
        text, intent=intent, slots={"requested_slot": asked, **(slots or {})}, active_loop=form or action.form_name()
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain()))
    assert all(e.get("event") == "slot" for e in events)
    return (
        responses(dispatcher.messages),
        [rendered(m) for m in dispatcher.messages],
        {e["name"]: e["value"] for e in events},
    )


def test_every_action_in_the_domain_is_served_and_no_other():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(domain()["actions"])  # the abstract FormValidation is not an action


def test_where_and_phone_are_read_from_one_message():
    sent, _, slots = validate(ValidateUrgentForm(), "渠县三汇镇，电话13812345678", asked="urgent_where")
    assert sent == []
    assert slots == {"urgent_where": "渠县三汇镇", "urgent_contact": "13812345678"}
    _, _, slots = validate(
        ValidateUrgentForm(),
        "可以",
        intent="affirm",
        asked="urgent_consent",
        slots={"urgent_where": "渠县三汇镇", "urgent_contact": "13812345678"},
    )
    assert slots == {"urgent_consent": True}
    _, _, slots = validate(ValidateUrgentForm(), "先不用", intent="deny", asked="urgent_consent")
    assert slots == {"urgent_consent": False}


def test_an_interruption_is_left_to_the_rules():
    for action, asked in ((ValidateUrgentForm(), "urgent_contact"), (ValidateDiscoveryForm(), "discovery_contact")):
        sent, _, slots = validate(
            action, "低保要准备啥子材料", intent="ask_policy", asked=asked, slots={"discovery_what": "老人没饭吃"}
        )
        assert (sent, slots) == ([], {})  # nothing returned: Rasa rejects the form and a rule answers


def test_two_misses_of_one_question_offer_the_hotline_and_a_person_and_keep_the_report():
    form = ValidateUrgentForm()
    sent, texts, slots = validate(form, "你说啥子", intent="chitchat", asked="urgent_contact")
    assert sent == ["utter_not_heard"] and texts == ["不好意思，没听清楚。"]
    assert slots == {"form_misses": {"urgent_contact": 1}, "requested_slot": "urgent_contact"}
    sent, texts, slots = validate(
        form, "你说啥子", intent="chitchat", asked="urgent_contact", slots={"form_misses": {"urgent_contact": 1}}
    )
    assert sent == ["utter_form_hotline_offer"] and "12345" in texts[0] and "110" in texts[0]
    assert slots == {"form_misses": None, "requested_slot": "urgent_contact"}  # asked once more


def test_misses_are_counted_per_question_and_cleared_by_an_answer_or_a_new_form():
    form = ValidateUrgentForm()
    sent, _, slots = validate(
        form, "你说啥子", intent="chitchat", asked="urgent_consent", slots={"form_misses": {"urgent_contact": 1}}
    )
    assert sent == ["utter_not_heard"] and slots["form_misses"] == {"urgent_consent": 1}
    _, _, slots = validate(form, "13812345678", asked="urgent_contact", slots={"form_misses": {"urgent_contact": 1}})
    assert slots == {"urgent_contact": "13812345678", "form_misses": None}
    # Rasa validates a form as it starts it (the form is not the active loop yet): a count left
    # from an earlier report is dropped.
    _, _, slots = validate(
        form,
        "屋头断粮好几天了",
        intent="report_urgent",
        form="screen_form",
        slots={"form_misses": {"urgent_contact": 1}},
    )
    assert slots == {"form_misses": None}


def test_the_volunteers_report_keeps_its_first_message_and_reads_the_rest():
    form = ValidateDiscoveryForm()
    _, _, slots = validate(
        form, "我是网格员，发现有个老人一个人住，好几天没吃饭了", intent="report_discovery", form="none"
    )
    assert slots == {"discovery_what": "我是网格员，发现有个老人一个人住，好几天没吃饭了"}
    known = {"discovery_what": "老人没饭吃"}
    _, _, slots = validate(form, "渠江镇幸福社区3组", asked="discovery_where", slots=known)
    assert slots == {"discovery_where": "渠江镇幸福社区3组"}
    _, _, slots = validate(form, "不方便", asked="discovery_contact", slots=known)
    assert slots == {"discovery_contact": "none"}
    sent, _, slots = validate(form, "等一下", intent="chitchat", asked="discovery_contact", slots=known)
    assert sent == ["utter_not_heard"] and slots["requested_slot"] == "discovery_contact"


def test_the_screen_asks_again_once_then_shows_what_it_has():
    form = ValidateScreenForm()
    sent, texts, slots = validate(
        form, "你说啥子", intent="chitchat", asked="household_size", slots={"screen_facts": {"jurisdiction": "渠县"}}
    )
    assert sent == ["utter_screen_not_understood"] and texts == ["不好意思，这句我没听明白。"]
    assert slots == {"form_misses": {"household_size": 1}, "requested_slot": "household_size"}
    sent, texts, slots = validate(
        form,
        "你说啥子",
        intent="chitchat",
        asked="household_size",
        slots={"screen_facts": {"jurisdiction": "渠县"}, "form_misses": {"household_size": 1}},
    )
    assert sent == ["utter_screen_gave_up"] and texts == ["我好像一直没理解对，先按您已经说的情况给您看看结果。"]
    assert slots == {"form_misses": None, "requested_slot": None}  # the form ends with the result
