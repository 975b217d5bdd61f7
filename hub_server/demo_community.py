"""The demo hub's community: a bookable room, the week's workshops, a sign-up, a booking, a guest.

Seeded at every ``hubtap demo`` start that finds no upcoming event, so a demo
folder reused days later still shows a week ahead. Times are local to the
demo's time zone and fall on the booking grid, so the rules of
:mod:`hub_server.bookings` and :mod:`hub_server.events` hold as they would
for an operator.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub_server import bookings, events, guests, places, signups
from hub_server.bookings import BookingIn
from hub_server.config import CommunitySection
from hub_server.events import EventIn
from hub_server.guests import GuestIn
from hub_server.models import RoomIn, build
from hub_server.store import Store

ACTOR = "demo"
ROOM = RoomIn(
    id="lookout",
    name="Lookout room",
    zone_id="campfire",
    capacity=8,
    hourly_rate_cents=25_000,
    out_of_hours_rate_cents=15_000,
)
"""The demo's conference room: 250.00 an office hour, 150.00 out of hours."""


@dataclass(frozen=True)
class Workshop:
    """A member-hosted event, ``day`` days from today at ``start`` local time."""

    title: str
    host: str
    day: int
    start: time
    hours: float
    capacity: int
    in_room: bool = False
    max_guests: int = 0


WEEK: tuple[Workshop, ...] = (
    Workshop("Map reading for beginners", "m-bjorn", 1, time(10), 2, 6, in_room=True),
    Workshop("Forest yoga", "m-sigrid", 1, time(17), 1.5, 10, max_guests=2),
    Workshop("Campfire stories", "m-astrid", 3, time(18), 2, 12, max_guests=1),
    Workshop("Knots and lashings", "m-bjorn", 5, time(14), 1, 8),
)


def seed_community(
    store: Store, community: CommunitySection, timezone: str, now: datetime
) -> list[str]:
    """Add the week's workshops and their traffic unless events are already coming up;
    the titles added (none when there were some)."""
    if events.upcoming(store, now, days=7):
        return []
    if not any(room.id == ROOM.id for room in places.rooms(store)):
        places.add_room(store, ROOM, ACTOR)
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()

    def at(days: int, clock: time) -> datetime:
        return datetime.combine(today + timedelta(days=days), clock, tzinfo=zone).astimezone(UTC)

    added = []
    for workshop in WEEK:
        starts_at = at(workshop.day, workshop.start)
        event = events.add(
            store,
            build(
                EventIn,
                title=workshop.title,
                host_member_id=workshop.host,
                zone_id=None if workshop.in_room else ROOM.zone_id,
                room_id=ROOM.id if workshop.in_room else None,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=workshop.hours),
                capacity=workshop.capacity,
                max_guests=workshop.max_guests,
                visibility="open",
            ),
            actor=ACTOR,
            now=now,
        )
        added.append(event.title)
        if workshop.title == "Forest yoga":
            signups.sign_up(
                store, event.id, "m-astrid", guests=1, actor=ACTOR, source="dashboard", now=now
            )
    booking = BookingIn(room_id=ROOM.id, member_id="m-astrid", starts_at=at(2, time(9)), minutes=90)
    bookings.book(
        store,
        booking,
        actor=ACTOR,
        source="dashboard",
        community=community,
        timezone=timezone,
        now=now,
    )
    guest = GuestIn(first_name="Åke", host_member_id="m-bjorn")
    guests.register(store, guest, actor=ACTOR, source="dashboard", timezone=timezone, now=now)
    return added
