"""Case desk administration from the command line.

    python -m bot.cases.admin create-user alice --role operator --name 张丽 [--password-stdin]
    python -m bot.cases.admin set-password alice [--password-stdin]
    python -m bot.cases.admin deactivate alice        (her sessions end at once)
    python -m bot.cases.admin reactivate alice
    python -m bot.cases.admin reset-2fa alice         (turns her two-step login off: a lost phone)
    python -m bot.cases.admin list-users
    python -m bot.cases.admin escalate-overdue
    python -m bot.cases.admin check-calendar [--today YYYY-MM-DD] [--file sla.yml]

Uses the service database (JZ_DATABASE_URL, else SQLite in JZ_DATA_DIR). Every change to an
account is in its audit log (bot/cases/accounts.py) with the actor "system".
Without --password-stdin the password is asked for twice on the terminal;
the JZ_NEW_PASSWORD variable also works (for scripts such as `make run`).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date

from bot.cases import accounts
from bot.cases.desk import SYSTEM, CaseDesk
from bot.cases.model import CaseError, Role
from bot.cases.sla import check_calendar
from bot.cases.users import find_user
from bot.config import settings
from bot.db import Database


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("JZ_NEW_PASSWORD"):
        return os.environ["JZ_NEW_PASSWORD"]
    first = getpass.getpass("密码：")
    if getpass.getpass("再输一次：") != first:
        raise CaseError("两次输入的密码不一致")
    return first


ACCOUNT_COMMANDS = {
    "deactivate": (accounts.deactivate, "已停用账号"),
    "reactivate": (accounts.reactivate, "已重新启用账号"),
    "reset-2fa": (accounts.reset_two_factor, "已关闭两步验证，账号"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cases.admin", description="热线工单管理")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("create-user", help="create a desk user")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--name", default="", help="display name (Chinese)")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--if-missing", action="store_true", help="do nothing if the user exists")
    p = sub.add_parser("set-password", help="change a password (signs the user out everywhere)")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    for name, what in (
        ("deactivate", "deactivate a desk user (ends their sessions at once)"),
        ("reactivate", "reactivate a deactivated desk user"),
        ("reset-2fa", "turn a user's two-step login (TOTP) off"),
    ):
        sub.add_parser(name, help=what).add_argument("username")
    sub.add_parser("list-users")
    sub.add_parser("escalate-overdue", help="raise the priority of overdue cases (for cron)")
    p = sub.add_parser("check-calendar", help="are the holidays of the years due times reach known? (exit 1 if not)")
    p.add_argument("--today", type=date.fromisoformat, help="check as of this day (default: today)")
    p.add_argument("--file", help="the time-limit file (default: bot/cases/sla.yml)")
    args = parser.parse_args(argv)
    if args.cmd == "check-calendar":  # reads sla.yml only: no database
        return check_calendar(args.today, args.file)

    db = Database(settings().resolved_database_url())
    db.migrate()
    try:
        if args.cmd == "create-user":
            with db.session() as s:
                if args.if_missing and find_user(s, args.username):
                    print(f"用户 {args.username} 已存在，跳过")
                    return 0
                user, _ = accounts.create_account(s, SYSTEM, args.username, args.role, args.name, _password(args))
                s.commit()
                print(f"已创建用户 {user.username}（{user.role}）")
        elif args.cmd == "set-password":
            with db.session() as s:
                accounts.set_password(s, SYSTEM, args.username, _password(args))
                s.commit()
                print(f"已修改 {args.username} 的密码")
        elif args.cmd in ACCOUNT_COMMANDS:
            change, message = ACCOUNT_COMMANDS[args.cmd]
            with db.session() as s:
                user = change(s, SYSTEM, args.username)
                s.commit()
                print(f"{message} {user.username}")
        elif args.cmd == "list-users":
            from sqlalchemy import select

            from bot.cases.store import User

            with db.session() as s:
                for u in s.scalars(select(User).order_by(User.id)):
                    state = "启用" if u.active else "停用"
                    print(
                        f"{u.username}\t{u.role}\t{u.display_name}\t{state}" + ("\t两步验证" if u.totp_secret else "")
                    )
        elif args.cmd == "escalate-overdue":
            done = CaseDesk(db).escalate_overdue(SYSTEM)
            print(f"已升级 {len(done)} 张超时工单" + (f"：{', '.join(done)}" if done else ""))
    except CaseError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
