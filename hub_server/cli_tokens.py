"""``hubtap tokens``: API tokens for scripts and integrations."""

import argparse
from typing import TYPE_CHECKING

from hub_server import tokens
from hub_server.cli_common import Admin, add_command, add_group, print_table, show_time

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap tokens …``."""
    group = add_group(commands, "tokens", "API tokens")
    add = add_command(group, "add", _add, "create a token (shown once)")
    add.add_argument("name", metavar="NAME", help='what the token is for ("accounting")')
    add_command(group, "list", _list, "list tokens (never their values)")
    revoke = add_command(group, "revoke", _revoke, "revoke a token")
    revoke.add_argument("name", metavar="NAME", help="the token's name")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    token = tokens.create(admin.store, args.name, admin.actor)
    print(token)
    print(f"token {args.name!r} created; it is shown only now: keep it somewhere safe")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("name", "created", "by", "last used", "revoked"),
        (
            (
                t.name,
                show_time(t.created_at, admin.zone),
                t.created_by,
                show_time(t.last_used_at, admin.zone),
                show_time(t.revoked_at, admin.zone),
            )
            for t in tokens.list_tokens(admin.store)
        ),
    )
    return 0


def _revoke(admin: Admin, args: argparse.Namespace) -> int:
    tokens.revoke(admin.store, args.name, admin.actor)
    print(f"token {args.name!r} revoked")
    return 0
