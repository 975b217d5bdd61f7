"""``hubtap tiers``: membership tiers and how many guests a day each allows."""

import argparse
from typing import TYPE_CHECKING, Any

from hub_server import tiers
from hub_server.cli_common import Admin, add_command, add_group, print_table
from hub_server.models import build

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap tiers …``."""
    group = add_group(commands, "tiers", "membership tiers")

    add = add_command(group, "add", _add, "add a tier")
    add.add_argument("id", metavar="ID", help="tier id, as members and access rules name it")
    add.add_argument("--name", required=True, help="a name people know it by")
    add.add_argument(
        "--guests-per-day", type=int, metavar="N", help="guests a member may register a day"
    )

    add_command(group, "list", _list, "list tiers with their guest limits and members")

    change = add_command(group, "set", _set, "change a tier's name or guest limit")
    change.add_argument("id", metavar="ID", help="the tier's id")
    change.add_argument("--name", help="a new name")
    change.add_argument("--guests-per-day", type=int, metavar="N", help="a new guest limit")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    values = {"name": args.name, "guests_per_day": args.guests_per_day}
    return {key: value for key, value in values.items() if value is not None}


def _add(admin: Admin, args: argparse.Namespace) -> int:
    tier = tiers.add(admin.store, build(tiers.TierIn, id=args.id, **_given(args)), admin.actor)
    print(f"tier {tier.id} ({tier.name}) added: {_guests(tier)}")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("id", "name", "guests/day", "members"),
        ((t.id, t.name, t.guests_per_day, t.members) for t in tiers.all_tiers(admin.store)),
    )
    return 0


def _set(admin: Admin, args: argparse.Namespace) -> int:
    tier = tiers.update(admin.store, args.id, build(tiers.TierChange, **_given(args)), admin.actor)
    print(f"tier {tier.id} ({tier.name}): {_guests(tier)}")
    return 0


def _guests(tier: tiers.Tier) -> str:
    count = tier.guests_per_day
    return f"{count} guest{'' if count == 1 else 's'} a day"
