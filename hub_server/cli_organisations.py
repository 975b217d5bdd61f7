"""``hubtap organisations``: the companies and agencies members belong to."""

import argparse
from typing import TYPE_CHECKING

from hub_server import organisations
from hub_server.cli_common import Admin, add_command, add_group, print_table
from hub_server.models import OrganisationIn, build

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap organisations …``."""
    group = add_group(commands, "organisations", "the organisations members belong to")
    add = add_command(group, "add", _add, "add an organisation and print its id")
    add.add_argument("name", metavar="NAME", help="the organisation's name")
    add.add_argument("--id", help="its id (default: made from the name, o-…)")
    add_command(group, "list", _list, "list organisations with their active members")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    values = {"name": args.name, "id": args.id}
    data = build(OrganisationIn, **{k: v for k, v in values.items() if v is not None})
    print(organisations.add(admin.store, data, admin.actor).id)
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("name", "members", "id"),
        ((o.name, o.members, o.id) for o in organisations.all_organisations(admin.store)),
    )
    return 0
