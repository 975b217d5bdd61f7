"""``hubtap users``: dashboard accounts (operators and hosts).

Passwords are asked for twice at a terminal, or read from the first line of
standard input with ``--password-stdin`` (for scripts); never from the
command line, where other users could see them in the process list.
"""

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from hub_server import users
from hub_server.cli_common import Admin, Failure, add_command, add_group, print_table, show_time

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap users …``."""
    group = add_group(commands, "users", "dashboard accounts")
    add = add_command(group, "add", _add, "create a dashboard account")
    add.add_argument("username", metavar="USERNAME", help="the login name")
    add.add_argument(
        "--role",
        choices=users.ROLES,
        default="operator",
        help="operator: everything; host: events and guests only (default operator)",
    )
    add.add_argument("--name", default="", help="the name the dashboard shows")
    _password_option(add)
    add_command(group, "list", _list, "list dashboard accounts")
    password = add_command(
        group, "password", _password, "set a new password (ends sessions and any lockout)"
    )
    password.add_argument("username", metavar="USERNAME", help="the login name")
    _password_option(password)
    disable = add_command(group, "disable", _disable, "stop an account from signing in")
    disable.add_argument("username", metavar="USERNAME", help="the login name")


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )


def _add(admin: Admin, args: argparse.Namespace) -> int:
    user = users.add(
        admin.store,
        args.username,
        _read_password(args.password_stdin),
        args.role,
        admin.actor,
        display_name=args.name,
    )
    print(f"{user.role} {user.username!r} created; they can sign in to the dashboard now")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("username", "name", "role", "created", "last login", "disabled"),
        (
            (
                u.username,
                u.display_name,
                u.role,
                show_time(u.created_at, admin.zone),
                show_time(u.last_login_at, admin.zone),
                show_time(u.disabled_at, admin.zone),
            )
            for u in users.all_users(admin.store)
        ),
    )
    return 0


def _password(admin: Admin, args: argparse.Namespace) -> int:
    user = users.set_password(
        admin.store, args.username, _read_password(args.password_stdin), admin.actor
    )
    print(f"password of {user.username!r} changed; their sessions have ended")
    return 0


def _disable(admin: Admin, args: argparse.Namespace) -> int:
    user = users.disable(admin.store, args.username, admin.actor)
    print(f"{user.username!r} can no longer sign in; their sessions have ended")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        users.check_password(line)
        return line
    if not sys.stdin.isatty():
        raise Failure("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    users.check_password(first)
    if getpass.getpass("Again: ") != first:
        raise Failure("the passwords differ; nothing changed")
    return first
