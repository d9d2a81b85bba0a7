"""How bot/stack.py wires bind addresses and the action token (no processes started)."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings, http_url
from bot.secret_files import data_dir_secret
from bot.stack import Stack
from tests.conftest import stack_settings

MODEL = Path("model.tar.gz")


def built(tmp_path: Path, **overrides) -> Stack:
    stack = Stack(stack_settings(tmp_path, **overrides), model=MODEL)
    stack.build()
    return stack


def arg(cmd: list[str], flag: str) -> str:
    return cmd[cmd.index(flag) + 1]


def test_every_process_binds_loopback_by_default(tmp_path, monkeypatch):
    for name in ("JZ_HOST", "JZ_RASA_HOST", "JZ_ACTION_HOST", "JZ_SERVICE_HOST"):
        monkeypatch.delenv(name, raising=False)
    stack = built(tmp_path)
    p = stack.processes
    assert arg(p["rasa"].cmd, "--interface") == "127.0.0.1"
    assert arg(p["service"].cmd, "--host") == "127.0.0.1"
    assert p["actions"].env["JZ_ACTION_HOST"] == "127.0.0.1"  # actions/server.py binds it


def test_each_process_has_its_own_bind_address(tmp_path):
    stack = built(tmp_path, service_host="0.0.0.0")
    p = stack.processes
    assert arg(p["service"].cmd, "--host") == "0.0.0.0"
    assert arg(p["rasa"].cmd, "--interface") == "127.0.0.1"
    assert p["actions"].env["JZ_ACTION_HOST"] == "127.0.0.1"
    # Clients on this machine connect to loopback, whatever the server binds.
    assert stack.service_url == f"http://127.0.0.1:{stack.settings.service_port}"
    assert p["service"].env["JZ_RASA_URL"] == f"http://127.0.0.1:{stack.settings.rasa_port}"

    everywhere = built(tmp_path, host="0.0.0.0", rasa_host="127.0.0.1")  # JZ_HOST is the common default
    assert arg(everywhere.processes["rasa"].cmd, "--interface") == "127.0.0.1"
    assert arg(everywhere.processes["service"].cmd, "--host") == "0.0.0.0"
    assert everywhere.processes["actions"].env["JZ_ACTION_HOST"] == "0.0.0.0"


def test_connect_urls_for_wildcard_and_ipv6_binds():
    assert http_url("0.0.0.0", 5005) == "http://127.0.0.1:5005"
    assert http_url("::", 5005) == "http://[::1]:5005"
    assert http_url("10.0.0.7", 8000) == "http://10.0.0.7:8000"
    assert Settings(rasa_url="http://rasa.internal:5005/").resolved_rasa_url() == "http://rasa.internal:5005"


def test_rasa_and_the_action_server_share_a_token_per_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("JZ_ACTION_TOKEN", raising=False)
    first, again = built(tmp_path / "a"), built(tmp_path / "a")
    other = built(tmp_path / "b")
    token = first.settings.action_token
    assert len(token) >= 32 and token == again.settings.action_token != other.settings.action_token
    assert (tmp_path / "a" / "action_token").stat().st_mode & 0o777 == 0o600
    assert first.processes["actions"].env["JZ_ACTION_TOKEN"] == token
    assert first.processes["rasa"].env["JZ_RASA_ACTION_TOKEN"] == token
    assert "JZ_ACTION_TOKEN" not in first.processes["service"].env  # only the two that use it
    # Set explicitly, it is used as is.
    assert (
        built(tmp_path / "c", action_token="set-by-the-deployer").processes["rasa"].env["JZ_RASA_ACTION_TOKEN"]
        == "set-by-the-deployer"
    )


def test_a_data_dir_secret_is_created_once(tmp_path):
    assert data_dir_secret(tmp_path, "x") == data_dir_secret(tmp_path, "x") != data_dir_secret(tmp_path, "y")
