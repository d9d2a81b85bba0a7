"""Account management (bot/cases/accounts.py) and two-step login (bot/cases/totp.py): the
rules, the audit log of every change (never a secret in it), sessions ended by bumping
session_version, and the command line's deactivate / reactivate / reset-2fa."""

from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from bot.cases import accounts, totp
from bot.cases.desk import SYSTEM, Actor
from bot.cases.model import CaseError, NotAllowed, NotFound
from bot.cases.store import User, UserEvent
from bot.cases.users import authenticate, create_user
from tests.cases.conftest import PASSWORD

KEY = "test-secret-key-for-totp-0123456789"


def user(db, username: str) -> User:
    with db.session() as s:
        found = s.scalar(select(User).where(User.username == username))
        assert found is not None
        return found


def events(db, username: str) -> list[dict]:
    with db.session() as s:
        return list(reversed(accounts.account_events(s, username)))  # oldest first


def change(db, fn, *args):
    with db.session() as s:
        result = fn(s, *args)
        s.commit()
        return result


# ---------------------------------------------------------------- creating


def test_an_admin_creates_an_account_with_a_temporary_password_shown_once(db, people):
    created, temporary = change(db, accounts.create_account, people.admin, "zhangli", "operator", "张丽")
    assert temporary and len(temporary.replace("-", "")) == 12
    assert created.must_change_password and created.active and created.display_name == "张丽"
    with db.session() as s:
        assert authenticate(s, "zhangli", temporary) is not None
    (event,) = events(db, "zhangli")
    assert event["action"] == "created" and event["actor"] == "user:admin"
    assert event["detail"] == {"role": "operator", "display_name": "张丽", "temporary": True}
    assert temporary not in json.dumps(event)


def test_with_a_chosen_password_no_change_is_asked(db, people):
    created, temporary = change(db, accounts.create_account, SYSTEM, "liwei", "supervisor", "", "a-chosen-password-1")
    assert temporary is None and not created.must_change_password
    assert events(db, "liwei")[0]["actor"] == "system"


@pytest.mark.parametrize("who", ["op1", "sup", "vol"])
def test_only_an_admin_or_the_system_manages_accounts(db, people, who):
    actor: Actor = getattr(people, who)
    for fn, args in [
        (accounts.create_account, ("newbie", "operator")),
        (accounts.deactivate, ("op2",)),
        (accounts.reactivate, ("op2",)),
        (accounts.reset_password, ("op2",)),
        (accounts.change_role, ("op2", "supervisor")),
        (accounts.change_display_name, ("op2", "李强强")),
        (accounts.reset_two_factor, ("op2",)),
    ]:
        with db.session() as s, pytest.raises(NotAllowed, match="只有管理员"):
            fn(s, actor, *args)
    with db.session() as s:
        assert s.scalar(select(UserEvent.id)) is None  # nothing was written


def test_an_unknown_account_is_not_found(db, people):
    with db.session() as s, pytest.raises(NotFound):
        accounts.deactivate(s, people.admin, "nobody")


# ---------------------------------------------------------------- deactivating, and the admin rules


def test_deactivation_ends_sessions_and_is_audited(db, people):
    before = user(db, "op1").session_version
    change(db, accounts.deactivate, people.admin, "op1")
    after = user(db, "op1")
    assert not after.active and after.session_version == before + 1
    with db.session() as s:
        assert authenticate(s, "op1", PASSWORD) is None
    with db.session() as s, pytest.raises(CaseError, match="已经停用"):
        accounts.deactivate(s, people.admin, "op1")
    change(db, accounts.reactivate, people.admin, "op1")
    again = user(db, "op1")
    assert again.active and again.session_version == before + 1  # old sessions stay ended
    assert [(e["action"], e["detail"]) for e in events(db, "op1")] == [
        ("deactivated", {"old": True, "new": False}),
        ("reactivated", {"old": False, "new": True}),
    ]
    assert events(db, "op1")[0]["summary"] == "启用 → 停用"


