"""``hubtap events``: add, list, show and cancel events; sign members up and off."""

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING, Any, get_args

from hub_server import events, invitations, members, signups
from hub_server.cli_common import Admin, add_command, add_group, print_table, show_time
from hub_server.events import EventIn, Visibility
from hub_server.models import build
from hublink.messages import utcnow

if TYPE_CHECKING:
    from hub_server.cli_common import Commands

LIST_DAYS = 30
"""How far ahead ``events list`` looks without ``--to``."""


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap events …``."""
    group = add_group(commands, "events", "workshops: seats, signups and the waitlist")

    add = add_command(group, "add", _add, "add an event and print its id")
    add.add_argument("--title", required=True, help="what it is called")
    add.add_argument("--host", metavar="MEMBER", required=True, help="the hosting member's id")
    place = add.add_mutually_exclusive_group(required=True)
    place.add_argument("--room", metavar="ROOM", help="a room (reserved for the event)")
    place.add_argument("--zone", metavar="ZONE", help="a zone")
    add.add_argument("--start", metavar="TIME", required=True, help="ISO date and time")
    add.add_argument("--end", metavar="TIME", required=True, help="ISO date and time")
    add.add_argument("--capacity", type=int, required=True, help="seats, guests included")
    add.add_argument("--max-guests", type=int, help="colleagues each member may bring (default 0)")
    add.add_argument("--visibility", choices=get_args(Visibility), help="members (default) or open")
    add.add_argument(
        "--cancel-deadline-min",
        type=int,
        metavar="N",
        help="seats can be given back until N minutes before the start (default 0)",
    )
    add.add_argument("--description", help="what to expect")
    add.add_argument("--id", help="event id (default: a random ev-… id)")

    listing = add_command(group, "list", _list, "list events by start")
    listing.add_argument("--from", dest="since", metavar="DATE", help="first day (default today)")
    listing.add_argument(
        "--to", dest="until", metavar="DATE", help=f"last day (default {LIST_DAYS} days on)"
    )
    listing.add_argument("--all", action="store_true", help="include cancelled events")

    show = add_command(group, "show", _show, "show an event with its signups and waitlist")
    show.add_argument("id", metavar="ID", help="event id")

    cancel = add_command(group, "cancel", _cancel, "cancel an event (members are notified)")
    cancel.add_argument("id", metavar="ID", help="event id")

    signup = add_command(group, "signup", _signup, "sign a member up (or onto the waitlist)")
    signup.add_argument("id", metavar="ID", help="event id")
    signup.add_argument("member", metavar="MEMBER", help="member id")
    signup.add_argument("--guests", type=int, default=0, help="colleagues coming along")

    unsignup = add_command(group, "unsignup", _unsignup, "give a member's place back")
    unsignup.add_argument("id", metavar="ID", help="event id")
    unsignup.add_argument("member", metavar="MEMBER", help="member id")
    unsignup.add_argument(
        "--force", action="store_true", help="even after the cancellation deadline"
    )


def _add(admin: Admin, args: argparse.Namespace) -> int:
    given: dict[str, Any] = {
        "title": args.title,
        "description": args.description,
        "host_member_id": args.host,
        "zone_id": args.zone,
        "room_id": args.room,
        "starts_at": admin.moment(args.start, "--start"),
        "ends_at": admin.moment(args.end, "--end", end_of_day=True),
        "capacity": args.capacity,
        "max_guests": args.max_guests,
        "visibility": args.visibility,
        "cancel_deadline_min": args.cancel_deadline_min,
        "id": args.id,
    }
    data = build(EventIn, **{k: v for k, v in given.items() if v is not None})
    event = events.add(admin.store, data, actor=admin.actor, now=utcnow())
    print(event.id)
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    today = utcnow().astimezone(admin.zone).date().isoformat()
    since = admin.moment(args.since or today, "--from") or utcnow()
    until = admin.moment(args.until, "--to", end_of_day=True) or since + timedelta(days=LIST_DAYS)
    found = events.find(admin.store, since=since, until=until, include_cancelled=args.all)
    zone = admin.zone
    print_table(
        ("start", "end", "title", "place", "seats", "waiting", "status", "id"),
        (
            (
                show_time(e.starts_at, zone),
                show_time(e.ends_at, zone),
                e.title,
                e.place,
                f"{e.taken}/{e.capacity}",
                e.waitlisted,
                e.status,
                e.id,
            )
            for e in found
        ),
    )
    return 0


def _show(admin: Admin, args: argparse.Namespace) -> int:
    event = events.get(admin.store, args.id)
    zone = admin.zone
    fields = {
        "id": event.id,
        "title": event.title,
        "host": f"{event.host_first_name} ({event.host_member_id})",
        "place": f"{event.place} ({event.room_id or event.zone_id})",
        "starts": show_time(event.starts_at, zone),
        "ends": show_time(event.ends_at, zone),
        "seats": f"{event.taken} of {event.capacity} taken, {event.waitlisted} waiting",
        "guests": f"up to {event.max_guests} per member",
        "cancel until": show_time(event.cancel_until, zone),
        "visibility": event.visibility,
        "status": event.status,
        "description": event.description or None,
    }
    width = max(len(label) for label in fields) + 2
    for label, value in fields.items():
        print(f"{label + ':':<{width}}{'-' if value is None else value}")
    attendees = signups.of_event(admin.store, event.id)
    print("signups:" if attendees else "signups: none")
    if attendees:
        print_table(
            ("status", "place", "first name", "last name", "guests", "attended", "member"),
            (
                (
                    a.status,
                    a.position,
                    a.first_name,
                    a.last_name,
                    a.guests,
                    show_time(a.attended_at, zone),
                    a.member_id,
                )
                for a in attendees
            ),
        )
    invited = invitations.of_event(admin.store, event.id)
    if invited:
        print("invited:")
        print_table(("name", "email", "id"), ((i.name, i.email, i.id) for i in invited))
    return 0


def _cancel(admin: Admin, args: argparse.Namespace) -> int:
    event = events.cancel(admin.store, args.id, actor=admin.actor, now=utcnow())
    print(f"{event.title} ({event.id}) is cancelled; members who had a place are notified")
    return 0


def _signup(admin: Admin, args: argparse.Namespace) -> int:
    result = signups.sign_up(
        admin.store,
        args.id,
        args.member,
        guests=args.guests,
        actor=admin.actor,
        source="cli",
        now=utcnow(),
    )
    who, title = _names(admin, result.member_id, result.event_id)
    if result.status == "confirmed":
        print(f"{who} has a seat at {title}")
    else:
        print(f"{who} is on the waitlist for {title}, place {result.position}")
    return 0


def _unsignup(admin: Admin, args: argparse.Namespace) -> int:
    result = signups.cancel(
        admin.store, args.id, args.member, actor=admin.actor, now=utcnow(), force=args.force
    )
    who, title = _names(admin, result.member_id, result.event_id)
    print(f"{who} is no longer signed up for {title}")
    for member_id in result.promoted:
        print(f"{_names(admin, member_id, result.event_id)[0]} moved up from the waitlist")
    return 0


def _names(admin: Admin, member_id: str, event_id: str) -> tuple[str, str]:
    member = members.get(admin.store, member_id)
    event = events.get(admin.store, event_id)
    return f"{member.first_name} ({member.id})", f"{event.title} ({event.id})"
