"""Account management and two-step login through the real app (bot/service/routers/
console_accounts.py, console_two_factor.py, console_login.py): admins only, CSRF, every
change audited and shown, sessions ended at once, temporary passwords, TOTP at login
(a right, a wrong and a replayed code) and wrong codes counted by the login throttle."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.cases.store import User, UserEvent
from bot.service.auth import _throttle_storage
from bot.throttle import LoginThrottle
from tests.cases.conftest import PASSWORD, csrf_of, login
from tests.cases.test_throttle import FakeTime

WRONG = "用户名、密码或验证码不正确"


def form_login(client: TestClient, username: str, password: str = PASSWORD, code: str = ""):
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "code": code, "login_token": token},
        follow_redirects=False,
    )


def logged_in(app, username: str, address: str = "testclient") -> tuple[TestClient, str]:
    client = TestClient(app, client=(address, 50000))
    return client, login(client, username)


def uid(app, username: str) -> int:
    with app.state.db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def account(app, username: str) -> User:
    with app.state.db.session() as s:
        return s.scalar(select(User).where(User.username == username))


def actions(app, username: str) -> list[tuple[str, str]]:
    with app.state.db.session() as s:
        rows = s.scalars(select(UserEvent).where(UserEvent.user_id == uid(app, username)).order_by(UserEvent.id))
        return [(e.action, e.actor) for e in rows]


def event_count(app) -> int:
    with app.state.db.session() as s:
        return s.scalar(select(func.count(UserEvent.id)))


def is_signed_out(client: TestClient) -> bool:
    r = client.get("/console", follow_redirects=False)
    return r.status_code == 303 and r.headers["location"].startswith("/console/login")


def wrong_code(secret: str) -> str:
    near = {pyotp.TOTP(secret).at(time.time(), counter_offset=i) for i in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def next_code(secret: str) -> str:
    """The code of the step after now: enabling just used the current one (each step counts once)."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=1)


def enable_two_factor(client: TestClient) -> str:
    page = client.get("/console/account/2fa")
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    assert f"secret={secret}" in page.text  # the otpauth:// URI, as text
    token = re.search(r'name="enrol_token" value="([^"]+)"', page.text).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/console/account/2fa", data={"csrf_token": csrf, "enrol_token": token, "code": pyotp.TOTP(secret).now()}
    )
    assert r.status_code == 200 and "已开启两步验证" in r.text, r.text
    return secret


# ---------------------------------------------------------------- who may


