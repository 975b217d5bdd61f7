"""``hubtap guests``: members' guests' day passes (first names only)."""

import argparse
from datetime import date
from typing import TYPE_CHECKING

from hub_server import cards, guests
from hub_server.cli_common import Admin, add_command, add_group, print_table, show_time
from hub_server.models import build
from hublink.messages import utcnow

if TYPE_CHECKING:
    from hub_server.cli_common import Commands


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap guests …``."""
    group = add_group(commands, "guests", "guests' day passes")

    add = add_command(group, "add", _add, "register a member's guest for a day")
    add.add_argument("--host", required=True, metavar="MEMBER", help="the member's id")
    add.add_argument("--first-name", required=True, help="the guest's first name")
    add.add_argument("--day", metavar="DATE", help="the day (default: today in the hub's zone)")
    add.add_argument("--event", metavar="EVENT", help="an event the host is signed up for")
    add.add_argument("--card", metavar="UID", help="the UID of a card the guest will carry")

    find = add_command(group, "list", _list, "list the day's passes, or a member's")
    find.add_argument("--day", metavar="DATE", help="the day (default: today in the hub's zone)")
    find.add_argument("--host", metavar="MEMBER", help="this member's passes, from the day on")

    card = add_command(group, "card", _card, "give a guest's pass a card")
    card.add_argument("id", metavar="PASS", help="the pass's id (g-…)")
    card.add_argument("uid", metavar="UID", help="the card's UID in hex, as a reader prints it")

    cancel = add_command(group, "cancel", _cancel, "cancel a guest's pass")
    cancel.add_argument("id", metavar="PASS", help="the pass's id (g-…)")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    credential, hint = _hashed(admin, args.card) if args.card else (None, None)
    data = build(
        guests.GuestIn,
        first_name=args.first_name,
        host_member_id=args.host,
        day=_day(admin, args.day),
        event_id=args.event,
        credential=credential,
        hint=hint,
    )
    found = guests.register(
        admin.store,
        data,
        actor=admin.actor,
        source="cli",
        timezone=admin.config.hub.timezone,
        now=utcnow(),
    )
    until = show_time(found.valid_until, admin.zone)
    guest = f"{found.first_name}, guest of {found.host_first_name}"
    print(f"guest pass {found.id}: {guest}, until {until}")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    day = _day(admin, args.day) or utcnow().astimezone(admin.zone).date()
    if args.host is None:
        found = guests.of_day(admin.store, day)
    else:
        found = guests.of_host(admin.store, args.host, since=day)
    zone = admin.zone
    print_table(
        ("id", "day", "guest", "host", "event", "card", "until", "status"),
        (
            (
                g.id,
                g.day.isoformat(),
                g.first_name,
                f"{g.host_first_name} ({g.host_member_id})",
                g.event_id,
                f"…{g.hint}" if g.hint else ("yes" if g.has_card else None),
                show_time(g.valid_until, zone),
                g.status,
            )
            for g in found
        ),
    )
    return 0


def _card(admin: Admin, args: argparse.Namespace) -> int:
    credential, hint = _hashed(admin, args.uid)
    found = guests.give_card(
        admin.store, args.id, credential, hint, actor=admin.actor, now=utcnow()
    )
    print(f"guest pass {found.id} ({found.first_name}) now has card …{found.hint}")
    return 0


def _cancel(admin: Admin, args: argparse.Namespace) -> int:
    found = guests.cancel(admin.store, args.id, actor=admin.actor, now=utcnow())
    print(f"guest pass {found.id} ({found.first_name}, guest of {found.host_first_name}) cancelled")
    return 0


def _day(admin: Admin, text: str | None) -> date | None:
    moment = admin.moment(text, "--day")
    return None if moment is None else moment.astimezone(admin.zone).date()


def _hashed(admin: Admin, uid_text: str) -> tuple[str, str]:
    """A card's keyed hash and the hint to show, from its UID."""
    return cards.hashed_uid(admin.site_key("a guest's card"), uid_text, "UID")
