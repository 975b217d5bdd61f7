"""``hubtap bookings``: book rooms by the hour, list and cancel bookings, bill organisations."""

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from hub_server import billing, bookings
from hub_server.bookings import BookingIn
from hub_server.cli_common import Admin, Failure, add_command, add_group, print_table, show_time
from hub_server.errors import Invalid
from hub_server.models import build
from hub_server.pricing import format_cents
from hublink.messages import utcnow

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap bookings …``."""
    group = add_group(commands, "bookings", "room bookings by the hour, and their billing")

    add = add_command(group, "add", _add, "book a room for a member and print the booking's id")
    add.add_argument("room", metavar="ROOM", help="room id")
    add.add_argument("member", metavar="MEMBER", help="member id")
    add.add_argument(
        "--start",
        metavar="TIME",
        required=True,
        help='local date and time, e.g. "2026-12-01 10:00" (or ISO with an offset)',
    )
    add.add_argument("--minutes", type=int, required=True, help="how long, e.g. 60")

    listing = add_command(group, "list", _list, "list a day's bookings of every room, or one")
    listing.add_argument("--day", metavar="DATE", help="local day, YYYY-MM-DD (default: today)")
    listing.add_argument("--room", metavar="ROOM", help="only this room")

    cancel = add_command(group, "cancel", _cancel, "cancel a booking that has not started")
    cancel.add_argument("id", metavar="ID", help="booking id (b-…)")

    bill = add_command(group, "billing", _billing, "a month's bookings billed per organisation")
    bill.add_argument("month", metavar="MONTH", help="YYYY-MM, in the hub's time zone")
    bill.add_argument("--detail", action="store_true", help="one row per booking instead")
    bill.add_argument("--output", metavar="FILE", help="write to FILE (default: standard output)")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    data = build(
        BookingIn,
        room_id=args.room,
        member_id=args.member,
        starts_at=admin.moment(args.start, "--start"),
        minutes=args.minutes,
    )
    booking = bookings.book(
        admin.store,
        data,
        actor=admin.actor,
        source="cli",
        community=admin.config.community,
        timezone=admin.config.hub.timezone,
        now=utcnow(),
    )
    print(booking.id)
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    zone = admin.zone
    day = _day(args.day) if args.day else utcnow().astimezone(zone).date()
    found = bookings.of_day(admin.store, day, admin.config.hub.timezone)
    if args.room:
        found = [b for b in found if b.room_id == args.room]
    print_table(
        ("id", "room", "start", "end", "member", "organisation", "amount", "source"),
        (
            (
                b.id,
                b.room_name,
                show_time(b.starts_at, zone),
                show_time(b.ends_at, zone),
                f"{b.member_first_name} {b.member_last_name}",
                b.organisation_name,
                format_cents(b.amount_cents),
                b.source,
            )
            for b in found
        ),
    )
    return 0


def _cancel(admin: Admin, args: argparse.Namespace) -> int:
    booking = bookings.cancel(admin.store, args.id, actor=admin.actor, now=utcnow())
    print(f"booking {booking.id} of {booking.room_name} is cancelled")
    return 0


def _billing(admin: Admin, args: argparse.Namespace) -> int:
    timezone = admin.config.hub.timezone
    if args.detail:
        text = billing.detail_csv(billing.detail(admin.store, args.month, timezone))
    else:
        text = billing.summary_csv(billing.monthly(admin.store, args.month, timezone))
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
    except OSError as err:
        raise Failure(f"cannot write {args.output}: {err.strerror}") from err
    print(f"billing for {args.month} written to {args.output}", file=sys.stderr)
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as err:
        raise Invalid("--day", f"{text!r} is not a date (YYYY-MM-DD)") from err