def test_an_admin_cannot_deactivate_themselves(db, people):
    change(db, accounts.create_account, SYSTEM, "admin2", "admin", "", "another-admin-pass")
    with db.session() as s, pytest.raises(CaseError, match="不能停用自己"):
        accounts.deactivate(s, people.admin, "admin")
    assert user(db, "admin").active


def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(db, people):
    with db.session() as s, pytest.raises(CaseError, match="最后一个启用的管理员"):
        accounts.deactivate(s, SYSTEM, "admin")
    with db.session() as s, pytest.raises(CaseError, match="最后一个启用的管理员"):
        accounts.change_role(s, people.admin, "admin", "supervisor")
    # A second admin, deactivated, does not count; once active again, the first may step down.
    change(db, accounts.create_account, SYSTEM, "admin2", "admin", "", "another-admin-pass")
    change(db, accounts.deactivate, people.admin, "admin2")
    with db.session() as s, pytest.raises(CaseError, match="最后一个启用的管理员"):
        accounts.change_role(s, people.admin, "admin", "operator")
    change(db, accounts.reactivate, people.admin, "admin2")
    change(db, accounts.change_role, people.admin, "admin", "supervisor")
    assert user(db, "admin").role == "supervisor"
    with db.session() as s, pytest.raises(CaseError, match="最后一个启用的管理员"):
        accounts.deactivate(s, SYSTEM, "admin2")


def test_a_role_change_ends_sessions_and_is_audited(db, people):
    before = user(db, "op2").session_version
    change(db, accounts.change_role, people.admin, "op2", "supervisor")
    assert user(db, "op2").role == "supervisor" and user(db, "op2").session_version == before + 1
    (event,) = events(db, "op2")
    assert event["action"] == "role_changed" and event["detail"] == {"old": "operator", "new": "supervisor"}
    assert event["summary"] == "话务员 → 班长"
    with db.session() as s, pytest.raises(CaseError, match="已经是班长"):
        accounts.change_role(s, people.admin, "op2", "supervisor")
    with db.session() as s, pytest.raises(CaseError, match="没有这个角色"):
        accounts.change_role(s, people.admin, "op2", "root")


def test_a_name_change_is_audited_and_keeps_sessions(db, people):
    before = user(db, "op2").session_version
    change(db, accounts.change_display_name, people.admin, "op2", "  李强华 ")
    assert user(db, "op2").display_name == "李强华" and user(db, "op2").session_version == before
    assert events(db, "op2")[0]["detail"] == {"old": "李强", "new": "李强华"}
    with db.session() as s, pytest.raises(CaseError, match="不能为空"):
        accounts.change_display_name(s, people.admin, "op2", "   ")


# ---------------------------------------------------------------- passwords


def test_a_reset_makes_a_temporary_password_and_ends_sessions(db, people):
    before = user(db, "op1").session_version
    _, temporary = change(db, accounts.reset_password, people.admin, "op1")
    after = user(db, "op1")
    assert after.must_change_password and after.session_version == before + 1
    with db.session() as s:
        assert authenticate(s, "op1", PASSWORD) is None
        assert authenticate(s, "op1", temporary) is not None
    (event,) = events(db, "op1")
    assert event["action"] == "password_reset" and temporary not in json.dumps(event)
    assert after.password_hash not in json.dumps(event)


def test_the_user_replaces_the_temporary_password(db, people):
    _, temporary = change(db, accounts.reset_password, people.admin, "op1")
    uid = people.op1.user_id
    with db.session() as s, pytest.raises(CaseError, match="不能和原来的密码相同"):
        accounts.change_own_password(s, uid, temporary)
    with db.session() as s, pytest.raises(CaseError, match="至少 10 位"):
        accounts.change_own_password(s, uid, "short")
    version = user(db, "op1").session_version
    change(db, accounts.change_own_password, uid, "my-own-new-password")
    after = user(db, "op1")
    assert not after.must_change_password and after.session_version == version + 1
    assert [(e["action"], e["actor"]) for e in events(db, "op1")] == [
        ("password_reset", "user:admin"),
        ("password_changed", "user:op1"),
    ]