def test_only_admins_reach_account_management(app):
    admin, _ = logged_in(app, "admin")
    page = admin.get("/console/admin/users")
    assert page.status_code == 200
    for name in ("op1", "op2", "sup", "vol", "admin"):
        assert f'data-account="{name}"' in page.text
    assert 'href="/console/admin/users"' in admin.get("/console").text  # the header link
    for who in ("sup", "op1"):
        client, _ = logged_in(app, who)
        assert 'href="/console/admin/users"' not in client.get("/console").text
        for path in ("/console/admin/users", f"/console/admin/users/{uid(app, 'op2')}"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 403 and r.json()["detail"] == "您的角色没有这个权限"
    anon = TestClient(app).get("/console/admin/users", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"] == "/console/login?next=/console/admin/users"


def test_a_supervisor_may_deactivate_nobody(app):
    sup, csrf = logged_in(app, "sup")
    r = sup.post(f"/console/admin/users/{uid(app, 'op1')}/deactivate", data={"csrf_token": csrf})
    assert r.status_code == 403
    assert account(app, "op1").active and event_count(app) == 0


def test_every_post_needs_the_csrf_token(app):
    admin, csrf = logged_in(app, "admin")
    op1 = uid(app, "op1")
    posts = [
        ("/console/admin/users", {"username": "newbie", "role": "operator"}),
        (f"/console/admin/users/{op1}/deactivate", {}),
        (f"/console/admin/users/{op1}/password", {}),
        (f"/console/admin/users/{op1}/role", {"role": "supervisor"}),
        (f"/console/admin/users/{op1}/name", {"display_name": "王某"}),
        (f"/console/admin/users/{op1}/2fa/reset", {}),
    ]
    for path, data in posts:
        for token in (None, "forged-token"):
            form = dict(data, **({"csrf_token": token} if token else {}))
            r = admin.post(path, data=form, follow_redirects=False)
            assert r.status_code == 403 and "刷新页面" in r.json()["detail"], path
    assert event_count(app) == 0 and account(app, "op1").active and account(app, "newbie") is None
    r = admin.post(f"/console/admin/users/{op1}/deactivate", data={"csrf_token": csrf})  # with it: done
    assert r.status_code == 200 and not account(app, "op1").active


# ---------------------------------------------------------------- every change, audited


def test_every_change_on_the_page_is_audited_and_shown(app):
    admin, csrf = logged_in(app, "admin")
    created = admin.post(
        "/console/admin/users",
        data={"csrf_token": csrf, "username": "Zhangli", "display_name": "张丽", "role": "operator"},
    )
    assert created.status_code == 200 and "只显示这一次" in created.text
    temporary = re.search(r'id="temporary-password"[^>]*>([A-Z0-9-]+)<', created.text).group(1)
    zid = uid(app, "zhangli")
    steps = [
        (f"/console/admin/users/{zid}/role", {"role": "supervisor"}, "角色已改为班长"),
        (f"/console/admin/users/{zid}/name", {"display_name": "张丽华"}, "姓名已改为 张丽华"),
        (f"/console/admin/users/{zid}/deactivate", {"back": "page"}, "已停用账号 zhangli"),
        (f"/console/admin/users/{zid}/reactivate", {"back": "page"}, "已重新启用账号 zhangli"),
    ]
    for path, data, flash in steps:
        r = admin.post(path, data=dict(data, csrf_token=csrf))
        assert r.status_code == 200 and flash in r.text, (path, r.text[-500:])
    reset = admin.post(f"/console/admin/users/{zid}/password", data={"csrf_token": csrf})
    assert "已重置密码" in reset.text
    again = re.search(r'id="temporary-password"[^>]*>([A-Z0-9-]+)<', reset.text).group(1)
    assert again != temporary
    assert actions(app, "zhangli") == [
        (a, "user:admin")
        for a in ("created", "role_changed", "display_name_changed", "deactivated", "reactivated", "password_reset")
    ]
    page = admin.get(f"/console/admin/users/{zid}").text
    for shown in ("开通账号", "话务员 → 班长", "张丽 → 张丽华", "启用 → 停用", "停用 → 启用", "重置密码"):
        assert shown in page
    assert temporary not in page and again not in page  # shown once, never again
    listing = admin.get("/console/admin/users").text
    assert "重置密码（临时密码）（admin）" in listing and "待改临时密码" in listing


def test_an_admin_cannot_deactivate_themselves_on_the_page(app):
    admin, csrf = logged_in(app, "admin")
    r = admin.post(f"/console/admin/users/{uid(app, 'admin')}/deactivate", data={"csrf_token": csrf})
    assert "不能停用自己的账号" in r.text and account(app, "admin").active
    r = admin.post(f"/console/admin/users/{uid(app, 'admin')}/role", data={"csrf_token": csrf, "role": "operator"})
    assert "最后一个启用的管理员" in r.text and account(app, "admin").role == "admin"
    r = admin.post("/console/admin/users/999999/deactivate", data={"csrf_token": csrf})
    assert "没有这个账号" in r.text
    assert event_count(app) == 0


# ---------------------------------------------------------------- sessions end at once


@pytest.mark.parametrize(
    "path, data",
    [("deactivate", {}), ("role", {"role": "supervisor"}), ("password", {})],
    ids=["deactivated", "new-role", "password-reset"],
)
def test_the_change_ends_the_users_session_at_once(app, path, data):
    op, _ = logged_in(app, "op1", "198.51.100.1")
    assert op.get("/console", follow_redirects=False).status_code == 200
    admin, csrf = logged_in(app, "admin")
    admin.post(f"/console/admin/users/{uid(app, 'op1')}/{path}", data=dict(data, csrf_token=csrf))
    assert is_signed_out(op)


def test_a_name_change_keeps_the_session(app):
    op, _ = logged_in(app, "op1", "198.51.100.1")
    admin, csrf = logged_in(app, "admin")
    admin.post(f"/console/admin/users/{uid(app, 'op1')}/name", data={"csrf_token": csrf, "display_name": "王芳芳"})
    assert "王芳芳" in op.get("/console").text


# ---------------------------------------------------------------- temporary passwords


def test_a_temporary_password_must_be_replaced_before_the_console_opens(app):
    admin, csrf = logged_in(app, "admin")
    r = admin.post(f"/console/admin/users/{uid(app, 'op2')}/password", data={"csrf_token": csrf})
    temporary = re.search(r'id="temporary-password"[^>]*>([A-Z0-9-]+)<', r.text).group(1)
    op = TestClient(app, client=("198.51.100.2", 50000))
    assert form_login(op, "op2").status_code == 401  # the old password is gone
    r = form_login(op, "op2", temporary)
    assert r.status_code == 200 and "请设置新密码" in r.text and "jz_session" not in r.headers.get("set-cookie", "")
    assert is_signed_out(op)
    token = re.search(r'name="change_token" value="([^"]+)"', r.text).group(1)
    r = op.post("/console/login/password", data={"change_token": token, "password": "new-pass-0001", "password2": "x"})
    assert r.status_code == 400 and "不一致" in r.text
    r = op.post("/console/login/password", data={"change_token": token, "password": temporary, "password2": temporary})
    assert r.status_code == 400 and "不能和原来的密码相同" in r.text
    r = op.post(
        "/console/login/password",
        data={"change_token": token, "password": "my-new-pass-01", "password2": "my-new-pass-01"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "jz_session" in r.headers["set-cookie"]
    assert "新密码已生效" in op.get("/console").text
    assert not account(app, "op2").must_change_password
    # The form cannot be used twice (the password changed: session_version moved on).
    r = op.post(
        "/console/login/password",
        data={"change_token": token, "password": "third-pass-0001", "password2": "third-pass-0001"},
    )
    assert "页面已过期" in r.text
    assert form_login(TestClient(app), "op2", "my-new-pass-01").status_code == 303
    assert actions(app, "op2") == [("password_reset", "user:admin"), ("password_changed", "user:op2")]


def test_a_forged_password_change_token_is_refused(app):
    r = TestClient(app).post(
        "/console/login/password",
        data={"change_token": "forged", "password": "my-new-pass-01", "password2": "my-new-pass-01"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert event_count(app) == 0


# ---------------------------------------------------------------- two-step login


def test_two_step_login_with_a_right_a_wrong_and_a_replayed_code(app):
    sup, _ = logged_in(app, "sup", "198.51.100.3")
    secret = enable_two_factor(sup)
    assert "已开启" in sup.get("/console/account/2fa").text  # this browser stays signed in
    stored = account(app, "sup").totp_secret
    assert stored and secret not in stored  # sealed, not in the clear
    assert actions(app, "sup") == [("totp_enabled", "user:sup")]

    c = TestClient(app, client=("198.51.100.4", 50000))
    wrong_password = form_login(c, "sup", "not-the-password", pyotp.TOTP(secret).now())
    no_code = form_login(c, "sup", PASSWORD)
    bad_code = form_login(c, "sup", PASSWORD, wrong_code(secret))
    for r in (wrong_password, no_code, bad_code):  # the same answer: nothing tells which was wrong
        assert r.status_code == 401 and WRONG in r.text and "jz_session" not in r.headers.get("set-cookie", "")
    code = next_code(secret)
    assert form_login(c, "sup", PASSWORD, code).status_code == 303
    assert c.get("/console", follow_redirects=False).status_code == 200
    replay = form_login(TestClient(app, client=("198.51.100.5", 50000)), "sup", PASSWORD, code)
    assert replay.status_code == 401 and WRONG in replay.text
    # Someone without two-step login may leave the field empty (or type anything there).
    assert form_login(TestClient(app), "op1", PASSWORD, "123456").status_code == 303


def test_enabling_needs_the_right_first_code_and_is_for_supervisors_and_admins(app):
    sup, csrf = logged_in(app, "sup")
    page = sup.get("/console/account/2fa").text
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    token = re.search(r'name="enrol_token" value="([^"]+)"', page).group(1)
    r = sup.post("/console/account/2fa", data={"csrf_token": csrf, "enrol_token": token, "code": wrong_code(secret)})
    assert r.status_code == 400 and "验证码不正确" in r.text
    assert secret in r.text.replace(" ", "")  # the same secret offered again
    assert account(app, "sup").totp_secret is None and event_count(app) == 0
    op, _ = logged_in(app, "op1")
    assert op.get("/console/account/2fa", follow_redirects=False).status_code == 403
    assert 'href="/console/account/2fa"' not in op.get("/console").text
    assert 'href="/console/account/2fa"' in sup.get("/console").text


def test_an_admin_resets_a_lost_two_step_login(app):
    sup, _ = logged_in(app, "sup")
    enable_two_factor(sup)
    admin, csrf = logged_in(app, "admin")
    assert "已开启" in admin.get("/console/admin/users").text
    r = admin.post(f"/console/admin/users/{uid(app, 'sup')}/2fa/reset", data={"csrf_token": csrf})
    assert "已关闭 sup 的两步验证" in r.text
    assert form_login(TestClient(app), "sup", PASSWORD).status_code == 303  # no code asked any more
    assert actions(app, "sup") == [("totp_enabled", "user:sup"), ("totp_reset", "user:admin")]


def test_wrong_codes_count_in_the_login_throttle(app):
    """Per address (then refused, even with the right code) and per account (the delay)."""
    fake_time = FakeTime()
    app.state.throttle_clock = fake_time  # (before the throttle's storage is made, on first use)
    app.state.login_throttle = LoginThrottle(
        _throttle_storage(app), fake_time, address_failures="3 per 15 minutes", account_free_failures=2
    )
    sup, _ = logged_in(app, "sup")
    secret = enable_two_factor(sup)
    guesser = "203.0.113.9"
    for _ in range(3):  # the right password, wrong codes
        r = form_login(TestClient(app, client=(guesser, 50000)), "sup", PASSWORD, wrong_code(secret))
        assert r.status_code == 401
    r = form_login(TestClient(app, client=(guesser, 50000)), "sup", PASSWORD, pyotp.TOTP(secret).now())
    assert r.status_code == 429 and "这台设备" in r.text
    elsewhere = TestClient(app, client=("198.51.100.77", 50000))
    r = form_login(elsewhere, "sup", PASSWORD, pyotp.TOTP(secret).now())
    assert r.status_code == 429 and "这个账号" in r.text  # three failures past the two free ones
    fake_time.advance(int(r.headers["Retry-After"]))
    assert form_login(elsewhere, "sup", PASSWORD, next_code(secret)).status_code == 303


def test_turning_it_off_takes_a_current_code(app):
    sup, csrf = logged_in(app, "sup")
    secret = enable_two_factor(sup)
    csrf = csrf_of(sup)  # enabling signed this browser in afresh
    r = sup.post("/console/account/2fa/disable", data={"csrf_token": csrf, "code": wrong_code(secret)})
    assert "验证码不正确" in r.text and account(app, "sup").totp_secret is not None
    r = sup.post("/console/account/2fa/disable", data={"csrf_token": csrf, "code": next_code(secret)})
    assert "已关闭两步验证" in r.text and account(app, "sup").totp_secret is None
    assert actions(app, "sup") == [("totp_enabled", "user:sup"), ("totp_disabled", "user:sup")]
