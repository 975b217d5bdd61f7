"""``hubtap zones`` and ``hubtap rooms``: where people are, and how many fit."""

import argparse
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hub_server import places
from hub_server.cli_common import Admin, add_command, add_group, print_table
from hub_server.models import RoomIn, ZoneIn, build

if TYPE_CHECKING:
    from hub_server.cli_common import Commands

_AMOUNT = re.compile(r"^[0-9]{1,9}(?:[.,][0-9]{1,2})?$")


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap zones …`` and ``hubtap rooms …``."""
    zones = add_group(commands, "zones", "the zones of the site, each with a capacity")
    add_zone = add_command(zones, "add", _add_zone, "add a zone")
    add_zone.add_argument("id", metavar="ID", help="zone id")
    add_zone.add_argument("--name", required=True, help="the zone's name")
    add_zone.add_argument("--capacity", type=int, required=True, help="how many people fit")
    add_command(zones, "list", _list_zones, "list zones")

    rooms = add_group(commands, "rooms", "bookable rooms, billed per hour")
    add_room = add_command(rooms, "add", _add_room, "add a room")
    add_room.add_argument("id", metavar="ID", help="room id")
    add_room.add_argument("--name", required=True, help="the room's name")
    add_room.add_argument("--capacity", type=int, required=True, help="how many people fit")
    add_room.add_argument("--zone", help="the zone it is in")
    add_room.add_argument(
        "--hourly-rate", type=cents, metavar="AMOUNT", help="price per hour, e.g. 150.00"
    )
    add_room.add_argument(
        "--out-of-hours-rate",
        type=cents,
        metavar="AMOUNT",
        help="price per hour outside opening hours (default: none)",
    )
    add_command(rooms, "list", _list_rooms, "list rooms")


def cents(text: str) -> int:
    """An amount in currency units (``150``, ``150.00``, ``150,50``) as cents."""
    value = text.strip()
    if not _AMOUNT.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount like 150.00")
    return int(Decimal(value.replace(",", ".")) * 100)


def amount(value: int | None) -> str | None:
    """Cents as currency units with two decimals."""
    return None if value is None else f"{value // 100}.{value % 100:02d}"


def _add_zone(admin: Admin, args: argparse.Namespace) -> int:
    data = build(ZoneIn, id=args.id, name=args.name, capacity=args.capacity)
    zone = places.add_zone(admin.store, data, admin.actor)
    print(f"zone {zone.id} ({zone.name}) added, capacity {zone.capacity}")
    return 0


def _list_zones(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("id", "name", "capacity"),
        ((z.id, z.name, z.capacity) for z in places.zones(admin.store)),
    )
    return 0


def _add_room(admin: Admin, args: argparse.Namespace) -> int:
    values: dict[str, Any] = {
        "id": args.id,
        "name": args.name,
        "capacity": args.capacity,
        "zone_id": args.zone,
        "hourly_rate_cents": args.hourly_rate,
        "out_of_hours_rate_cents": args.out_of_hours_rate,
    }
    data = build(RoomIn, **{k: v for k, v in values.items() if v is not None})
    room = places.add_room(admin.store, data, admin.actor)
    print(f"room {room.id} ({room.name}) added, capacity {room.capacity}")
    return 0


def _list_rooms(admin: Admin, args: argparse.Namespace) -> int:
    print_table(
        ("id", "name", "zone", "capacity", "hourly", "out of hours"),
        (
            (
                r.id,
                r.name,
                r.zone_id,
                r.capacity,
                amount(r.hourly_rate_cents),
                amount(r.out_of_hours_rate_cents),
            )
            for r in places.rooms(admin.store)
        ),
    )
    return 0
