"""``hubtap doors``: register doors and zone readers, and see how they are."""

import argparse
from typing import TYPE_CHECKING, get_args

from hub_server import doors
from hub_server.cli_common import Admin, add_command, add_group, print_table
from hub_server.models import Direction, DoorIn, build

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap doors …``."""
    group = add_group(commands, "doors", "doors and zone readers")

    add = add_command(group, "add", _add, "register a door")
    add.add_argument("id", metavar="ID", help="door id, as in the door's door.toml")
    add.add_argument("--name", required=True, help="a name people know it by")
    add.add_argument(
        "--direction",
        choices=get_args(Direction),
        help="what a granted tap means: in (default), out, toggle or zone",
    )
    add.add_argument("--zone", help="the zone it leads into")
    add.add_argument("--room", help="the room it leads into (its zone too, unless --zone)")
    add.add_argument("--group", help="door group for access rules (default: default)")

    add_command(group, "list", _list, "list doors with what they last reported")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    values = {
        "id": args.id,
        "name": args.name,
        "direction": args.direction,
        "zone_id": args.zone,
        "room_id": args.room,
        "group": args.group,
    }
    door = doors.add(
        admin.store, build(DoorIn, **{k: v for k, v in values.items() if v}), admin.actor
    )
    print(f"door {door.id} ({door.name}) added; it gets its access list from the running server")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("id", "name", "direction", "zone", "status", "lock", "list"),
        (
            (d.id, d.name, d.direction, d.zone_id, _status(d.online), d.lock, d.list_version)
            for d in doors.all_doors(admin.store)
        ),
    )
    return 0


def _status(online: bool | None) -> str:
    return "unknown" if online is None else "online" if online else "offline"
