"""Who may call the action server (actions/access.py)."""

from actions.access import is_allowed, presented_token

TOKEN = "s3cret-token"


def test_only_the_health_check_is_open():
    assert is_allowed("/health", "GET", None, None, TOKEN)
    assert not is_allowed("/health", "POST", None, None, TOKEN)
    assert not is_allowed("/webhook", "POST", None, None, TOKEN)
    assert not is_allowed("/actions", "GET", None, None, TOKEN)


def test_the_token_as_a_bearer_header_or_rasas_query_parameter():
    assert is_allowed("/webhook", "POST", f"Bearer {TOKEN}", None, TOKEN)
    assert is_allowed("/webhook", "POST", f"bearer  {TOKEN} ", None, TOKEN)
    assert is_allowed("/webhook", "POST", None, TOKEN, TOKEN)
    assert not is_allowed("/webhook", "POST", "Bearer wrong", None, TOKEN)
    assert not is_allowed("/webhook", "POST", TOKEN, None, TOKEN)  # no scheme
    assert not is_allowed("/webhook", "POST", f"Basic {TOKEN}", None, TOKEN)
    assert not is_allowed("/webhook", "POST", "Bearer ", "", TOKEN)
    assert presented_token("Bearer abc", "xyz") == "abc"


def test_an_unconfigured_server_is_closed_not_open():
    assert not is_allowed("/webhook", "POST", "Bearer ", None, "")
    assert not is_allowed("/webhook", "POST", None, "", "")