# ---------------------------------------------------------------- the audit log


def test_the_account_log_is_append_only(db, people):
    change(db, accounts.deactivate, people.admin, "op1")
    with db.session() as s:
        s.scalars(select(UserEvent)).first().action = "forged"
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()
        s.delete(s.scalars(select(UserEvent)).first())
        with pytest.raises(PermissionError):
            s.flush()
    with db.engine.connect() as conn:
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE desk_user_events SET action = 'forged'"))
        conn.rollback()
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("DELETE FROM desk_user_events"))


def test_the_list_shows_each_accounts_last_change(db, people):
    change(db, accounts.change_display_name, people.admin, "op1", "王芳芳")
    change(db, accounts.deactivate, people.admin, "op1")
    with db.session() as s:
        rows = {r["username"]: r for r in accounts.list_accounts(s)}
    assert rows["op1"]["last_change"]["action"] == "deactivated" and not rows["op1"]["active"]
    assert rows["op2"]["last_change"] is None and rows["op2"]["two_factor"] is False
    assert list(rows)[-1] == "op1"  # deactivated accounts last


# ---------------------------------------------------------------- two-step login


def enable_totp(db, username: str) -> str:
    secret = totp.new_secret()
    change(db, totp.enable, user(db, username).id, secret, pyotp.TOTP(secret).now(), KEY)
    return secret


def test_the_secret_is_stored_sealed_and_enabling_is_audited(db, people):
    secret = enable_totp(db, "sup")
    stored = user(db, "sup").totp_secret
    assert stored and secret not in stored and totp.unseal(stored, KEY) == secret
    assert totp.unseal(stored, "another-key") is None
    with db.engine.connect() as conn:  # nowhere in the tables in the clear
        dump = json.dumps(
            [list(r) for t in ("desk_users", "desk_user_events") for r in conn.execute(text(f"SELECT * FROM {t}"))],
            default=str,
        )
    assert secret not in dump
    (event,) = events(db, "sup")
    assert event["action"] == "totp_enabled" and event["actor"] == "user:sup"


def test_enabling_needs_a_right_code_and_a_supervisor_or_admin(db, people):
    secret = totp.new_secret()
    with db.session() as s, pytest.raises(CaseError, match="验证码不正确"):
        totp.enable(s, people.sup.user_id, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111", KEY)
    with db.session() as s, pytest.raises(NotAllowed, match="班长和管理员"):
        totp.enable(s, people.op1.user_id, secret, pyotp.TOTP(secret).now(), KEY)
    assert user(db, "sup").totp_secret is None


def test_a_login_code_is_right_once_and_only_near_now(db, people):
    secret = enable_totp(db, "admin")
    now = 1_900_000_000.0
    code_now, code_later = pyotp.TOTP(secret).at(now), pyotp.TOTP(secret).at(now + 90)
    with db.session() as s:
        admin = s.get(User, people.admin.user_id)
        admin.totp_last_step = None  # (enabling used the real clock's step)
        assert not totp.check_login_code(s, admin, code_later, KEY, now)  # three steps away
        assert not totp.check_login_code(s, admin, "12345", KEY, now)
        assert totp.check_login_code(s, admin, " ".join([code_now[:3], code_now[3:]]), KEY, now)
        assert not totp.check_login_code(s, admin, code_now, KEY, now)  # used: no replay
        assert not totp.check_login_code(s, admin, pyotp.TOTP(secret).at(now - 30), KEY, now)  # an older step
        assert totp.check_login_code(s, admin, pyotp.TOTP(secret).at(now + 30), KEY, now)  # the next one
        assert not totp.check_login_code(s, admin, pyotp.TOTP(secret).at(now + 30), KEY, now + 1)
        assert totp.check_login_code(s, s.get(User, people.op1.user_id), "", KEY)  # no two-step: no code


def test_a_changed_secret_key_refuses_every_code(db, people):
    secret = enable_totp(db, "sup")
    with db.session() as s:
        sup = s.get(User, people.sup.user_id)
        sup.totp_last_step = None
        assert not totp.check_login_code(s, sup, pyotp.TOTP(secret).now(), "a-rotated-key")


def test_the_admin_resets_and_the_user_disables_two_step_login(db, people):
    enable_totp(db, "sup")
    change(db, accounts.reset_two_factor, people.admin, "sup")
    assert user(db, "sup").totp_secret is None
    with db.session() as s, pytest.raises(CaseError, match="没有开启"):
        accounts.reset_two_factor(s, people.admin, "sup")
    secret = totp.new_secret()
    now = 1_900_000_000.0
    change(db, totp.enable, people.sup.user_id, secret, pyotp.TOTP(secret).now(), KEY)
    with db.session() as s, pytest.raises(CaseError, match="验证码不正确"):
        totp.disable(s, people.sup.user_id, "", KEY)
    change(db, totp.disable, people.sup.user_id, pyotp.TOTP(secret).at(now), KEY, now)
    assert user(db, "sup").totp_secret is None
    assert [(e["action"], e["actor"]) for e in events(db, "sup")] == [
        ("totp_enabled", "user:sup"),
        ("totp_reset", "user:admin"),
        ("totp_enabled", "user:sup"),
        ("totp_disabled", "user:sup"),
    ]


# ---------------------------------------------------------------- the command line


@pytest.fixture
def cli(db, monkeypatch):
    from bot.cases import admin
    from bot.config import settings

    monkeypatch.setenv("JZ_DATABASE_URL", db.url)
    settings.cache_clear()
    yield admin.main
    settings.cache_clear()


def test_the_command_line_deactivates_and_reactivates_as_the_system(db, people, cli, capsys):
    version = user(db, "op1").session_version
    assert cli(["deactivate", "OP1"]) == 0
    assert "已停用账号 op1" in capsys.readouterr().out
    assert not user(db, "op1").active and user(db, "op1").session_version == version + 1
    assert cli(["deactivate", "op1"]) == 1
    assert "已经停用" in capsys.readouterr().err
    assert cli(["reactivate", "op1"]) == 0
    assert user(db, "op1").active
    assert cli(["deactivate", "admin"]) == 1  # the last admin
    assert "最后一个启用的管理员" in capsys.readouterr().err
    assert [(e["action"], e["actor"]) for e in events(db, "op1")] == [
        ("deactivated", "system"),
        ("reactivated", "system"),
    ]
    assert events(db, "op1")[0]["actor_label"] == "系统（命令行）"


def test_the_command_line_resets_two_step_login_and_audits_passwords(db, people, cli, monkeypatch):
    enable_totp(db, "admin")
    assert cli(["reset-2fa", "admin"]) == 0
    assert user(db, "admin").totp_secret is None
    monkeypatch.setenv("JZ_NEW_PASSWORD", "set-on-the-terminal-1")
    assert cli(["set-password", "op2"]) == 0
    assert cli(["create-user", "newop", "--role", "operator", "--name", "新人"]) == 0
    assert not user(db, "newop").must_change_password
    assert [e["action"] for e in events(db, "admin")] == ["totp_enabled", "totp_reset"]
    assert [e["action"] for e in events(db, "op2")] == ["password_set"]
    assert [e["action"] for e in events(db, "newop")] == ["created"]


def test_users_made_without_the_accounts_module_still_list(db):
    with db.session() as s:
        create_user(s, "plain", PASSWORD, "operator")
        s.commit()
        (row,) = accounts.list_accounts(s)
    assert row["username"] == "plain" and row["last_change"] is None and not row["must_change_password"]
